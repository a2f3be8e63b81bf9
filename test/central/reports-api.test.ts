// The reports through the whole central, on SQLite and on PostgreSQL: three days of three
// simulated sites (test/kit/report-days.ts) published to a real Mosquitto, taken in, measured, and
// asked for over HTTP — the daily report against the numbers computed by hand from what the
// cameras were made to do, its change on the day before, the weekly bulletin of a week not over,
// the monthly analysis without a previous month; each format fetched and read back (the CSV
// parsed, the XLSX opened with exceljs, the HTML page rendered, screenshotted and printed by
// headless Chromium); the caller's scope; the refusals.
import { test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { request as httpRequest } from 'node:http';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse as parseCsv } from 'csv-parse/sync';
import { Workbook } from 'exceljs';
import { startChromium } from '../../scripts/peers/chromium';
import { systemClock } from '../../lib/clock';
import { createUser } from '../../central/auth/users';
import type { Report } from '../../central/reports/assemble';
import type { TestCentral } from '../kit/central';
import { testDatabase } from '../kit/postgres';
import { at, CANGQIAN, D1, D2, D3, EXPECTED, filledCentral, LIANGZHU, LINPING, NOW, YUHANG } from '../kit/report-days';

// Browser-side code below runs in the page (page.evaluate); this project compiles without the DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;

function near(actual: number | null | undefined, expected: number, what: string): void {
  assert.ok(actual !== null && actual !== undefined && Math.abs(actual - expected) < 1e-9, `${what}: ${actual} ≠ ${expected}`);
}

/** A raw GET with the admin's session: the body as bytes, whatever its type. */
function fetchRaw(central: TestCentral, path: string): Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, central.url), { headers: { cookie: central.as?.options.cookie ?? '' } }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body: Buffer.concat(chunks) }));
    });
    req.on('error', reject);
    req.end();
  });
}

const Y = encodeURIComponent(YUHANG);

