// The central's configuration: its published schema file, its variables, and the errors a bad
// value gets (the loader is the agent's, lib/config; these check the central's schema through it).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { centralConfig } from '../../central/config/spec';
import { configSchemaDocument } from '../../lib/config';
import { ConfigError } from '../../lib/errors';

test('config/central-schema.json is the central schema as a file may be written (npm run config:schema writes it)', () => {
  const onDisk = readFileSync(resolve(__dirname, '../../../config/central-schema.json'), 'utf8');
  assert.equal(onDisk, configSchemaDocument(centralConfig), 'config/central-schema.json differs from central/config/schema.ts: run npm run config:schema');
});

test('defaults: SQLite beside the process, the API on loopback, the programme’s targets', () => {
  const { config } = centralConfig.load({ env: {} });
  assert.equal(config.db, './central.db');
  assert.equal(config.http.host, '127.0.0.1');
  assert.equal(config.staleAfterSec, 180);
  assert.equal(config.timezone, 'Asia/Shanghai');
  assert.deepEqual(config.targets.online, { class1: 98, class2: 95 });
  assert.deepEqual(config.targets.intact, { class1: 98, class2: 95 });
  assert.deepEqual(config.targets.geoLabelled, { class1: 100 });
});

test('CAMGATE_CENTRAL_* variables set keys; the agent’s CAMGATE_* do not leak in; bad values name the key', () => {
  const { config } = centralConfig.load({
    env: { CAMGATE_CENTRAL_DB: 'postgres://db/camgate', CAMGATE_CENTRAL_TARGETS_ONLINE_CLASS3: '90', CAMGATE_SITE_ID: 'x' },
  });
  assert.equal(config.db, 'postgres://db/camgate');
  assert.equal(config.targets.online.class3, 90);
  assert.throws(
    () => centralConfig.load({ env: { CAMGATE_CENTRAL_TARGETS_ONLINE_CLASS1: '120' } }),
    (err: unknown) => err instanceof ConfigError && /targets\.online\.class1/.test(err.message) && /CAMGATE_CENTRAL_TARGETS_ONLINE_CLASS1/.test(err.message),
  );
  assert.throws(
    () => centralConfig.load({ env: { CAMGATE_CENTRAL_BROKER_URLS: 'http://broker' } }),
    (err: unknown) => err instanceof ConfigError && /broker\.urls/.test(err.message) && /mqtt:\/\/host:1883/.test(err.message),
  );
});

test('media servers come from the config file: a list of servers with push and play templates', (t) => {
  const dir = mkdtempSync(join(tmpdir(), 'camgate-central-media-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const file = join(dir, 'central.yaml');
  writeFileSync(
    file,
    [
      'media:',
      '  transcode: h264-720p',
      '  servers:',
      '    - name: county',
      '      regions: [浙江省/杭州市]',
      '      push: rtmp://media.county:1935/live/{key}',
      '      play: { hls: "http://media.county:8080/hls/{key}.m3u8" }',
      '',
    ].join('\n'),
  );
  const { config } = centralConfig.load({ file, env: {} });
  assert.equal(config.media.transcode, 'h264-720p');
  assert.equal(config.media.leaseSec, 60);
  assert.deepEqual(config.media.servers, [
    { name: 'county', regions: ['浙江省/杭州市'], push: 'rtmp://media.county:1935/live/{key}', play: { hls: 'http://media.county:8080/hls/{key}.m3u8' } },
  ]);
  writeFileSync(file, ['media:', '  servers:', '    - name: county', '      push: rtmp://media.county/live/{key}', '      play: {}', ''].join('\n'));
  assert.throws(
    () => centralConfig.load({ file, env: {} }),
    (err: unknown) => err instanceof ConfigError && /media\.servers/.test(err.message),
  );
});
