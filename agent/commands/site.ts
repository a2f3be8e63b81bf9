// The agent's command handlers (what each cmd/{name} does). Everything they touch comes in
// through UplinkHandlerDeps, so tests swap any part; the dispatcher (commands.ts) does the
// validation and the replies.
import type { Database } from 'better-sqlite3';
import type { Credentials, DeviceDriver, MediaProfile } from '../../drivers/types';
import type { DriverTarget } from '../../drivers/api';
import { agentConfig } from '../config/spec';
import { camerasOfDevice, getCamera, listCameras, recordDeviceSeen } from '../inventory/cameras';
import type { CameraRecord, DeviceRecord } from '../inventory/types';
import { withDeviceDriver } from '../inventory/device-driver';
import { CommandHandler, CommandHandlers } from '../uplink/commands';
import { httpGet, HttpFetchError, HttpFetchOptions, HttpFetchResult } from '../../drivers/http-fetch';
import type { CameraStatus, ReplyErrorCode } from '../../contract';
import type { AgentConfig } from '../config/schema';
import type { ReferenceView } from '../health/monitor';
import { systemClock, type Clock } from '../../lib/clock';
import { CommandError } from '../../contract';
import { mapWithConcurrency } from '../../lib/concurrency';

/** Largest snapshot accepted (the reply carries it base64-encoded, ~4/3 of this). */
export const SNAPSHOT_MAX_BYTES = 512 * 1024;

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
  clock?: Clock;
  /** HTTP GET for snapshots; default the real one (http-fetch.ts). */
  httpGet?: (url: string, options: HttpFetchOptions) => Promise<HttpFetchResult>;
  /** Snapshot size cap; default SNAPSHOT_MAX_BYTES. */
  snapshotMaxBytes?: number;
  /** Health monitoring (absent when health.enabled is false). */
  health?: HealthCommands;
}

/** What the commands need from the health monitor (agent/health/monitor.ts). */
export interface HealthCommands {
  /** `signal`: the caller stopped waiting; the sweep's own work is withdrawn (health/monitor.ts). */
  sweepNow(cameraIds?: readonly string[], opts?: { streams?: boolean; signal?: AbortSignal }): Promise<CameraStatus[]>;
  status(cameraId: string): CameraStatus | undefined;
  thumbnail(cameraId: string): { jpeg: Buffer; takenAt: string } | undefined;
  referenceOf(cameraId: string): ReferenceView;
  /** Resolves after the probe that takes it (or when `signal` aborts). */
  renewReference(cameraId: string, signal?: AbortSignal): Promise<ReferenceView & { renewed: boolean }>;
  clearReference(cameraId: string): boolean;
}

function findCamera(db: Database, id: string): CameraRecord {
  const camera = getCamera(db, id);
  if (!camera) throw new CommandError('invalid-args', `no camera with id "${id}" on this site`);
  return camera;
}

/** `fn` with the camera's device driver; the command's signal (aborted at its timeout) closes it. */
function withDriver<T>(deps: UplinkHandlerDeps, camera: CameraRecord, signal: AbortSignal, fn: (driver: DeviceDriver) => Promise<T>): Promise<T> {
  return withDeviceDriver(deps.openDriver, camera.device, deps.credentialsFor(camera.device), deps.config.onvif.timeoutMs, fn, signal);
}