function checkDaily(report: Report): void {
  const e = EXPECTED;
  const s = report.summary.figure;
  assert.equal(report.kind, 'daily');
  assert.deepEqual([report.period.from, report.period.to, report.period.partial], [D2, D2, false]);
  assert.deepEqual([report.previousPeriod.from, report.previousPeriod.hasFigures], [D1, true]);
  assert.equal(report.region.path, YUHANG);
  assert.equal(report.title.zh, '余杭区 视频监控日统计 2026年11月23日');
  assert.deepEqual(report.daysMissing, []);
  assert.ok(report.computedAt !== null);
  assert.equal(report.computedThrough, new Date(at(48)).toISOString(), 'D2 measured whole, to its midnight');
  assert.equal(report.generatedAt, new Date(NOW).toISOString());
  assert.equal(s.cameras, 4);
  assert.equal(s.countedSeconds, e.d2.counted);
  assert.equal(s.onlineSeconds, e.d2.online);
  near(report.coverage, 1, 'coverage');
  const rate = (key: string) => report.summary.rates.find((r) => r.key === key);
  near(rate('onlineRate')?.value, e.d2.online / e.d2.counted, 'online rate');
  near(rate('onlineRate')?.previous, e.d1.online / e.d1.counted, 'online rate the day before');
  near(rate('onlineRate')?.deltaPoints, ((e.d2.online - e.d1.online) / e.d2.counted) * 100, 'online rate change');
  near(rate('onlineRate')?.deltaPoints, -13.541_666_666_666_7, 'online rate change, in points');
  near(rate('intactRate')?.value, e.d2.intact / e.d2.counted, 'intact rate');
  near(rate('intactRate')?.deltaPoints, -10.9375, 'intact rate change, in points');
  near(rate('geoLabelledRate')?.value, 0.75, 'geo-labelled rate (cq2 has no coordinates)');
  near(rate('geoLabelledRate')?.deltaPoints, 0, 'geo-labelled rate change');
  near(rate('hdRate')?.value, 0.75, 'HD rate (cq2 has 720 lines)');
  assert.deepEqual(
    rate('onlineRate')?.targets.map((t) => [t.class, t.target, t.met]),
    [
      [1, 98, false],
      [2, 95, true],
    ],
    'class 1 (cq1 at 91.67%, lz1 at 100%) misses 98%; class 3 has no target',
  );
  assert.deepEqual(
    report.summary.counts.map((c) => [c.key, c.value, c.delta]),
    [
      ['cameras', 4, 0],
      ['class1', 2, 0],
      ['class2', 1, 0],
      ['class3', 1, 0],
      ['unclassified', 0, 0],
      ['geoLabelled', 3, 0],
      ['hd', 3, 0],
    ],
  );
  // The two townships, 仓前 at 95.83% ahead of 良渚 at 75%.
  assert.deepEqual([report.ranking.by, report.ranking.within], ['region', YUHANG]);
  assert.deepEqual(
    report.ranking.rows.map((r) => [r.rank, r.key, r.name, r.belowTarget]),
    [
      [1, CANGQIAN, '仓前街道', ['online', 'intact']],
      [2, LIANGZHU, '良渚街道', ['intact']],
    ],
  );
  const [cq, lz] = report.ranking.rows;
  near(cq.figure.onlineRate, e.cangqian.d2.online / (2 * 86_400), '仓前 online rate');
  near(cq.delta.onlineRate, ((e.cangqian.d2.online - e.cangqian.d1.online) / (2 * 86_400)) * 100, '仓前 change');
  near(lz.figure.onlineRate, 0.75, '良渚 online rate');
  near(lz.figure.intactRate, e.liangzhu.d2.intact / (2 * 86_400), '良渚 intact rate');
  near(lz.delta.onlineRate, ((e.liangzhu.d2.online - e.liangzhu.d1.online) / (2 * 86_400)) * 100, '良渚 change');
  // Below their class's target: cq1 offline 2 h; lz1 frozen 30 min. Not lz2 (class 3: no target).
  assert.deepEqual(
    report.belowTarget.map((c) => [c.camera, c.name, c.class, c.misses, c.cause, c.offlineSeconds, c.faultSeconds, c.unknownSeconds]),
    [
      ['cq1', '仓前路口', 1, ['online', 'intact'], 'offline', 7200, 0, 0],
      ['lz1', '良渚广场', 1, ['intact'], 'frozen', 0, 1800, 0],
    ],
  );
  near(report.belowTarget[0].onlineRate, (86_400 - 7200) / 86_400, 'cq1 online rate');
  assert.deepEqual(report.belowTarget[1].causes, { frozen: 1800 });
  assert.deepEqual(
    report.withoutCoordinates.map((c) => [c.site, c.camera, c.class, c.againstTarget]),
    [['cangqian', 'cq2', 2, false]],
  );
}

