// One site end to end, as the other tests meet it: simulated cameras (ONVIF + GStreamer RTSP),
// their inventory (identified over ONVIF, as `camgate discover` does), a real Mosquitto with a
// "centre" subscribed to the site, and the agent (startAgent) wired to them. Everything stops in
// the reverse order it started when the test ends.
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { startSimulator } from '../../scripts/sim/index';
import type { SimCameraSpec, Simulator } from '../../scripts/sim/types';
import { startMosquitto, type Mosquitto, type MosquittoOptions } from '../../scripts/peers/mosquitto';
import { agentConfig } from '../../agent/config/spec';
import type { AgentConfig } from '../../agent/config/schema';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { startAgent, type AgentDeps, type RunningAgent } from '../../agent/agent';
import { openDriver, type DeviceReport } from '../../drivers/index';
import type { Logger } from '../../lib/log';
import { command, recorder, type Received, type Recorder } from './mqtt';
import { silentLogger } from './logger';
import { tempDir, type TestContext } from './temp';

/** The simulator's login (scripts/sim/README.md). */
export const SIM_LOGIN = { username: 'admin', password: 'admin123' };

/** Asks each simulated device for its report over ONVIF (as `camgate discover` does) and saves it;
 * returns the camera id of each host's first channel. */
export async function identifyInto(db: Database, hosts: string[]): Promise<Record<string, string>> {
  const ids: Record<string, string> = {};
  for (const host of hosts) {
    const driver = openDriver({ kind: 'onvif', host, port: 80 }, SIM_LOGIN, { timeoutMs: 5000 });
    try {
      ids[host] = upsertDeviceReport(db, await driver.report(), { now: new Date() }).cameras[0].id;
    } finally {
      driver.close();
    }
  }
  return ids;
}

export interface SiteOptions {
  site: string;
  /** Simulated cameras, identified over ONVIF and saved in the inventory (each test file owns its own /24 of 127.x). */
  cameras?: SimCameraSpec[];
  /** Devices put in the inventory without asking them (unreachable ones, ones that never answer). */
  planted?: DeviceReport[];
  /** CAMGATE_* settings on top of the rig's own (site, broker, data dir, the simulator's login, web port 0). */
  env?: Record<string, string>;
  /** Parts of the agent to replace (fakes, a virtual clock). */
  deps?: Partial<Omit<AgentDeps, 'config' | 'db' | 'logger'>>;
  /** false: no broker at all (the agent keeps everything in its outbox). */
  broker?: false | MosquittoOptions;
  /** A broker other sites (and a central) use too; the test stops it. */
  sharedBroker?: Mosquitto;
  logger?: Logger;
  /** Start the agent now (default); false: the test calls rig.startAgent() itself. */
  startAgent?: boolean;
}

export interface SiteRig {
  site: string;
  sim?: Simulator;
  dir: string;
  dataDir: string;
  db: Database;
  /** Camera id by device host (the first channel's camera). */
  ids: Record<string, string>;
  broker?: Mosquitto;
  /** The centre's view: every message under camgate/v1/<site>/. */
  centre?: Recorder;
  config: AgentConfig;
  /** The running agent (after startAgent). */
  agent: RunningAgent;
  startAgent(): RunningAgent;
  /** Sends a command as the centre does and returns its reply payload. */
  command(name: string, args: Record<string, unknown>, messageId?: string): Promise<Record<string, unknown>>;
  /** Events the centre got, of a type (and camera). */
  events(type: string, camera?: string): Received[];
  /** The latest status payload of a camera the centre got. */
  lastStatus(camera: string): Record<string, unknown> | undefined;
}

export async function startSite(t: TestContext, options: SiteOptions): Promise<SiteRig> {
  const cleanups: Array<() => unknown> = [];
  t.after(async () => {
    for (const cleanup of cleanups.reverse()) await cleanup();
  });
  const dir = tempDir(t, 'camgate-site-');
  const dataDir = join(dir, 'data');
  const sim = options.cameras?.length ? await startSimulator({ cameras: options.cameras }) : undefined;
  if (sim) cleanups.push(() => sim.stop());
  const db = openDatabase(dataDir);
  cleanups.push(() => db.close());
  const ids = await identifyInto(
    db,
    (options.cameras ?? []).map((c) => c.host),
  );
  for (const planted of options.planted ?? []) ids[planted.host] = upsertDeviceReport(db, planted, { now: new Date() }).cameras[0].id;

  const broker = options.sharedBroker ?? (options.broker === false ? undefined : await startMosquitto(options.broker ?? {}));
  if (broker && !options.sharedBroker) cleanups.push(() => broker.stop());
  const centre = broker ? await recorder({ after: (fn) => cleanups.push(fn) }, broker.url, `camgate/v1/${options.site}/#`) : undefined;

  const { config } = agentConfig.load({
    env: {
      CAMGATE_SITE_ID: options.site,
      ...(broker ? { CAMGATE_BROKER_URLS: broker.url } : {}),
      CAMGATE_DATA_DIR: dataDir,
      CAMGATE_CAMERAS_USERNAME: SIM_LOGIN.username,
      CAMGATE_PASSWORD: SIM_LOGIN.password,
      CAMGATE_WEB_PORT: '0',
      ...options.env,
    },
  });
  let agent: RunningAgent | undefined;
  const rig: SiteRig = {
    site: options.site,
    ...(sim ? { sim } : {}),
    dir,
    dataDir,
    db,
    ids,
    ...(broker ? { broker } : {}),
    ...(centre ? { centre } : {}),
    config,
    get agent(): RunningAgent {
      if (!agent) throw new Error('the agent is not started yet: call rig.startAgent()');
      return agent;
    },
    startAgent() {
      if (agent) return agent;
      const started = startAgent({ config, db, logger: options.logger ?? silentLogger, env: {}, ...options.deps });
      agent = started;
      cleanups.push(() => started.stop('test over'));
      return started;
    },
    command(name, args, messageId = `${name}-${Math.random().toString(16).slice(2)}`) {
      if (!centre) throw new Error('no broker in this rig');
      return command(centre, options.site, name, args, messageId);
    },
    events: (type, camera) =>
      (centre?.messages ?? []).filter((m) => m.topic.endsWith('/events') && m.json.type === type && (camera === undefined || m.json.camera === camera)),
    lastStatus: (camera) => [...(centre?.messages ?? [])].reverse().find((m) => m.topic === `camgate/v1/${options.site}/cameras/${camera}/status`)?.json,
  };
  if (options.startAgent !== false) rig.startAgent();
  return rig;
}