export function agentHandlers(deps: UplinkHandlerDeps): CommandHandlers {
  const clock = deps.clock ?? systemClock;
  const now = () => new Date(clock.now());
  const ping: CommandHandler = async () => {
    const s = deps.session();
    return {
      pong: true,
      site: deps.site,
      version: deps.version,
      bootId: deps.bootId,
      bdSeq: s.bdSeq,
      uptimeSec: Math.round((clock.now() - deps.startedAt) / 1000),
      time: now().toISOString(),
    };
  };
  const rebirth: CommandHandler = async () => ({ bdSeq: await deps.rebirth() });
  const cameraReboot: CommandHandler = async (args, ctx) => {
    const camera = findCamera(deps.db, String(args.camera));
    await withDriver(deps, camera, ctx.signal, (d) => d.reboot());
    // An NVR channel's reboot is the NVR's: every channel on it goes down.
    return { camera: camera.id, device: camera.deviceId, affectedCameras: camerasOfDevice(deps.db, camera.deviceId) };
  };
  const cameraSetTime: CommandHandler = async (args, ctx) => {
    const camera = findCamera(deps.db, String(args.camera));
    return withDriver(deps, camera, ctx.signal, async (d) => {
      const before = await d.time();
      const setTo = now();
      await d.setTime(setTo);
      const after = await d.time();
      return { camera: camera.id, device: camera.deviceId, setTo: setTo.toISOString(), offsetBeforeMs: before.offsetMs, offsetAfterMs: after.offsetMs };
    });
  };
  const snapshot: CommandHandler = async (args, ctx) => {
    const camera = findCamera(deps.db, String(args.camera));
    const label = `camera ${camera.id} (${camera.device.host})`;
    const wanted = typeof args.profile === 'string' ? args.profile : undefined;
    let profile: MediaProfile | undefined;
    if (wanted !== undefined) {
      profile = camera.profiles.find((p) => p.token === wanted);
      if (!profile)
        throw new CommandError('invalid-args', `${label} has no profile "${wanted}"; it has: ${camera.profiles.map((p) => p.token).join(', ') || 'none'}`);
    } else {
      profile = camera.profiles.find((p) => p.snapshotUri) ?? camera.streams.main;
    }
    let uri = profile?.snapshotUri;
    if (!uri && profile && camera.device.driver === 'onvif') {
      const token = profile.token;
      try {
        uri = await withDriver(deps, camera, ctx.signal, (d) => d.snapshotUri(token));
      } catch (err) {
        throw commandErrorOf(err, `asking ${label} for its snapshot URI`);
      }
    }
    if (!uri) throw new CommandError('not-available', `${label} has no snapshot URI${profile ? ` (profile ${profile.token})` : ''}`);
    const get = deps.httpGet ?? httpGet;
    const credentials = deps.credentialsFor(camera.device);
    let res: HttpFetchResult;
    try {
      res = await get(uri, {
        ...(credentials ? { credentials } : {}),
        timeoutMs: deps.config.onvif.timeoutMs,
        maxBytes: deps.snapshotMaxBytes ?? SNAPSHOT_MAX_BYTES,
        signal: ctx.signal,
      });
    } catch (err) {
      throw commandErrorOf(err, `snapshot of ${label}`);
    }
    if (res.body.length < 3 || res.body[0] !== 0xff || res.body[1] !== 0xd8) {
      throw new CommandError(
        'not-an-image',
        `snapshot of ${label}: the answer is not a JPEG (${res.body.length} bytes${res.contentType ? `, ${res.contentType}` : ''})`,
      );
    }
    return {
      camera: camera.id,
      device: camera.deviceId,
      ...(profile ? { profile: profile.token } : {}),
      contentType: 'image/jpeg',
      bytes: res.body.length,
      base64: res.body.toString('base64'),
    };
  };
  const thumbnail: CommandHandler = async (args) => {
    const camera = findCamera(deps.db, String(args.camera));
    if (!deps.health) throw new CommandError('not-available', 'health monitoring is off on this site (health.enabled: false): no thumbnails are taken');
    const thumb = deps.health.thumbnail(camera.id);
    if (!thumb) throw new CommandError('not-available', `no thumbnail of ${camera.id} yet: its first picture probe has not succeeded (see its status)`);
    return { camera: camera.id, takenAt: thumb.takenAt, contentType: 'image/jpeg', bytes: thumb.jpeg.length, base64: thumb.jpeg.toString('base64') };
  };
  const pictureReference: CommandHandler = async (args, ctx) => {
    const camera = findCamera(deps.db, String(args.camera));
    const health = deps.health;
    if (!health) throw new CommandError('not-available', 'health monitoring is off on this site (health.enabled: false): no picture references are kept');
    const action = String(args.action);
    if (action === 'clear') return { camera: camera.id, action, cleared: health.clearReference(camera.id) };
    if (action === 'show') return { camera: camera.id, action, ...referenceResult(health.referenceOf(camera.id)) };
    const renewal = await health.renewReference(camera.id, ctx.signal);
    const why = renewal.renewed ? undefined : noPictureWhy(camera.id, health.status(camera.id));
    return { camera: camera.id, action, renewed: renewal.renewed, ...referenceResult(renewal), ...(why ? { error: why } : {}) };
  };
  const probeNow: CommandHandler = async (args, ctx) => {
    const cameras = typeof args.camera === 'string' ? [findCamera(deps.db, args.camera)] : listCameras(deps.db);
    if (deps.health) {
      const statuses = new Map(
        (
          await deps.health.sweepNow(
            cameras.map((c) => c.id),
            { streams: true, signal: ctx.signal },
          )
        ).map((s) => [s.camera, s]),
      );
      const results = cameras.map((c) => {
        const s = statuses.get(c.id);
        const reachable = s?.reach?.ok ?? false;
        return {
          camera: c.id,
          device: c.deviceId,
          reachable,
          latencyMs: s?.reach?.latencyMs ?? null,
          clockOffsetMs: s?.clockOffsetMs ?? null,
          ...(s?.reach?.error ? { error: s.reach.error } : !s ? { error: { code: 'timeout', message: 'not probed: the command ran out of time' } } : {}),
          state: s?.state ?? 'unknown',
          reason: s?.reason ?? null,
          streams: s?.streams ?? [],
        };
      });
      return { probed: results.length, reachable: results.filter((r) => r.reachable).length, cameras: results };
    }
    // One probe per device: an NVR's channels share its answer.
    const byDevice = new Map<string, CameraRecord[]>();
    for (const c of cameras) byDevice.set(c.deviceId, [...(byDevice.get(c.deviceId) ?? []), c]);
    const devices = [...byDevice.values()];
    const outcomes = new Map<string, ProbeOutcome>();
    const limit = Math.max(1, deps.config.discovery.concurrency);
    await mapWithConcurrency(devices, limit, async (group) => {
      if (ctx.signal.aborted) {
        outcomes.set(group[0].deviceId, {
          reachable: false,
          latencyMs: null,
          clockOffsetMs: null,
          error: { code: 'timeout', message: 'not probed: the command ran out of time' },
        });
        return;
      }
      const outcome = await probeDevice(deps, group[0], ctx.signal);
      if (outcome.reachable)
        recordDeviceSeen(deps.db, group[0].deviceId, { at: now(), ...(outcome.clockOffsetMs !== null ? { clockOffsetMs: outcome.clockOffsetMs } : {}) });
      outcomes.set(group[0].deviceId, outcome);
    });
    const results = cameras.map((c) => ({ camera: c.id, device: c.deviceId, ...(outcomes.get(c.deviceId) as ProbeOutcome) }));
    return { probed: results.length, reachable: results.filter((r) => r.reachable).length, cameras: results };
  };
  const configGet: CommandHandler = async () => ({ config: agentConfig.masked(deps.config) });
  return {
    ping,
    rebirth,
    'probe-now': probeNow,
    snapshot,
    thumbnail,
    'picture-reference': pictureReference,
    'camera-reboot': cameraReboot,
    'camera-set-time': cameraSetTime,
    'config-get': configGet,
    // stream-start / stream-stop / stream-list: agent/commands/relay.ts (wired in agent.ts).
  };
}