async function checkFormats(t: TestContext, central: TestCentral, engine: string): Promise<void> {
  // CSV: a byte-order mark, the sections under their 【…】 lines with the rows they should have.
  const csv = await fetchRaw(central, `/api/reports/daily?day=${D2}&region=${Y}&format=csv`);
  assert.equal(csv.status, 200, csv.body.toString());
  assert.equal(csv.headers['content-type'], 'text/csv; charset=utf-8');
  assert.deepEqual([...csv.body.subarray(0, 3)], [0xef, 0xbb, 0xbf], 'UTF-8 with a BOM');
  assert.match(String(csv.headers['content-disposition']), /^attachment; filename="daily_2026-11-23\.csv"; filename\*=UTF-8''/);
  assert.equal(
    decodeURIComponent(String(csv.headers['content-disposition']).split("UTF-8''")[1]),
    '日统计-daily_浙江省-杭州市-余杭区_2026-11-23.csv',
    'the file name says the kind, the region and the period',
  );
  const rows: string[][] = parseCsv(csv.body.toString('utf8'), { bom: true, relax_column_count: true, skip_empty_lines: true });
  const sectionRows = (title: RegExp) => {
    const start = rows.findIndex((r) => title.test(r[0] ?? ''));
    assert.ok(start >= 0, `section ${title}`);
    const end = rows.findIndex((r, i) => i > start && (r[0] ?? '').startsWith('【'));
    return rows.slice(start + 2, end === -1 ? undefined : end);
  };
  assert.equal(rows[0][0], '余杭区 视频监控日统计 2026年11月23日');
  assert.deepEqual(sectionRows(/下级区域排名/).length, 2);
  assert.deepEqual(
    sectionRows(/未达标点位/).map((r) => r[1]),
    ['cq1', 'lz1'],
  );
  const unlabelled = sectionRows(/未标注经纬度/);
  assert.deepEqual(
    unlabelled.map((r) => [r[1], r[2]]),
    [['cq2', "'=SUM(1)厂区"]],
    'a name a spreadsheet would run as a formula is escaped',
  );
  const onlineRow = sectionRows(/主要指标/).find((r) => r[0] === '在线率 online rate');
  assert.deepEqual(onlineRow?.slice(1, 4), ['85.42%', '98.96%', '-13.54']);

  // XLSX: read back: its sheets, a rate as a number formatted as percent, the header frozen.
  const xlsx = await fetchRaw(central, `/api/reports/daily?day=${D2}&region=${Y}&format=xlsx`);
  assert.equal(xlsx.status, 200);
  assert.equal(xlsx.headers['content-type'], 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet');
  assert.match(String(xlsx.headers['content-disposition']), /^attachment; filename="daily_2026-11-23\.xlsx"/);
  const book = new Workbook();
  await book.xlsx.load(xlsx.body as unknown as ArrayBuffer);
  assert.deepEqual(
    book.worksheets.map((s) => s.name),
    ['概况 Overview', '主要指标 Rates', '点位数量 Counts', '排名 Ranking', '未达标点位 Below target', '未标注经纬度 No coordinates'],
  );
  const rates = book.getWorksheet('主要指标 Rates')!;
  assert.equal(rates.getCell('A1').value, '余杭区 视频监控日统计 2026年11月23日  余杭区: camera daily statistics, 2026-11-23');
  assert.match(rates.getCell('A2').text, /^数据计算于 computed at 2026-11-24 06:00:00 \+08:00/);
  assert.deepEqual(
    [rates.views[0]?.state, (rates.views[0] as { ySplit?: number }).ySplit],
    ['frozen', 4],
    'the title, the computed-at line, a blank line and the header stay',
  );
  const onlineCell = rates.getCell('B5');
  assert.equal(rates.getCell('A5').value, '在线率 online rate');
  near(onlineCell.value as number, EXPECTED.d2.online / EXPECTED.d2.counted, 'the online rate cell');
  assert.equal(onlineCell.numFmt, '0.00%');
  assert.equal(onlineCell.font?.color?.argb, 'FFC00000', 'below its target: red');
  const below = book.getWorksheet('未达标点位 Below target')!;
  assert.equal(below.getCell('B5').value, 'cq1');
  assert.equal(below.getCell('J5').numFmt, '[h]:mm:ss');
  // exceljs reads a cell formatted as time back as a Date counted from Excel's day 0, 1899-12-30.
  assert.equal((below.getCell('J5').value as Date).getTime() - Date.UTC(1899, 11, 30), 7200_000, 'two hours offline, as a duration');
  assert.ok((rates.getColumn(1).width ?? 0) >= 20, 'the first column fits its Chinese and English names');

  // HTML: a page Chromium renders under its own policy, marks the cells below target, and prints on A4.
  const html = await fetchRaw(central, `/api/reports/daily?day=${D2}&region=${Y}&format=html`);
  assert.equal(html.status, 200);
  assert.equal(html.headers['content-type'], 'text/html; charset=utf-8');
  assert.match(String(html.headers['content-disposition']), /^inline; /);
  const csp = String(html.headers['content-security-policy']);
  assert.match(csp, /^default-src 'none'; style-src 'sha256-[A-Za-z0-9+/=]+'/);
  assert.doesNotMatch(html.body.toString(), /<script|src=|href=/i, 'nothing external, no script');

  const browser = await startChromium();
  t.after(() => browser.close());
  const context = await browser.newContext({ viewport: { width: 1123, height: 794 } });
  const [name, value] = (central.as?.options.cookie ?? '').split('=');
  await context.addCookies([{ name, value, url: central.url }]);
  const page = await context.newPage();
  const complaints: string[] = [];
  page.on('console', (m) => {
    if (m.type() === 'error' || m.type() === 'warning') complaints.push(`${m.type()}: ${m.text()}`);
  });
  page.on('pageerror', (e) => complaints.push(`pageerror: ${e.message}`));
  const response = await page.goto(`${central.url}/api/reports/daily?day=${D2}&region=${Y}&format=html`);
  assert.equal(response?.status(), 200);
  const seen = await page.evaluate(() => {
    const below = document.querySelectorAll('td.below');
    return {
      h1: document.querySelector('h1').textContent,
      below: below.length,
      belowBackground: below.length > 0 ? window.getComputedStyle(below[0]).backgroundColor : null,
      sections: Array.from(document.querySelectorAll('section h2')).map((h: any) => h.textContent),
      rankingRows: document.querySelectorAll('#ranking tbody tr').length,
      belowRows: document.querySelectorAll('#belowTarget tbody tr').length,
    };
  });
  assert.deepEqual(complaints, [], 'no CSP violation, no error');
  assert.equal(seen.h1, '余杭区 视频监控日统计 2026年11月23日');
  assert.equal(seen.belowBackground, 'rgb(253, 226, 226)', 'the inline stylesheet applies: its hash is in the policy');
  assert.ok(seen.below >= 6, `cells below target marked: ${seen.below}`);
  assert.deepEqual(seen.sections, [
    '说明 Notes',
    '主要指标 Rates against targets',
    "点位数量（期末） Cameras at the period's end",
    '下级区域排名 Ranking of the regions below',
    "未达标点位 Cameras below their class's target",
    '未标注经纬度点位 Cameras without coordinates',
  ]);
  assert.equal(seen.rankingRows, 2);
  assert.equal(seen.belowRows, 2);
  const screenshot = await page.screenshot({ fullPage: true });
  await page.emulateMedia({ media: 'print' });
  const printed = await page.screenshot({ fullPage: true });
  const pdf = await page.pdf({ format: 'A4', printBackground: true, preferCSSPageSize: true });
  assert.equal(pdf.subarray(0, 5).toString(), '%PDF-');
  const pages = (pdf.toString('latin1').match(/\/Type\s*\/Page(?!s)/g) ?? []).length;
  assert.ok(pages >= 1 && pages <= 3, `the day's report prints on one to three landscape A4 pages: ${pages}`);
  // CAMGATE_TEST_SHOTS=dir keeps what the browser made, to look at.
  const shots = process.env.CAMGATE_TEST_SHOTS;
  if (shots) {
    mkdirSync(shots, { recursive: true });
    writeFileSync(join(shots, `report-daily-${engine}.png`), screenshot);
    writeFileSync(join(shots, `report-daily-${engine}-print.png`), printed);
    writeFileSync(join(shots, `report-daily-${engine}.pdf`), pdf);
  }
}

async function checkPeriods(central: TestCentral): Promise<void> {
  const e = EXPECTED;
  // The weekly bulletin of D2: Monday D2 to Sunday; today (D3) falls in it: partial, through D3 06:00.
  const week = await central.get<Report>(`/api/reports/weekly?day=${D2}&region=${Y}`);
  assert.equal(week.status, 200, JSON.stringify(week.body));
  assert.deepEqual([week.body.period.from, week.body.period.to, week.body.period.partial, week.body.period.through], [D2, '2026-11-29', true, D3]);
  assert.deepEqual([week.body.previousPeriod.from, week.body.previousPeriod.to], ['2026-11-16', D1]);
  assert.match(week.body.notes.map((n) => n.en).join('\n'), /The period is not over/);
  const weekOnline = e.d2.online + e.d3.online;
  const weekCounted = e.d2.counted + e.d3.counted;
  assert.equal(week.body.summary.figure.countedSeconds, weekCounted);
  near(week.body.summary.rates[0].value, weekOnline / weekCounted, 'the week’s online rate');
  near(week.body.summary.rates[0].deltaPoints, (weekOnline / weekCounted - e.d1.online / e.d1.counted) * 100, 'against the week before (D1 alone)');
  assert.deepEqual(
    week.body.belowTarget.map((c) => c.camera),
    ['cq1'],
    'over the week lz1’s 30 frozen minutes leave it at 98.33%: above its target',
  );
  assert.deepEqual(week.body.daysMissing, []);

  // The monthly analysis of November: the days before the first camera have no figures; October has none.
  const month = await central.get<Report>(`/api/reports/monthly?day=${D2}&region=${Y}`);
  assert.equal(month.status, 200);
  assert.deepEqual([month.body.period.from, month.body.period.to, month.body.period.partial], ['2026-11-01', '2026-11-30', true]);
  assert.equal(month.body.daysMissing.length, 21);
  assert.equal(month.body.previousPeriod.hasFigures, false);
  assert.ok(month.body.summary.rates.every((r) => r.deltaPoints === null));
  const monthCounted = e.d1.counted + weekCounted;
  near(month.body.summary.rates[0].value, (e.d1.online + weekOnline) / monthCounted, 'the month’s online rate');
  // Over the month cq1 stays below 98% online; lz1's hour offline and frozen half hour keep its intact
  // rate at 97.22%, the hour offline the larger cause; cq2's three black hours put it below 95% intact.
  assert.deepEqual(
    month.body.belowTarget.map((c) => [c.camera, c.misses, c.cause]),
    [
      ['cq1', ['online', 'intact'], 'offline'],
      ['lz1', ['intact'], 'offline'],
      ['cq2', ['intact'], 'black'],
    ],
  );
  near(month.body.belowTarget[1].intactRate, (86_400 - 3600 + 86_400 - 1800 + 21_600) / (2 * 86_400 + 21_600), 'lz1 over the month');
  assert.match(month.body.notes.map((n) => n.en).join('\n'), /21 day\(s\) have no figures \(2026-11-01\.\.2026-11-21\)/);

  // Without a day: yesterday, D2.
  const yesterday = await central.get<Report>(`/api/reports/daily?region=${Y}`);
  assert.equal(yesterday.body.period.from, D2);
}

async function checkScopeAndRefusals(central: TestCentral): Promise<void> {
  // A viewer of 临平区: its own report; 余杭区 is answered as /api/figures answers it, as a region without cameras.
  await createUser(central.db.db, { ...systemClock, now: () => NOW }, { username: 'linping', role: 'viewer', scope: LINPING, password: 'linping-pass-2026' });
  const county = await central.login('linping', 'linping-pass-2026');
  const own = await county.get<Report>(`/api/reports/daily?day=${D2}`);
  assert.equal(own.status, 200);
  assert.equal(own.body.region.path, LINPING);
  assert.equal(own.body.summary.figure.cameras, 1);
  assert.deepEqual([own.body.ranking.by, own.body.ranking.rows.map((r) => r.key)], ['site', ['linping']]);
  assert.deepEqual(
    own.body.withoutCoordinates.map((c) => [c.camera, c.againstTarget]),
    [['lp1', true]],
  );
  const wider = await county.get<Report>(`/api/reports/daily?day=${D2}&region=${encodeURIComponent('浙江省')}`);
  assert.equal(wider.body.region.path, LINPING, 'a region wider than the scope is narrowed to it');
  assert.match(wider.body.notes[0].en, /your scope is 浙江省\/杭州市\/临平区/);
  const outside = await county.get<Report>(`/api/reports/daily?day=${D2}&region=${Y}`);
  const nowhere = await county.get<Report>(`/api/reports/daily?day=${D2}&region=${encodeURIComponent('浙江省/宁波市')}`);
  const figures = await county.get<{ total: { cameras: number } }>(`/api/figures?from=${D2}&to=${D2}&region=${Y}`);
  assert.deepEqual(
    [outside.status, outside.body.summary.figure.cameras, outside.body.belowTarget.length, outside.body.ranking.rows.length, figures.body.total.cameras],
    [200, 0, 0, 0, 0],
  );
  assert.deepEqual(
    { ...outside.body, region: null, title: null, generatedAt: null, notes: outside.body.notes.length, ranking: { ...outside.body.ranking, within: null } },
    { ...nowhere.body, region: null, title: null, generatedAt: null, notes: nowhere.body.notes.length, ranking: { ...nowhere.body.ranking, within: null } },
    'outside the scope reads exactly like a region that does not exist',
  );

  assert.equal((await central.client().get(`/api/reports/daily?day=${D2}`)).status, 401);
  for (const [path, fragment] of [
    [`/api/reports/daily?day=2026-13-01`, /querystring day: "2026-13-01" is not a calendar day: write YYYY-MM-DD/],
    [`/api/reports/daily?day=yesterday`, /querystring day: .* write YYYY-MM-DD, e\.g\. 2026-11-23/],
    [`/api/reports/weekly?day=2026-11-30`, /querystring day: 2026-11-30 is in a period that has not begun \(today is 2026-11-24 in Asia\/Shanghai\)/],
    [`/api/reports/daily?format=pdf`, /querystring format: .*use one of json, csv, xlsx, html/],
    [`/api/reports/daily?region=${encodeURIComponent('浙江省//杭州市')}`, /querystring region: a region has no empty parts/],
    [`/api/reports/yearly`, /params kind: .*use one of daily, weekly, monthly/],
    [`/api/reports/daily?colour=red`, /colour: not a parameter/],
  ] as const) {
    const res = await central.get<{ error: string; message: string }>(path);
    assert.equal(res.status, 400, `${path}: ${JSON.stringify(res.body)}`);
    assert.match(res.body.message, fragment, path);
  }
  const openapi = await central
    .client()
    .get<{ paths: Record<string, { get: { responses: Record<string, { content: Record<string, unknown> }> } }> }>('/api/openapi.json');
  assert.deepEqual(Object.keys(openapi.body.paths['/api/reports/{kind}'].get.responses['200'].content).sort(), [
    'application/json',
    'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
    'text/csv',
    'text/html',
  ]);
}

async function endToEnd(t: TestContext, engine: string, db?: string): Promise<void> {
  const central = await filledCentral(t, db);
  const daily = await central.get<Report>(`/api/reports/daily?day=${D2}&region=${Y}`);
  assert.equal(daily.status, 200, JSON.stringify(daily.body));
  checkDaily(daily.body);
  await checkPeriods(central);
  await checkFormats(t, central, engine);
  await checkScopeAndRefusals(central);
}

test('reports end to end through Mosquitto and the API, by hand: SQLite', async (t) => {
  await endToEnd(t, 'sqlite');
});

test('reports end to end through Mosquitto and the API, by hand: PostgreSQL', async (t) => {
  await endToEnd(t, 'postgres', await testDatabase(t));
});
