// The ingest benchmarks' sites and stream (central-ingest.ts through MQTT, ingest-writer.ts in
// process): the same messages, so that their figures compare.
import { SimulatedSite, type SimCameraLabel, type TelemetryMessage } from '../sim/telemetry';

const REGIONS = ['浙江省/杭州市/西湖区', '浙江省/杭州市/余杭区', '浙江省/杭州市/萧山区', '浙江省/宁波市/鄞州区', '浙江省/宁波市'];

function siteId(i: number): string {
  return `bench-s${String(i).padStart(4, '0')}`;
}

/** The sites publisher `publisher` of `publishers` owns (every publishers-th), with their cameras. */
export function sitesOf(publisher: number, publishers: number, sites: number, cameras: number): SimulatedSite[] {
  const out: SimulatedSite[] = [];
  for (let i = publisher; i < sites; i += publishers) {
    const labels: SimCameraLabel[] = Array.from({ length: cameras }, (_, c) => ({
      camera: `cam-${String(c).padStart(3, '0')}`,
      class: ((c % 3) + 1) as 1 | 2 | 3,
      region: REGIONS[i % REGIONS.length],
      latitude: c % 7 === 0 ? null : 30.2 + i / 1e4,
      longitude: c % 7 === 0 ? null : 120.1 + c / 1e4,
    }));
    out.push(new SimulatedSite(siteId(i), labels));
  }
  return out;
}

/** The i-th message of a publisher's stream: statuses (mostly online, some offline or with a picture fault), metrics, events. */
export function streamMessage(sites: SimulatedSite[], i: number, at: number): TelemetryMessage {
  const site = sites[i % sites.length];
  const camera = site.cameras[Math.floor(i / sites.length) % site.cameras.length].camera;
  const kind = i % 10;
  if (kind === 0) {
    const offline = i % 20 === 0;
    return site.event(
      {
        type: offline ? 'camera-offline' : 'camera-online',
        severity: offline ? 'alarm' : 'info',
        camera,
        message: `${camera} ${offline ? 'offline' : 'online'}`,
      },
      at,
    );
  }
  if (kind <= 2) return site.metrics(at, { diskFreePercent: 40 });
  const r = i % 50;
  if (r === 3) return site.status(camera, 'offline', at);
  if (r === 7) return site.status(camera, 'online', at, { ok: false, faults: ['black'] });
  return site.status(camera, 'online', at, { ok: true });
}
