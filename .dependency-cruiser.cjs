// Module boundaries (docs/architecture.md), checked in CI by `npm run lint:deps`.
// Arrows run one way: lib at the bottom; contract and drivers on it; in the agent, its core
// (config, inventory, credentials, labels, the ffmpeg supervisor), then the features (discovery,
// health, video, uplink), then the faces that serve them to the outside (MQTT commands, the web
// page), and the composition root and CLI on top. The agent and the central never import each
// other; box/ (the all-in-one program) composes both. Production code never imports tests or
// scripts, except that the box ships the camera simulator for its demo.

const FEATURES = 'agent/(discovery|health|video|uplink)/';
const CORE = 'agent/(config|inventory|credentials|labels|ffmpeg)/';
const FACES = 'agent/(commands|web)/';
const TOP = 'agent/(agent\\.ts|cli/)';

module.exports = {
  forbidden: [
    { name: 'no-cycles', severity: 'error', comment: 'A cycle has no bottom: split the shared part out.', from: {}, to: { circular: true } },
    {
      name: 'lib-is-the-bottom',
      severity: 'error',
      comment: 'lib/ is shared by every program: it imports nothing of the project but itself.',
      from: { path: '^lib/' },
      to: { path: '^(contract|drivers|agent|central|scripts|test)/' },
    },
    {
      name: 'contract-stands-alone',
      severity: 'error',
      comment: 'The MQTT contract is what agent and central share: it imports nothing of theirs.',
      from: { path: '^contract/' },
      to: { path: '^(drivers|agent|central|scripts|test)/' },
    },
    {
      name: 'drivers-at-the-bottom',
      severity: 'error',
      comment: 'Device access knows nothing of what uses it.',
      from: { path: '^drivers/' },
      to: { path: '^(contract|agent|central|scripts|test)/' },
    },
    {
      name: 'agent-not-central',
      severity: 'error',
      comment: 'The agent and the central meet only through contract/.',
      from: { path: '^agent/' },
      to: { path: '^central/' },
    },
    {
      name: 'central-not-agent',
      severity: 'error',
      comment: 'The agent and the central meet only through contract/.',
      from: { path: '^central/' },
      to: { path: '^agent/' },
    },
    {
      name: 'production-not-tests',
      severity: 'error',
      comment: 'What ships never imports tests, benchmarks or the simulator.',
      from: { path: '^(lib|contract|drivers|agent|central)/' },
      to: { path: '^(test|scripts)/' },
    },
    {
      name: 'box-on-top',
      severity: 'error',
      comment: 'box/ (the all-in-one program) composes the agent and the central: nothing ships that imports it.',
      from: { path: '^(lib|contract|drivers|agent|central|scripts)/' },
      to: { path: '^box/' },
    },
    {
      name: 'box-ships-only-the-simulator',
      severity: 'error',
      comment: 'The box ships the camera simulator for --demo, and nothing else of scripts/ or test/.',
      from: { path: '^box/' },
      to: { path: '^(test/|scripts/(?!sim/))' },
    },
    {
      name: 'scripts-not-tests',
      severity: 'error',
      comment: 'Benchmarks and the simulator do not import tests; shared peers live in scripts/.',
      from: { path: '^scripts/' },
      to: { path: '^test/' },
    },
    {
      name: 'core-below-features',
      severity: 'error',
      comment: "The agent's core (config, inventory, credentials, labels, ffmpeg) is below its features.",
      from: { path: `^${CORE}` },
      to: { path: `^(${FEATURES}|${FACES}|${TOP})` },
    },
    {
      name: 'features-apart',
      severity: 'error',
      comment: 'A feature does not import another feature: what two share belongs to the core or lib; the composition root wires them.',
      from: { path: '^agent/(discovery|health|video|uplink)/' },
      to: { path: `^${FEATURES}`, pathNot: '^agent/$1/' },
    },
    {
      name: 'features-below-faces',
      severity: 'error',
      comment: 'Features do not import the faces that serve them (commands, web) nor the top.',
      from: { path: `^${FEATURES}` },
      to: { path: `^(${FACES}|${TOP})` },
    },
    {
      name: 'faces-below-top',
      severity: 'error',
      comment: 'The MQTT commands and the web page do not import the composition root or the CLI.',
      from: { path: `^${FACES}` },
      to: { path: `^${TOP}` },
    },
    {
      name: 'dashboard-stands-alone',
      severity: 'error',
      comment: 'The dashboard is browser code bundled by Vite: it reaches the central through its HTTP API only.',
      from: { path: '^central/dashboard/' },
      // The exceptions, files that import nothing: the cause names' table, so that the dashboard
      // names a fault as the reports do, and the trend's length, which the central pools ahead.
      to: {
        path: '^(lib|contract|drivers|agent|central|box|scripts|test)/',
        pathNot: '^(central/dashboard/|central/reports/cause-names\\.ts$|central/figures/trend\\.ts$)',
      },
    },
    {
      name: 'server-not-dashboard',
      severity: 'error',
      comment: 'The central serves the built dashboard (dist/dashboard) as files; no server code imports its sources.',
      from: { path: '^(lib|contract|drivers|agent|central|box|scripts)/', pathNot: '^central/dashboard/' },
      to: { path: '^central/dashboard/' },
    },
    {
      name: 'agent-top-level-files',
      severity: 'error',
      comment: 'agent/ holds folders, plus agent.ts (the composition root).',
      from: { path: '^agent/[^/]+\\.ts$', pathNot: '^agent/agent\\.ts$' },
      to: {},
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    exclude: { path: '^(dist|node_modules)/' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
    moduleSystems: ['cjs', 'es6'],
  },
};
