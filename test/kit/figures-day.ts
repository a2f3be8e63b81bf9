// One hand-computed day for the figures' tests: two sites' telemetry (an uplink outage whose
// backlog comes late, an outage across midnight, a camera added at noon and one removed at 18:00,
// a picture fault that clears, a box that lost power) and what its figures must be.
import { dayBounds } from '../../central/figures/days';
import { SimulatedSite, type TelemetryMessage } from '../../scripts/sim/telemetry';

export const ZONE = 'Asia/Shanghai';
export const S = 180_000;
export const M = 60_000;
export const H = 60 * M;
export const D = '2026-12-01';
export const T0 = dayBounds(D, ZONE).start;
export const at = (hours: number, minutes = 0) => T0 + hours * H + minutes * M;
export const TARGETS = { online: { class1: 98, class2: 95 }, intact: { class1: 98, class2: 95 }, geoLabelled: { class1: 100 } };
export const YUHANG = '浙江省/杭州市/余杭区';
export const LINPING = '浙江省/杭州市/临平区';

export interface Scenario {
  delivered: TelemetryMessage[];
  /** The north site's backlog from its uplink outage (03:00–05:00), delivered late. */
  backlog: TelemetryMessage[];
}

export function scenario(): Scenario {
  const north = new SimulatedSite('north', [
    { camera: 'c1', class: 1, region: YUHANG, latitude: 30.4, longitude: 120.0 },
    { camera: 'c3', class: 1, region: YUHANG, latitude: 30.41, longitude: 120.01 },
  ]);
  const south = new SimulatedSite('south', [{ camera: 's1', class: 2, region: LINPING, latitude: 30.42, longitude: 120.3 }]);
  const delivered: TelemetryMessage[] = [];
  const backlog: TelemetryMessage[] = [];
  delivered.push(...north.connect(at(-1), { c1: { state: 'online', picture: { ok: true } }, c3: { state: 'online', picture: { ok: true } } }));
  delivered.push(...south.connect(at(-1), { s1: { state: 'online', picture: { ok: true } } }));
  // North: a metrics sample every 2 minutes for 61 hours, those of 03:00–05:00 held back by the outage.
  for (let t = at(-1); t <= at(60); t += 2 * M) {
    if (t >= at(3) && t < at(5)) backlog.push(north.metrics(t, { historical: true }));
    else delivered.push(north.metrics(t));
  }
  backlog.push(north.status('c1', 'offline', at(3, 30), null, { historical: true }));
  backlog.push(north.status('c1', 'online', at(4), { ok: true }, { historical: true }));
  delivered.push(north.status('c1', 'offline', at(23)));
  delivered.push(north.status('c1', 'online', at(25), { ok: true }));
  // c2 added at noon (class 2, no coordinates, 720 lines), a black picture 14:00–16:00.
  delivered.push(north.meta({ camera: 'c2', class: 2, region: LINPING, mainHeight: 720 }, at(12)));
  delivered.push(north.status('c2', 'online', at(12), { ok: true }));
  delivered.push(north.status('c2', 'online', at(14), { ok: false, faults: ['black'] }));
  delivered.push(north.status('c2', 'online', at(16), { ok: true }));
  // c3 removed at 18:00.
  delivered.push(
    north.event(
      {
        type: 'camera-removed',
        severity: 'info',
        camera: 'c3',
        message: 'c3 removed',
        detail: { removedAt: new Date(at(18)).toISOString(), deviceId: 'dev-c3', name: 'c3' },
      },
      at(18),
    ),
  );
  delivered.push(north.metaCleared('c3'));
  // South: its box loses power at 10:00 (last sample), the broker publishes its Will.
  for (let t = at(-1); t <= at(10); t += 2 * M) delivered.push(south.metrics(t));
  delivered.push(south.will(at(-1)));
  return { delivered, backlog };
}

const hours = (h: number) => h * 3600;

/** The day D of every camera together, once the backlog is in (seconds). */
export const EXPECTED_DAY = {
  cameras: 4,
  counted: hours(78),
  known: hours(24) + hours(12) + hours(18) + hours(10) + 180,
  online: hours(22.5) + hours(12) + hours(18) + hours(10) + 180,
  intact: hours(22.5) + hours(10) + hours(18) + hours(10) + 180,
  byClass: { class1: 1, class2: 2, class3: 0, unclassified: 0 },
  geoLabelledRate: 2 / 3,
  hdRate: 2 / 3,
};
