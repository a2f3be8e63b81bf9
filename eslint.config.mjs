// Lint: typescript-eslint's recommended rules with type information, for the code that ships and
// the code that tests it. Formatting is prettier's (eslint-config-prettier turns off what clashes).
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import prettier from 'eslint-config-prettier';
import regexp from 'eslint-plugin-regexp';
import vue from 'eslint-plugin-vue';

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'agent/web/static/**', '**/*.js', '**/*.mjs', '**/*.cjs'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      // node:test's test()/describe()/it() return promises the runner itself awaits.
      '@typescript-eslint/no-floating-promises': [
        'error',
        {
          allowForKnownSafeCalls: [
            { from: 'package', package: 'node:test', name: ['test', 'it', 'describe', 'suite', 'before', 'after', 'beforeEach', 'afterEach'] },
          ],
        },
      ],
      // A variable assigned once after closures that read it were made cannot be const.
      'prefer-const': ['error', { ignoreReadBeforeAssign: true }],
      // An async function that implements a promise-returning interface need not await.
      '@typescript-eslint/require-await': 'off',
      // Interfaces here declare their functions as methods and callers pass them on (outbox.read);
      // none of them uses `this`.
      '@typescript-eslint/unbound-method': 'off',
      // An AbortSignal's reason is what aborting passes on, Error or not.
      '@typescript-eslint/prefer-promise-reject-errors': ['error', { allowThrowingUnknown: true, allowThrowingAny: true }],
      // Sanitising device text and topic levels means matching control characters on purpose.
      'no-control-regex': 'off',
      // Heavy optional modules are loaded on first use (memory on a small box): a synchronous require.
      '@typescript-eslint/no-require-imports': [
        'error',
        {
          allow: [
            '^onvif(/lib/(cam|utils))?$',
            '^pino-pretty$',
            '^systeminformation$',
            '^xml2js$',
            '^ffmpeg-static$',
            '^yaml$',
            '^csv-(parse|stringify)/sync$',
            '^cli-table3$',
            '^ajv-formats$',
          ],
        },
      ],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', caughtErrors: 'none' }],
    },
  },
  {
    // Tests, benchmarks and the simulator read what peers answer (JSON, XML) as untyped values
    // and interpolate them into messages; the shipped code may not.
    files: ['test/**/*.ts', 'scripts/**/*.ts'],
    rules: {
      '@typescript-eslint/no-unsafe-member-access': 'off',
      '@typescript-eslint/no-unsafe-assignment': 'off',
      '@typescript-eslint/no-unsafe-call': 'off',
      '@typescript-eslint/no-unsafe-argument': 'off',
      '@typescript-eslint/no-unsafe-return': 'off',
      '@typescript-eslint/restrict-template-expressions': 'off',
    },
  },
  {
    // Regular expressions in the code that ships read outside text (device answers, files, MQTT
    // payloads): none may backtrack super-linearly, whatever the input (docs/security.md).
    files: ['lib/**/*.ts', 'contract/**/*.ts', 'drivers/**/*.ts', 'agent/**/*.ts', 'central/**/*.ts'],
    ...regexp.configs['flat/recommended'],
    rules: {
      ...regexp.configs['flat/recommended'].rules,
      'regexp/no-super-linear-backtracking': ['error', { report: 'potential' }],
      'regexp/no-super-linear-move': ['error', { report: 'potential', ignoreSticky: false }],
      // The plugin's recommended set turns this core rule back on; see the note above.
      'no-control-regex': 'off',
    },
  },
  // The dashboard's single-file components: Vue's recommended rules, TypeScript in <script setup>
  // parsed but not type-aware here (vue-tsc type-checks them in npm run build:dashboard).
  ...vue.configs['flat/recommended'].map((c) => ({ ...c, files: ['central/dashboard/**/*.vue'] })),
  {
    files: ['central/dashboard/**/*.vue'],
    ...tseslint.configs.disableTypeChecked,
    languageOptions: {
      parserOptions: { parser: tseslint.parser, extraFileExtensions: ['.vue'], sourceType: 'module', projectService: false, project: false },
    },
    rules: {
      ...tseslint.configs.disableTypeChecked.rules,
      // TypeScript (vue-tsc) knows the browser's globals.
      'no-undef': 'off',
    },
  },
  prettier,
);