/** A reference as the picture-reference command answers it (its thumbnail inline, as thumbnail's). */
function referenceResult(view: ReferenceView): Record<string, unknown> {
  const { reference, thumbnail } = view;
  return {
    reference: reference ? { takenAt: reference.takenAt, origin: reference.origin, thumbnailBytes: thumbnail?.length ?? 0 } : null,
    renewPending: view.renewRequestedAt !== null,
    ...(reference && thumbnail ? { contentType: 'image/jpeg', base64: thumbnail.toString('base64') } : {}),
  };
}

/** Why a renewal's probe took no reference, from the camera's status after it. */
function noPictureWhy(camera: string, status: CameraStatus | undefined): { code: string; message: string } {
  const tail = 'the reference is taken at its next probe with a picture';
  if (status?.state === 'offline') return { code: 'unreachable', message: `${camera} is offline: no picture probe ran; ${tail}` };
  const error = status?.picture?.error;
  if (error) return { code: error.code, message: `${camera} gave no picture (${error.message}); ${tail}` };
  return { code: 'timeout', message: `${camera}: its picture probe did not finish in time; ${tail}` };
}

interface ProbeOutcome {
  reachable: boolean;
  latencyMs: number | null;
  clockOffsetMs: number | null;
  error?: { code: string; message: string };
}

/** ONVIF: GetSystemDateAndTime (open on every device, gives the clock offset). RTSP-only: DESCRIBE. */
async function probeDevice(deps: UplinkHandlerDeps, camera: CameraRecord, signal: AbortSignal): Promise<ProbeOutcome> {
  const started = performance.now();
  try {
    return await withDriver(deps, camera, signal, async (d) => {
      if (camera.device.driver === 'rtsp') {
        await d.channels();
        return { reachable: true, latencyMs: Math.round(performance.now() - started), clockOffsetMs: null };
      }
      const reading = await d.time();
      return { reachable: true, latencyMs: Math.round(performance.now() - started), clockOffsetMs: Math.round(reading.offsetMs) };
    });
  } catch (err) {
    const e = err as { code?: unknown; message?: unknown };
    const code = typeof e?.code === 'string' ? e.code : 'failed';
    const message = typeof e?.message === 'string' ? e.message : String(err);
    return {
      reachable: false,
      latencyMs: null,
      clockOffsetMs: null,
      error: { code, message: message.includes(camera.device.host) ? message : `${camera.device.host}: ${message}` },
    };
  }
}

// A refused Basic challenge is an auth problem to the centre; the message says which and what to do.
const FETCH_CODES: Record<string, ReplyErrorCode> = {
  auth: 'auth',
  'basic-auth-refused': 'auth',
  unreachable: 'unreachable',
  timeout: 'timeout',
  'too-large': 'too-large',
};

/** A fetch or driver failure as an error reply naming what was being done. */
function commandErrorOf(err: unknown, doing: string): CommandError {
  if (err instanceof CommandError) return err;
  const e = err as { code?: unknown; message?: unknown };
  const code = err instanceof HttpFetchError || (err as Error)?.name === 'DriverError' ? (FETCH_CODES[String(e.code)] ?? 'failed') : 'failed';
  return new CommandError(code, `${doing}: ${typeof e?.message === 'string' ? e.message : String(err)}`);
}
