import { test } from 'node:test';
import assert from 'node:assert/strict';
import { DEFAULT_DIAGNOSIS_THRESHOLDS } from '../../agent/health/picture/diagnose';
import { readFileSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { closest, coerceString, configSchemaDocument, envForPath, flagForPath, getPath, type FlagValue, type SchemaNode } from '../../lib/config';
import { defaultsLayer } from '../../lib/config/layers';
import { agentConfig } from '../../agent/config/spec';
import { ConfigError } from '../../lib/errors';
import { tempDir } from '../kit/temp';
import { PLANTED } from '../kit/secrets';

const key = (path: string) => {
  const k = agentConfig.keys.find((x) => x.path === path);
  assert.ok(k, `no key ${path}`);
  return k;
};
const flag = (path: string, raw: string | string[], name?: string): FlagValue => ({ key: key(path), raw, flag: name ?? key(path).flag });

function configError(fn: () => unknown): string[] {
  try {
    fn();
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected ConfigError, got ${err}`);
    return err.issues;
  }
  assert.fail('expected a config error');
}

test('flag and environment names are generated from key paths', () => {
  assert.equal(flagForPath(['discovery', 'timeoutMs']), '--discovery.timeout-ms');
  assert.equal(envForPath(['discovery', 'timeoutMs'], 'CAMGATE_'), 'CAMGATE_DISCOVERY_TIMEOUT_MS');
  assert.equal(key('dataDir').flag, '--data-dir');
  assert.equal(key('dataDir').env, 'CAMGATE_DATA_DIR');
  assert.equal(key('site.id').flagAlias, '--site');
  assert.equal(key('broker.urls').flagAlias, '--broker');
  assert.equal(key('cameras.password').envAlias, 'CAMGATE_PASSWORD');
  assert.equal(key('log.level').flagAlias, '--log-level');
  // Names must be unique, or one variable would set two keys.
  const envs = agentConfig.keys.flatMap((k) => [k.env, k.envAlias].filter(Boolean));
  assert.equal(new Set(envs).size, envs.length);
});

test('the schema has every required key, each documented', () => {
  const paths = agentConfig.keys.map((k) => k.path);
  for (const p of [
    'site.id',
    'site.name',
    'dataDir',
    'broker.urls',
    'broker.username',
    'broker.password',
    'broker.ca',
    'broker.cert',
    'broker.key',
    'cameras.username',
    'cameras.password',
    'discovery.timeoutMs',
    'discovery.overallTimeoutMs',
    'discovery.ranges',
    'discovery.multicast',
    'discovery.interfaces',
    'discovery.concurrency',
    'onvif.timeoutMs',
    'log.level',
  ]) {
    assert.ok(paths.includes(p), `missing key ${p}`);
  }
  for (const k of agentConfig.keys) assert.ok(k.description.length > 10, `${k.path} has no description`);
  assert.ok(key('broker.password').secret && key('cameras.password').secret);
});

test('defaults match the brief', () => {
  const { config } = agentConfig.load({ env: {} });
  assert.equal(config.discovery.timeoutMs, 5000);
  assert.equal(config.discovery.overallTimeoutMs, 30000); // discover --timeout: probe (≤ half) + identification
  assert.equal(config.discovery.multicast, true);
  assert.equal(config.discovery.concurrency, 32);
  assert.equal(config.onvif.timeoutMs, 5000);
  assert.equal(config.dataDir, './data');
  assert.equal(config.log.level, 'info');
  assert.deepEqual(config.discovery.ranges, []);
  assert.deepEqual(config.broker.urls, []);
  // Every object exists even when empty, so code can read config.site.id safely.
  assert.deepEqual(Object.keys(defaultsLayer(agentConfig.keys).values).sort(), [
    'broker',
    'cameras',
    'dataDir',
    'discovery',
    'health',
    'log',
    'onvif',
    'site',
    'uplink',
    'video',
    'web',
  ]);
  // Video: the live view on this box only, relays within a 20 Mbit/s budget.
  assert.equal(config.web.host, '127.0.0.1');
  assert.equal(config.web.port, 8088);
  assert.equal(config.web.password, undefined);
  assert.equal(config.video.relay.budgetKbps, 20000);
  assert.equal(config.video.relay.maxRelays, 16);
  assert.equal(config.video.stallTimeoutSec, 10);
  // Health: reachability every 30 s, a picture every 10 min, clock sync off.
  assert.equal(config.health.reachIntervalSec, 30);
  assert.equal(config.health.pictureIntervalSec, 600);
  assert.equal(config.health.picture.source, 'auto');
  assert.equal(config.health.picture.thumbnailMaxBytes, 20480);
  assert.equal(config.health.clock.autoSync, false);
  assert.equal(config.health.picture.ffmpegPath, undefined);
  // The schema's diagnosis defaults are the diagnosis' own (one source of truth for tuning).
  assert.deepEqual(config.health.diagnosis, { ...DEFAULT_DIAGNOSIS_THRESHOLDS });
});

test('precedence: defaults < file < environment < flags, with sources', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'camgate.yaml');
  writeFileSync(file, 'site:\n  id: from-file\n  name: File Site\ndiscovery:\n  timeoutMs: 1000\n  concurrency: 4\nonvif:\n  timeoutMs: 3000\n');
  const env = { CAMGATE_DISCOVERY_TIMEOUT_MS: '2000', CAMGATE_DISCOVERY_CONCURRENCY: '8' };
  const loaded = agentConfig.load({ file, env, flags: [flag('discovery.timeoutMs', '3000')] });
  assert.equal(loaded.config.site.id, 'from-file');
  assert.equal(loaded.config.onvif.timeoutMs, 3000); // file over default
  assert.equal(loaded.config.discovery.concurrency, 8); // env over file
  assert.equal(loaded.config.discovery.timeoutMs, 3000); // flag over env
  assert.equal(loaded.config.log.level, 'info'); // default
  assert.deepEqual(loaded.sources.get('discovery.timeoutMs'), { kind: 'flag', name: '--discovery.timeout-ms' });
  assert.deepEqual(loaded.sources.get('discovery.concurrency'), { kind: 'env', name: 'CAMGATE_DISCOVERY_CONCURRENCY' });
  assert.deepEqual(loaded.sources.get('onvif.timeoutMs'), { kind: 'file', file, line: 8 });
});

test('environment and flag strings are typed by the schema; lists split on commas', () => {
  const { config } = agentConfig.load({
    env: { CAMGATE_DISCOVERY_MULTICAST: 'false', CAMGATE_DISCOVERY_RANGES: '10.0.0.0/24, 10.0.1.5-10.0.1.9', CAMGATE_SITE_ID: 'v1' },
    flags: [flag('broker.urls', ['mqtt://a:1883', 'mqtts://b:8883,mqtt://c'], '--broker'), flag('discovery.interfaces', ['eth0'])],
  });
  assert.equal(config.discovery.multicast, false);
  assert.deepEqual(config.discovery.ranges, ['10.0.0.0/24', '10.0.1.5-10.0.1.9']);
  assert.deepEqual(config.broker.urls, ['mqtt://a:1883', 'mqtts://b:8883', 'mqtt://c']);
  assert.deepEqual(config.discovery.interfaces, ['eth0']);
  assert.equal(coerceString(key('discovery.timeoutMs'), '12x'), '12x'); // left for validation to report
});

test('aliases: CAMGATE_PASSWORD and --site; the specific name wins over the alias', () => {
  const a = agentConfig.load({ env: { CAMGATE_PASSWORD: 'alias-pw' }, flags: [flag('site.id', 'v7', '--site')] });
  assert.equal(a.config.cameras.password, 'alias-pw');
  assert.equal(a.config.site.id, 'v7');
  const b = agentConfig.load({ env: { CAMGATE_PASSWORD: 'alias-pw', CAMGATE_CAMERAS_PASSWORD: 'specific-pw' } });
  assert.equal(b.config.cameras.password, 'specific-pw');
});

test('a bad value names the key, the value, where it came from and what is expected', () => {
  const issues = configError(() => agentConfig.load({ env: { CAMGATE_DISCOVERY_TIMEOUT_MS: 'abc' } }));
  assert.equal(issues.length, 1);
  assert.match(issues[0], /^discovery\.timeoutMs = "abc" \(env CAMGATE_DISCOVERY_TIMEOUT_MS\): expected an integer ≥ 100/);
  const err = (() => {
    try {
      agentConfig.load({ env: { CAMGATE_DISCOVERY_TIMEOUT_MS: 'abc' } });
    } catch (e) {
      return e as Error;
    }
  })();
  assert.match(String(err?.message), /^config error: discovery\.timeoutMs = "abc"/);
});

test('all problems are reported at once, with file lines and "did you mean"', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'site:\n  id: ok\ndiscovery:\n  timeoutMS: 5\n  concurrency: 0\nlog:\n  level: loud\nbroker:\n  urls: [ftp://x]\ntimeoutMs: 3\n');
  const issues = configError(() => agentConfig.load({ file, env: {} }));
  const text = issues.join('\n');
  assert.match(text, new RegExp(`discovery\\.timeoutMS \\(${file.replace(/[.]/g, '\\.')}:4\\): unknown key; did you mean discovery\\.timeoutMs\\?`));
  assert.match(text, /discovery\.concurrency = 0 \(.*:5\): expected an integer ≥ 1/);
  assert.match(text, /log\.level = "loud" \(.*:7\): expected one of fatal, error, warn, info, debug, trace, silent/);
  assert.match(text, /broker\.urls\[0\] = "ftp:\/\/x" .*expected a broker URL/);
  assert.match(text, /timeoutMs \(.*:10\): unknown key; did you mean (discovery|onvif)\.timeoutMs\?/);
  assert.equal(issues.length, 5);
});

test('secrets are masked in errors; unquoted numeric passwords get a hint', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'c.yaml');
  writeFileSync(file, 'cameras:\n  password: 0123456789\n');
  const issues = configError(() => agentConfig.load({ file, env: {} }));
  assert.equal(issues.length, 1);
  assert.match(issues[0], /^cameras\.password = \*\*\* .*expected a string \(put it in quotes in the YAML file\)/);
  assert.ok(!issues[0].includes('123456789'));
});

test('YAML syntax errors and missing files are config errors with a location', (t) => {
  const dir = tempDir(t);
  const file = join(dir, 'bad.yaml');
  writeFileSync(file, 'site:\n  id: a\n    name: b\n');
  const issues = configError(() => agentConfig.load({ file, env: {} }));
  assert.match(issues[0], new RegExp(`${file.replace(/[.]/g, '\\.')}:\\d+: `));
  const missing = configError(() => agentConfig.load({ file: join(dir, 'nope.yaml'), env: {} }));
  assert.match(missing[0], /cannot read config file .*nope\.yaml: no such file/);
});

test('unknown CAMGATE_* variables are warnings with a suggestion, not errors', () => {
  const loaded = agentConfig.load({ env: { CAMGATE_DISCOVERY_TIMEOUT: '100', CAMGATE_SECRET_KEY: 'x' } });
  assert.equal(loaded.warnings.length, 1);
  assert.match(loaded.warnings[0], /CAMGATE_DISCOVERY_TIMEOUT ignored \(did you mean CAMGATE_DISCOVERY_TIMEOUT_MS\?\)/);
});

test('config show masking hides every secret', () => {
  const { config } = agentConfig.load({ env: { CAMGATE_PASSWORD: PLANTED, CAMGATE_BROKER_PASSWORD: PLANTED } });
  assert.ok(!JSON.stringify(agentConfig.masked(config)).includes(PLANTED));
  assert.equal(config.cameras.password, PLANTED); // the real value is untouched
});

test('the example config validates and mentions every key', () => {
  const example = resolve(__dirname, '../../../config/camgate.example.yaml');
  const loaded = agentConfig.load({ file: example, env: {} });
  assert.equal(loaded.config.site.id, 'zj-hz-xh-zt-v012');
  const text = readFileSync(example, 'utf8');
  for (const k of agentConfig.keys) assert.ok(text.includes(`${k.segments[k.segments.length - 1]}:`), `example lacks ${k.path}`);
});

test('closest() suggests near misses only', () => {
  assert.equal(closest('discovery.timeout', ['discovery.timeoutMs', 'onvif.timeoutMs']), 'discovery.timeoutMs');
  assert.equal(closest('zzzzzz', ['discovery.timeoutMs']), undefined);
});

test('config/schema.json is the agent schema as a file may be written (npm run config:schema writes it)', () => {
  const onDisk = readFileSync(resolve(__dirname, '../../../config/schema.json'), 'utf8');
  assert.equal(onDisk, configSchemaDocument(agentConfig), 'config/schema.json differs from agent/config/schema.ts: run npm run config:schema');
  assert.doesNotMatch(onDisk, /"required"/, 'a file may leave out any key');
});

test('every key the type says is always there has a default (so the type cannot promise what loading does not give)', () => {
  const walk = (node: SchemaNode, path: string[]): void => {
    for (const [name, child] of Object.entries(node.properties ?? {})) {
      const required = (node.required ?? []).includes(name);
      const where = [...path, name].join('.');
      if (child.type === 'object') {
        assert.ok(required, `${where}: an object is always present after loading; the schema must not mark it optional`);
        walk(child, [...path, name]);
      } else {
        assert.equal(required, child.default !== undefined, `${where}: required in the type exactly when it has a default`);
      }
    }
  };
  walk(agentConfig.schema, []);
  // And loading with nothing given yields every such key.
  const { config } = agentConfig.load({ env: {} });
  for (const k of agentConfig.keys) {
    if (k.default !== undefined) assert.notEqual(getPath(config, k.segments), undefined, k.path);
  }
});
