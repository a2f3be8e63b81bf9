// The agent's command handlers (what each cmd/{name} does). Everything they touch comes in
// through UplinkHandlerDeps, so tests swap any part; the dispatcher (commands.ts) does the
// validation and the replies.
import type { Database } from 'better-sqlite3';
import type { Credentials, DeviceDriver } from '../../drivers/types';
import { splitUrl } from '../../drivers/uri';
import type { DriverTarget } from '../discovery/drivers-api';
import type { AgentConfig } from '../config/types';
import { maskedConfig } from '../config/mask';
import { camerasOfDevice, getCamera } from '../inventory/cameras';
import type { CameraRecord, DeviceRecord } from '../inventory/types';
import { CommandError, CommandHandler, CommandHandlers, notAvailable } from './commands';

export interface UplinkHandlerDeps {
  site: string;
  version: string;
  bootId: string;
  config: AgentConfig;
  db: Database;
  /** A device's own credentials, else the site default (undefined: none configured). */
  credentialsFor(device: DeviceRecord): Credentials | undefined;
  openDriver(target: DriverTarget, credentials?: Credentials, options?: { timeoutMs?: number }): DeviceDriver;
  rebirth(): Promise<number>;
  /** bdSeq of the current connection and whether it is up. */
  session(): { bdSeq: number | null; connected: boolean };
  startedAt: number;
  now?: () => Date;
}

/** How a stored device is reached again: ONVIF by its device service URL, RTSP by its URL. */
export function targetOfDevice(device: DeviceRecord): DriverTarget {
  if (device.driver === 'rtsp') return { kind: 'rtsp', url: device.url };
  const parts = splitUrl(device.url);
  const path = parts?.rest ? parts.rest : undefined;
  return {
    kind: 'onvif',
    host: device.host,
    port: device.port,
    ...(path ? { path } : {}),
    ...(device.endpointUuid ? { endpointUuid: device.endpointUuid } : {}),
  };
}

function findCamera(db: Database, id: string): CameraRecord {
  const camera = getCamera(db, id);
  if (!camera) throw new CommandError('invalid-args', `no camera with id "${id}" on this site`);
  return camera;
}

async function withDriver<T>(deps: UplinkHandlerDeps, camera: CameraRecord, fn: (driver: DeviceDriver) => Promise<T>): Promise<T> {
  const driver = deps.openDriver(targetOfDevice(camera.device), deps.credentialsFor(camera.device), { timeoutMs: deps.config.onvif.timeoutMs });
  try {
    return await fn(driver);
  } finally {
    driver.close();
  }
}

export function agentHandlers(deps: UplinkHandlerDeps): CommandHandlers {
  const now = () => (deps.now ? deps.now() : new Date());
  const ping: CommandHandler = async () => {
    const s = deps.session();
    return {
      pong: true,
      site: deps.site,
      version: deps.version,
      bootId: deps.bootId,
      bdSeq: s.bdSeq,
      uptimeSec: Math.round((Date.now() - deps.startedAt) / 1000),
      time: now().toISOString(),
    };
  };
  const rebirth: CommandHandler = async () => ({ bdSeq: await deps.rebirth() });
  const cameraReboot: CommandHandler = async (args) => {
    const camera = findCamera(deps.db, String(args.camera));
    await withDriver(deps, camera, (d) => d.reboot());
    // An NVR channel's reboot is the NVR's: every channel on it goes down.
    return { camera: camera.id, device: camera.deviceId, affectedCameras: camerasOfDevice(deps.db, camera.deviceId) };
  };
  const cameraSetTime: CommandHandler = async (args) => {
    const camera = findCamera(deps.db, String(args.camera));
    return withDriver(deps, camera, async (d) => {
      const before = await d.time();
      const setTo = now();
      await d.setTime(setTo);
      const after = await d.time();
      return { camera: camera.id, device: camera.deviceId, setTo: setTo.toISOString(), offsetBeforeMs: before.offsetMs, offsetAfterMs: after.offsetMs };
    });
  };
  const configGet: CommandHandler = async () => ({ config: maskedConfig(deps.config) });
  return {
    ping,
    rebirth,
    'probe-now': notAvailable('probe-now arrives with health monitoring (issue 4)'),
    snapshot: notAvailable('snapshot arrives with health monitoring (issue 4)'),
    'camera-reboot': cameraReboot,
    'camera-set-time': cameraSetTime,
    'config-get': configGet,
    'stream-start': notAvailable('stream-start arrives with the video relay issue'),
    'stream-stop': notAvailable('stream-stop arrives with the video relay issue'),
  };
}
