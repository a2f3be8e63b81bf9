// Three days of three simulated sites for the reports' tests, and what the reports of them must
// say, worked out by hand below from what the cameras were made to do. Every site sends a
// metrics sample every 30 minutes (the central runs with staleAfterSec 3600), so every second is
// known; the central's clock stands still at NOW, the third day at 06:00.
//
//   D1 2026-11-22 (Sunday)    cq2 black 10:00–13:00; lz1 offline 20:00–21:00
//   D2 2026-11-23 (Monday)    cq1 offline 02:00–04:00; lz1 frozen 08:00–08:30; lz2 offline from 12:00 on
//   D3 2026-11-24 (Tuesday)   today, measured through 06:00: lz2 still offline, the rest fine
//
// Regions: 余杭区 has two townships, 仓前街道 (cq1 class 1, cq2 class 2 without coordinates, 720
// lines) and 良渚街道 (lz1 class 1, lz2 class 3); 临平区 has lp1 (class 1, no coordinates).
import assert from 'node:assert/strict';
import { dayBounds } from '../../central/figures/days';
import { systemClock, type Clock } from '../../lib/clock';
import { startMosquitto } from '../../scripts/peers/mosquitto';
import { SimulatedSite, type TelemetryMessage } from '../../scripts/sim/telemetry';
import { publisher, startTestCentral, type TestCentral } from './central';
import type { TestContext } from './temp';
import { waitFor } from './wait';

export const ZONE = 'Asia/Shanghai';
export const D1 = '2026-11-22';
export const D2 = '2026-11-23';
export const D3 = '2026-11-24';
export const YUHANG = '浙江省/杭州市/余杭区';
export const CANGQIAN = `${YUHANG}/仓前街道`;
export const LIANGZHU = `${YUHANG}/良渚街道`;
export const LINPING = '浙江省/杭州市/临平区';

const H = 3_600_000;
const T0 = dayBounds(D1, ZONE).start;
/** D1 00:00 plus `hours` (may run into D2 and D3). */
export const at = (hours: number) => T0 + hours * H;
export const NOW = at(48 + 6);
/** What the central needs to read these days as written: evidence lasts an hour, no round of the
 * refresher runs unless the test asks for it. */
export const REPORT_ENV = { CAMGATE_CENTRAL_STALE_AFTER_SEC: '3600', CAMGATE_CENTRAL_FIGURES_REFRESH_SEC: '3600' };

export function reportDays(): TelemetryMessage[] {
  const ok = { ok: true };
  const cangqian = new SimulatedSite('cangqian', [
    { camera: 'cq1', name: '仓前路口', class: 1, region: CANGQIAN, latitude: 30.29, longitude: 119.99 },
    { camera: 'cq2', name: '=SUM(1)厂区', class: 2, region: CANGQIAN, mainHeight: 720 },
  ]);
  const liangzhu = new SimulatedSite('liangzhu', [
    { camera: 'lz1', name: '良渚广场', class: 1, region: LIANGZHU, latitude: 30.38, longitude: 120.02 },
    { camera: 'lz2', name: '良渚小区', class: 3, region: LIANGZHU, latitude: 30.39, longitude: 120.03 },
  ]);
  const linping = new SimulatedSite('linping', [{ camera: 'lp1', name: '临平站', class: 1, region: LINPING }]);
  const messages: TelemetryMessage[] = [];
  messages.push(...cangqian.connect(at(0), { cq1: { state: 'online', picture: ok }, cq2: { state: 'online', picture: ok } }));
  messages.push(...liangzhu.connect(at(0), { lz1: { state: 'online', picture: ok }, lz2: { state: 'online', picture: ok } }));
  messages.push(...linping.connect(at(0), { lp1: { state: 'online', picture: ok } }));
  for (let h = -0.5; h <= 54; h += 0.5) for (const site of [cangqian, liangzhu, linping]) messages.push(site.metrics(at(h)));
  // D1
  messages.push(cangqian.status('cq2', 'online', at(10), { ok: false, faults: ['black'] }));
  messages.push(cangqian.status('cq2', 'online', at(13), ok));
  messages.push(liangzhu.status('lz1', 'offline', at(20)));
  messages.push(liangzhu.status('lz1', 'online', at(21), ok));
  // D2
  messages.push(cangqian.status('cq1', 'offline', at(24 + 2)));
  messages.push(cangqian.status('cq1', 'online', at(24 + 4), ok));
  messages.push(liangzhu.status('lz1', 'online', at(24 + 8), { ok: false, faults: ['frozen'] }));
  messages.push(liangzhu.status('lz1', 'online', at(24 + 8.5), ok));
  messages.push(liangzhu.status('lz2', 'offline', at(24 + 12)));
  return messages;
}

const DAY = 86_400;

/** The hand-computed seconds of 余杭区's four cameras (cq1, cq2, lz1, lz2). */
export const EXPECTED = {
  /** D2 (the daily report), each of the four counted and known all day. */
  d2: {
    counted: 4 * DAY,
    // cq1 offline 2 h; lz2 offline 12 h.
    online: DAY - 7200 + DAY + DAY + DAY - 43_200,
    // … and lz1 frozen 30 min.
    intact: DAY - 7200 + DAY + DAY - 1800 + DAY - 43_200,
  },
  /** D1, the day before: cq2 black 3 h, lz1 offline 1 h. */
  d1: { counted: 4 * DAY, online: 4 * DAY - 3600, intact: 4 * DAY - 10_800 - 3600 },
  /** D3 through 06:00: lz2 still offline. */
  d3: { counted: 4 * 21_600, online: 3 * 21_600, intact: 3 * 21_600 },
  /** 仓前街道 (cq1, cq2) and 良渚街道 (lz1, lz2) on D2 and D1. */
  cangqian: { d2: { online: DAY - 7200 + DAY, intact: DAY - 7200 + DAY }, d1: { online: 2 * DAY } },
  liangzhu: { d2: { online: DAY + DAY - 43_200, intact: DAY - 1800 + DAY - 43_200 }, d1: { online: DAY - 3600 + DAY } },
};

/** A filled central: the three days published, taken in and measured on the standing clock. */
export async function filledCentral(t: TestContext, db?: string): Promise<TestCentral> {
  const broker = await startMosquitto();
  t.after(() => broker.stop());
  const clock: Clock = { ...systemClock, now: () => NOW };
  const central = await startTestCentral(t, { brokerUrl: broker.url, db, env: REPORT_ENV, deps: { clock } });
  await waitFor(() => central.ingest!.stats().connected, 'central connected');
  const pub = await publisher(t, broker.url);
  const messages = reportDays();
  await pub.send(messages);
  await waitFor(
    () => {
      const s = central.ingest!.stats();
      return s.written + s.duplicates >= messages.length && s.queued === 0;
    },
    `${messages.length} messages taken in`,
    30_000,
    () => JSON.stringify(central.ingest!.stats()),
  );
  const round = await central.figures.refresh();
  assert.deepEqual(round.days, [D1, D2, D3], 'every day since the first camera measured, today through NOW');
  return central;
}
