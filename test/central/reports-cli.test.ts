// camgate central report, run as a user runs it (the installed launcher, bin/camgate.js, on the
// database a central filled through Mosquitto): the daily report's numbers as the API gives them,
// an XLSX to a file and to a pipe, the days without figures named with the way to get them and
// then measured with --measure; its refusals, and XLSX refused to a terminal.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Workbook } from 'exceljs';
import { main, type CentralCliIo } from '../../central/cli/main';
import type { Report } from '../../central/reports/assemble';
import { D2, EXPECTED, filledCentral, YUHANG } from '../kit/report-days';
import { tempDir } from '../kit/temp';

const BIN = resolve(__dirname, '../../../bin/camgate.js');

function camgate(args: string[]): Promise<{ code: number | null; out: Buffer; err: string }> {
  return new Promise((done) => {
    const child = spawn(process.execPath, [BIN, 'central', ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
    const out: Buffer[] = [];
    let err = '';
    child.stdout.on('data', (c: Buffer) => out.push(c));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('close', (code) => done({ code, out: Buffer.concat(out), err }));
  });
}

test('camgate central report: the numbers of the API, files and pipes, missing days named then measured, refusals', async (t) => {
  const central = await filledCentral(t);
  const apiDaily = (await central.get<Report>(`/api/reports/daily?day=${D2}&region=${encodeURIComponent(YUHANG)}`)).body;
  await central.stop();
  const db = central.config.db;
  const dir = tempDir(t);

  const daily = await camgate(['report', 'daily', '--day', D2, '--region', YUHANG, '--format', 'json', '--db', db]);
  assert.equal(daily.code, 0, daily.err);
  assert.equal(daily.err, '', 'every day of the period has figures: nothing to say');
  const report = JSON.parse(daily.out.toString()) as Report;
  assert.equal(report.summary.figure.onlineSeconds, EXPECTED.d2.online);
  assert.ok(Math.abs((report.summary.rates[0].deltaPoints ?? 0) - ((EXPECTED.d2.online - EXPECTED.d1.online) / EXPECTED.d2.counted) * 100) < 1e-9);
  assert.deepEqual(
    { ...report, generatedAt: null, notes: null },
    { ...apiDaily, generatedAt: null, notes: null },
    'the same report as the API gives (only when it was made differs)',
  );

  // A week that ended (for this machine's clock) whose last days the central never measured.
  const out = join(dir, 'week.xlsx');
  const week = await camgate(['report', 'weekly', '--day', D2, '--region', YUHANG, '--out', out, '--db', db]);
  assert.equal(week.code, 0, week.err);
  assert.equal(week.out.length, 0, 'the report went to the file');
  assert.match(week.err, /weekly report written to .*week\.xlsx \(xlsx, \d+ bytes\)/, 'the format follows the file name');
  assert.match(week.err, /5 day\(s\) of the period have no figures \(2026-11-25\.\.2026-11-29\).*Run camgate central on this database.*--measure/s);
  const book = new Workbook();
  await book.xlsx.load(readFileSync(out) as unknown as ArrayBuffer);
  assert.equal(book.worksheets.length, 6);
  assert.equal(book.getWorksheet('概况 Overview')!.getCell('B12').text, '2026-11-25..2026-11-29', 'the days missing, on the overview');

  const measured = await camgate(['report', 'weekly', '--day', D2, '--region', YUHANG, '--measure', '--db', db]);
  assert.equal(measured.code, 0, measured.err);
  assert.match(measured.err, /measured \d+ day\(s\)/);
  assert.doesNotMatch(measured.err, /have no figures/, 'measured now: no day is missing');
  assert.deepEqual([...measured.out.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'CSV by default, with its BOM');
  assert.match(measured.out.toString(), /【未达标点位 Cameras below their class's target】/);

  const piped = await camgate(['report', 'daily', '--day', D2, '--format', 'xlsx', '--db', db]);
  assert.equal(piped.code, 0, piped.err);
  assert.equal(piped.out.subarray(0, 2).toString(), 'PK', 'an XLSX (a zip) down a pipe');

  for (const [args, fragment] of [
    [['report', 'daily', '--day', '2026-13-01'], /camgate central: --day: "2026-13-01" is not a calendar day: write YYYY-MM-DD/],
    [['report', 'daily', '--region', '/浙江省'], /--region: a region does not start with '\/'/],
    [['report', 'yearly'], /'yearly' is invalid.*daily, weekly, monthly/],
    [['report', 'daily', '--format', 'pdf'], /'pdf' is invalid.*json, csv, xlsx, html/],
    [['report', 'daily', '--format', 'xlsx', '--out', join(dir, 'a.csv')], /ends in \.csv but --format is xlsx: make them agree/],
    [['report', 'daily', '--day', D2, '--out', join(dir, 'no', 'such', 'dir.csv')], /--out .*dir\.csv: cannot write it \(ENOENT\): check the folder exists/],
    [['report', 'monthly', '--day', '2099-01-01'], /--day: 2099-01-01 is in a period that has not begun/],
    [['report', 'daily', '--db', join(dir, 'typo.db')], /--db .*typo\.db: no such database: give the one camgate central runs with/],
  ] as const) {
    const run = await camgate((args as readonly string[]).includes('--db') ? [...args] : [...args, '--db', db]);
    assert.equal(run.code, 2, `${args.join(' ')}: ${run.err}`);
    assert.match(run.err, fragment, args.join(' '));
    assert.equal(run.out.length, 0, `${args.join(' ')} wrote nothing to stdout`);
  }
  assert.equal(existsSync(join(dir, 'a.csv')), false);
  assert.equal(existsSync(join(dir, 'typo.db')), false, 'no empty database made for a mistyped path');

  // XLSX to a terminal: refused before anything is read.
  let stderr = '';
  const terminal: CentralCliIo = {
    stdout: { write: () => assert.fail('nothing is written to the terminal') },
    stderr: { write: (s: string) => (stderr += s) },
    stdoutIsTTY: true,
    env: {},
    stderrIsTTY: true,
    stderrHasColors: false,
    stdinIsTTY: true,
    readStdinLine: () => Promise.resolve(''),
    promptSecret: () => Promise.resolve(''),
    waitForStop: () => new Promise(() => undefined),
  };
  assert.equal(await main(['report', 'daily', '--format', 'xlsx', '--db', db], terminal), 2);
  assert.match(stderr, /an XLSX report is a binary file, not for a terminal: write it with --out FILE\.xlsx/);
});
