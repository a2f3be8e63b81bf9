import { test } from 'node:test';
import assert from 'node:assert/strict';
import { detectFormat, exportCsv, exportYaml, parseCsvLabels, parseLabelFile, parseYamlLabels } from '../../agent/labels/files';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { applyLabelUpdates, listCameras } from '../../agent/inventory/cameras';
import { planImport } from '../../agent/labels/validate';
import { labelsOf } from '../../agent/labels/merge';
import type { Database } from 'better-sqlite3';
import { tempDir } from '../kit/temp';
import { channel, report } from '../kit/reports';

function snapshot(db: Database): string {
  return JSON.stringify([db.prepare('SELECT * FROM cameras ORDER BY id').all(), db.prepare('SELECT * FROM devices ORDER BY id').all()]);
}

function importText(db: Database, text: string, name: string): string[] {
  const parsed = parseLabelFile(text, name);
  assert.deepEqual(parsed.problems, []);
  const plan = planImport(
    parsed.rows,
    listCameras(db).map((c) => ({ id: c.id, labels: labelsOf(c) })),
  );
  assert.deepEqual(plan.problems, []);
  return applyLabelUpdates(db, plan.updates, new Date('2030-01-01T00:00:00Z'));
}

function ledger(t: { after(fn: () => void): void }): Database {
  const db = openDatabase(tempDir(t));
  t.after(() => db.close());
  const now = new Date('2025-01-01T00:00:00Z');
  const a = upsertDeviceReport(db, report({ host: '10.0.0.5' }), { now });
  const nvrHost = '10.0.0.9';
  const nvr = upsertDeviceReport(
    db,
    report({
      host: nvrHost,
      endpointUuid: 'urn:uuid:nvr',
      identity: { manufacturer: 'Acme', model: 'NVR-4', firmware: '2.0', serial: 'NVR1' },
      isNvr: true,
      channels: [1, 2, 3].map((n) => channel(n, nvrHost)),
    }),
    { now },
  );
  // Labels chosen to trip up files: commas, quotes, newlines, number-like and id-like text, CJK, negative zero-ish values.
  applyLabelUpdates(
    db,
    [
      {
        id: a.cameras[0].id,
        patch: {
          name: '村口, "北" 向',
          class: 1,
          latitude: -33.8688,
          longitude: 151.2093,
          region: '浙江省/杭州市/西湖区/转塘街道/长坞村',
          owner: 'police',
          notes: 'line one\nline two: yes',
          installDate: '2024-05-01',
        },
      },
      { id: nvr.cameras[0].id, patch: { name: '007', class: 3, latitude: 0, longitude: 120.1, region: 'Zhejiang//Xihu', owner: 'true', notes: '=1+2' } },
      { id: nvr.cameras[1].id, patch: { name: 'null', notes: '# not a comment' } },
    ],
    now,
  );
  return db;
}

for (const format of ['csv', 'yaml'] as const) {
  test(`${format}: export → import changes nothing, and exports again identically`, (t) => {
    const db = ledger(t);
    const before = snapshot(db);
    const cameras = listCameras(db);
    const text = format === 'csv' ? exportCsv(cameras) : exportYaml(cameras, 'test');
    const changed = importText(db, text, `labels.${format}`);
    assert.deepEqual(changed, []);
    assert.equal(snapshot(db), before);
    const again = format === 'csv' ? exportCsv(listCameras(db)) : exportYaml(listCameras(db), 'test');
    assert.equal(again, text);
  });

  test(`${format}: an edited file applies exactly the edits`, (t) => {
    const db = ledger(t);
    const cameras = listCameras(db);
    const target = cameras.find((c) => c.name === null)!;
    let text = format === 'csv' ? exportCsv(cameras) : exportYaml(cameras);
    if (format === 'csv') {
      text = text.replace(new RegExp(`^${target.id},,,,,,,,`, 'm'), `${target.id},Back gate,2,30.1,120.2,Zhejiang,school,,2023-1-9`);
    } else {
      const block = new RegExp(`(- id: ${target.id}\\n    name:) null\\n    class: null\\n    latitude: null\\n    longitude: null`);
      assert.match(text, block);
      text = text.replace(block, '$1 Back gate\n    class: 2\n    latitude: 30.1\n    longitude: 120.2');
    }
    const changed = importText(db, text, `x.${format}`);
    assert.deepEqual(changed, [target.id]);
    const after = listCameras(db).find((c) => c.id === target.id)!;
    assert.equal(after.name, 'Back gate');
    assert.equal(after.class, 2);
    assert.equal(after.latitude, 30.1);
    if (format === 'csv') assert.equal(after.installDate, '2023-01-09');
  });
}

test('csv: line numbers count quoted newlines and blank lines; BOM and CRLF are fine', () => {
  const text = '\uFEFFid,name,notes\r\ncam-a,A,"two\r\nlines"\r\n\r\ncam-b,B,x\r\n';
  const parsed = parseCsvLabels(text);
  assert.deepEqual(parsed.problems, []);
  assert.deepEqual(
    parsed.rows.map((r) => [r.line, r.id]),
    [
      [2, 'cam-a'],
      [5, 'cam-b'],
    ],
  );
  assert.equal(parsed.rows[0].values.notes, 'two\r\nlines');
  const lf = parseCsvLabels('id,name\n\ncam-a,"x\n\ny"\ncam-b,"say ""hi"""\n');
  assert.deepEqual(
    lf.rows.map((r) => r.line),
    [3, 6],
  );
  assert.equal(lf.rows[1].values.name, 'say "hi"');
});

test('csv: unknown and duplicate columns, missing id, extra cells, broken quotes', () => {
  const a = parseCsvLabels('id,nmae,lattitude\ncam-a,x,1\n');
  assert.match(a.problems.join('\n'), /unknown column "nmae"; did you mean name\?/);
  assert.match(a.problems.join('\n'), /unknown column "lattitude"; did you mean latitude\?/);
  assert.match(parseCsvLabels('name,name\nx,y\n').problems.join('\n'), /column "name" appears twice[\s\S]*no "id" column/);
  assert.match(parseCsvLabels('id,name\ncam-a,x,extra\n').problems[0], /line 2: has 3 cells but the header has 2 columns/);
  assert.match(parseCsvLabels('id,name\ncam-a,"open\n').problems[0], /^line \d+: /);
});

test('yaml: scalars keep the text people typed; unknown keys are reported by line', () => {
  const parsed = parseYamlLabels('cameras:\n  - id: cam-a\n    name: 007\n    latitude: 30.10\n    notes:\n  - id: cam-b\n    lattitude: 1\n');
  assert.equal(parsed.rows[0].values.name, '007');
  assert.equal(parsed.rows[0].values.latitude, '30.10');
  assert.equal(parsed.rows[0].values.notes, null);
  assert.equal(parsed.rows[0].line, 2);
  assert.match(parsed.problems[0], /line 7: unknown column "lattitude"; did you mean latitude\?/);
  assert.match(parseYamlLabels('just text').problems[0], /expected a list of cameras/);
});

test('format detection: extension first, then content', () => {
  assert.equal(detectFormat('id,name', 'a.CSV'), 'csv');
  assert.equal(detectFormat('cameras:', 'a.yml'), 'yaml');
  assert.equal(detectFormat('# comment\ncameras:\n  - id: x'), 'yaml');
  assert.equal(detectFormat('- id: x'), 'yaml');
  assert.equal(detectFormat('id,name\nx,y'), 'csv');
});
