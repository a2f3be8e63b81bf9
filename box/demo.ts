// `--demo`: three simulated township sites on this machine, so a newcomer sees figures and alarms at
// once. Real agents watch real (simulated) ONVIF cameras with RTSP streams: some show a fault
// (black, frozen, an NVR's blue no-video screen), some go offline, some were never given
// coordinates. Each site keeps its own inventory under <dataDir>/demo/<site>.
import { join } from 'node:path';
import { agentConfig } from '../agent/config/spec';
import { openDatabase } from '../agent/inventory/open';
import { upsertDeviceReport } from '../agent/inventory/upsert';
import { applyLabelUpdates } from '../agent/inventory/cameras';
import { openDriver } from '../drivers/index';
import type { Logger } from '../lib/log';
import { startSimulator } from '../scripts/sim/index';
import type { SimPicture, Simulator } from '../scripts/sim/types';
import type { BoxSite } from './box';

const LOGIN = { username: 'admin', password: 'admin123' };
/** Every simulated device has its own loopback address, so all can share one unprivileged port. */
const HTTP_PORT = 8899;

export interface DemoCamera {
  name: string;
  class: 1 | 2 | 3;
  /** null: never labelled with coordinates (lowers the geo-labelled rate). */
  at: [number, number] | null;
  picture?: SimPicture;
  /** Switched off after it joined the ledger: the camera-offline figures and alarms. */
  offline?: boolean;
}

export interface DemoSite {
  id: string;
  name: string;
  region: string;
  owner: string;
  cameras: DemoCamera[];
}

/** The demo's sites: what each camera is called, where it is, and what is wrong with it. */
export const DEMO_SITES: DemoSite[] = [
  {
    id: 'guali',
    name: '瓜沥镇',
    region: '浙江省/杭州市/萧山区/瓜沥镇',
    owner: '瓜沥派出所',
    cameras: [
      { name: '瓜沥镇政府东门', class: 1, at: [30.1849, 120.4741] },
      { name: '航坞路与沙地路口', class: 1, at: [30.1871, 120.4702] },
      { name: '瓜沥客运站进站口', class: 1, at: [30.1902, 120.4786], picture: 'black' },
      { name: '明朗农贸市场', class: 2, at: [30.1833, 120.4659] },
      { name: '党山村文化礼堂', class: 2, at: [30.2011, 120.4923] },
      { name: '坎山中学门口', class: 1, at: [30.1722, 120.4577], offline: true },
      { name: '七彩小镇北门', class: 3, at: null },
      { name: '瓜沥镇卫生院', class: 2, at: [30.1866, 120.4811], picture: 'frozen' },
    ],
  },
  {
    id: 'liangzhu',
    name: '良渚街道',
    region: '浙江省/杭州市/余杭区/良渚街道',
    owner: '良渚派出所',
    cameras: [
      { name: '良渚古城遗址南门', class: 1, at: [30.3795, 119.9935] },
      { name: '良渚地铁站B口', class: 1, at: [30.3627, 120.0278] },
      { name: '大陆村村口', class: 2, at: [30.3901, 120.0123], offline: true },
      { name: '玉鸟流苏街', class: 2, at: null },
      { name: '良渚文化村菜场', class: 3, at: [30.3731, 120.0012], picture: 'blue' },
      { name: '荀山路与杜城路口', class: 1, at: [30.3688, 120.0361] },
      { name: '安溪中学门口', class: 2, at: [30.4051, 120.0389] },
      { name: '东莲路快递驿站', class: 3, at: null },
    ],
  },
  {
    id: 'yuqian',
    name: '於潜镇',
    region: '浙江省/杭州市/临安区/於潜镇',
    owner: '於潜派出所',
    cameras: [
      { name: '於潜镇政府大门', class: 1, at: [30.2204, 119.4121] },
      { name: '天目溪大桥北', class: 1, at: [30.2251, 119.4087], offline: true },
      { name: '於潜汽车站', class: 1, at: [30.2189, 119.4163] },
      { name: '光明村便民服务中心', class: 2, at: [30.2333, 119.3967], picture: 'frozen' },
      { name: '於潜中学东门', class: 2, at: [30.2142, 119.4201] },
      { name: '千茂村村口', class: 3, at: null },
      { name: '观山村文化广场', class: 3, at: [30.2415, 119.3812] },
      { name: '於潜农贸市场', class: 2, at: [30.2217, 119.4144] },
    ],
  },
];

export function demoHost(site: number, camera: number): string {
  return `127.213.${site + 1}.${camera + 10}`;
}

export interface RunningDemo {
  sim: Simulator;
  sites: BoxSite[];
  /** Switches the cameras planned offline off (after the agents saw them once). */
  switchOff(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the simulated cameras and fills each site's inventory (devices identified over ONVIF, as
 * `camgate discover` does, then labelled); returns the sites for startBox. */
export async function startDemo(options: { dataDir: string; logger: Logger; env?: Record<string, string | undefined> }): Promise<RunningDemo> {
  const specs = DEMO_SITES.flatMap((site, s) =>
    site.cameras.map((c, i) => ({ host: demoHost(s, i), httpPort: HTTP_PORT, ...LOGIN, picture: c.picture ?? ('moving' as const), mainFps: 10, subFps: 5 })),
  );
  options.logger.info({ cameras: specs.length, sites: DEMO_SITES.length }, 'demo: starting the simulated cameras');
  const sim = await startSimulator({ cameras: specs });
  const sites: BoxSite[] = [];
  try {
    for (const [s, site] of DEMO_SITES.entries()) {
      const dataDir = join(options.dataDir, 'demo', site.id);
      const { config } = agentConfig.load({
        env: {
          ...options.env,
          CAMGATE_SITE_ID: site.id,
          CAMGATE_SITE_NAME: site.name,
          CAMGATE_DATA_DIR: dataDir,
          CAMGATE_CAMERAS_USERNAME: LOGIN.username,
          CAMGATE_PASSWORD: LOGIN.password,
          CAMGATE_WEB_PORT: '0',
        },
      });
      const db = openDatabase(dataDir);
      const updates = [];
      for (const [i, camera] of site.cameras.entries()) {
        const driver = openDriver({ kind: 'onvif', host: demoHost(s, i), port: HTTP_PORT }, LOGIN, { timeoutMs: 5000 });
        try {
          const saved = upsertDeviceReport(db, await driver.report(), { now: new Date(), source: 'discovered' });
          updates.push({
            id: saved.cameras[0].id,
            patch: {
              name: camera.name,
              class: camera.class,
              latitude: camera.at?.[0] ?? null,
              longitude: camera.at?.[1] ?? null,
              region: site.region,
              owner: site.owner,
            },
          });
        } finally {
          driver.close();
        }
      }
      applyLabelUpdates(db, updates, new Date());
      sites.push({ config, db });
    }
  } catch (err) {
    for (const site of sites) site.db.close();
    await sim.stop();
    throw err;
  }
  const offline = DEMO_SITES.flatMap((site, s) => site.cameras.flatMap((c, i) => (c.offline ? [demoHost(s, i)] : [])));
  return {
    sim,
    sites,
    async switchOff() {
      for (const camera of sim.cameras) if (offline.includes(camera.spec.host)) await camera.setOnline(false);
    },
    async stop() {
      for (const site of sites) site.db.close();
      await sim.stop();
    },
  };
}
