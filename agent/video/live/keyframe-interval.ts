// The live view's opt-in keyframe-interval fix (web.maxKeyframeIntervalSec). A camera that ignores
// SetSynchronizationPoint shows its first picture only at its next scheduled keyframe: up to a
// whole GOP after the pull starts, and cameras ship with 2-4 s GOPs (Hikvision and Dahua: twice
// the frame rate; some 4 s or more). With the option on, before the first live pull of a
// camera's sub stream the agent reads that stream's encoder configuration over ONVIF and, when
// keyframes come less often than the option allows, sets its GovLength to maxSec × fps (the
// setting Frigate and most VMS guides ask installers to make by hand). Only sub streams: the main
// stream is what NVRs and the centre record, and a shorter GOP costs it bitrate or quality. A
// profile whose encoder configuration the main stream shares is left alone for the same reason.
// Off by default: it changes the camera, and the camera restarts that stream when it applies it.
import type { Database } from 'better-sqlite3';
import { intervalSeconds } from '../../../drivers/onvif/encoder';
import { DriverError, type Credentials, type KeyframeInterval } from '../../../drivers/types';
import type { DeviceRecord } from '../../inventory/types';
import { withDeviceDriver, type OpenDriver } from '../../inventory/device-driver';
import { CameraRequestSkipped, onvifStreamOf } from './camera-driver';
import { NOT_SUPPORTED, UNSUPPORTED_RETRY_MS } from './keyframe';
import type { EventBody } from '../../../contract';
import { systemClock, type Clock } from '../../../lib/clock';
import type { LiveStream } from './types';

/** After a check (changed or already short enough) the stream is not read again for this long. */
export const RECHECK_MS = 24 * 60 * 60 * 1000;

export interface KeyframeIntervalChange {
  cameraId: string;
  stream: LiveStream;
  profileToken: string;
  configurationToken: string;
  fps: number;
  /** GovLength before and after (as the camera reads back after the change). */
  fromGovLength: number;
  toGovLength: number;
  fromSec: number;
  toSec: number;
}

export type KeyframeIntervalOutcome =
  { action: 'changed'; change: KeyframeIntervalChange } | { action: 'kept'; interval: KeyframeInterval } | { action: 'skipped'; reason: string };

export interface KeyframeIntervalKeeperOptions {
  /** web.maxKeyframeIntervalSec; 0 turns the keeper off (every call is 'skipped'). */
  maxSec: number;
  /** Told after every change the camera accepted (the agent sends a camera-encoder-changed event). */
  onChanged?: (change: KeyframeIntervalChange) => void;
  clock?: Clock;
  /** Default RECHECK_MS. */
  recheckMs?: number;
  /** How long a device that refused is left alone; default UNSUPPORTED_RETRY_MS. */
  retryAfterMs?: number;
}

/** The camera-encoder-changed event the agent sends for a change (docs/mqtt.md). */
export function encoderChangedEvent(change: KeyframeIntervalChange): EventBody {
  return {
    type: 'camera-encoder-changed',
    severity: 'info',
    camera: change.cameraId,
    message: `camera ${change.cameraId} ${change.stream} stream: keyframe every ${change.toSec} s (was ${change.fromSec} s), set for the live view (web.maxKeyframeIntervalSec)`,
    detail: {
      stream: change.stream,
      setting: 'govLength',
      profileToken: change.profileToken,
      configurationToken: change.configurationToken,
      from: change.fromGovLength,
      to: change.toGovLength,
      fps: change.fps,
      fromSec: change.fromSec,
      toSec: change.toSec,
    },
  };
}

/** The GovLength that gives at most maxSec between keyframes at this frame rate (at least 1). */
export function targetGovLength(maxSec: number, fps: number): number {
  return Math.max(1, Math.floor(maxSec * fps + 1e-9));
}

/**
 * LivePullsOptions.prepare from the inventory: (cameraId, stream) → what it did. Never rejects
 * for "does not apply" (main stream, RTSP-only, unknown GovLength, checked recently): those are
 * 'skipped'. Rejects with the driver's error when the camera could not be read or refused the
 * change; a refusal ('unsupported' / 'device-fault') is remembered for retryAfterMs, a timeout is
 * tried again at the next pull.
 */
export function keyframeIntervalKeeper(
  db: Database,
  credentialsFor: (device: DeviceRecord) => Credentials | undefined,
  openDriver: OpenDriver,
  timeoutMs: number,
  options: KeyframeIntervalKeeperOptions,
): (cameraId: string, stream: LiveStream) => Promise<KeyframeIntervalOutcome> {
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const recheckMs = options.recheckMs ?? RECHECK_MS;
  const retryAfterMs = options.retryAfterMs ?? UNSUPPORTED_RETRY_MS;
  /** camera id -> not checked again before this time. */
  const nextCheck = new Map<string, number>();
  /** camera id -> the check under way (an MSE and a JSMpeg pull of one camera start together). */
  const inFlight = new Map<string, Promise<KeyframeIntervalOutcome>>();
  const skipped = (reason: string): KeyframeIntervalOutcome => ({ action: 'skipped', reason });

  const check = async (cameraId: string, stream: LiveStream): Promise<KeyframeIntervalOutcome> => {
    if (!(options.maxSec > 0)) return skipped('web.maxKeyframeIntervalSec is 0 (cameras are not changed)');
    if (stream !== 'sub') return skipped('only sub streams are changed (the main stream is the one recorded)');
    const due = nextCheck.get(cameraId);
    if (due !== undefined && now() < due) return skipped(`checked recently (again after ${new Date(due).toISOString()})`);
    let found;
    try {
      found = onvifStreamOf(db, cameraId, stream);
    } catch (err) {
      if (err instanceof CameraRequestSkipped) return skipped(err.message);
      throw err;
    }
    const { camera, device, profile } = found;
    const main = camera.streams.main;
    if (!camera.streams.sub || !main || main === profile) return skipped(`camera ${cameraId} has no separate sub stream`);

    try {
      return await withDeviceDriver(openDriver, device, credentialsFor(device), timeoutMs, async (driver) => {
        if (!driver.keyframeInterval || !driver.setKeyframeInterval) {
          nextCheck.set(cameraId, now() + retryAfterMs);
          return skipped(`the ${driver.kind} driver cannot read encoder settings`);
        }
        const before = await driver.keyframeInterval(profile.token);
        if (before.govLength === undefined || before.fps === undefined) {
          nextCheck.set(cameraId, now() + retryAfterMs);
          return skipped(`camera ${cameraId} does not state the sub stream's ${before.govLength === undefined ? 'GovLength' : 'frame rate'}`);
        }
        const target = targetGovLength(options.maxSec, before.fps);
        if (before.govLength <= target) {
          nextCheck.set(cameraId, now() + recheckMs);
          return { action: 'kept', interval: before };
        }
        const mainInterval = await driver.keyframeInterval(main.token);
        if (mainInterval.configurationToken === before.configurationToken) {
          nextCheck.set(cameraId, now() + recheckMs);
          return skipped(`camera ${cameraId}'s sub stream shares its encoder configuration with the main stream`);
        }
        await driver.setKeyframeInterval(profile.token, target);
        const after = await driver.keyframeInterval(profile.token);
        nextCheck.set(cameraId, now() + recheckMs);
        const toGovLength = after.govLength ?? target;
        const fps = after.fps ?? before.fps;
        const change: KeyframeIntervalChange = {
          cameraId,
          stream,
          profileToken: profile.token,
          configurationToken: before.configurationToken,
          fps,
          fromGovLength: before.govLength,
          toGovLength,
          fromSec: intervalSeconds(before.govLength, before.fps),
          toSec: intervalSeconds(toGovLength, fps),
        };
        options.onChanged?.(change);
        return { action: 'changed', change };
      });
    } catch (err) {
      if (err instanceof DriverError && NOT_SUPPORTED.has(err.code)) nextCheck.set(cameraId, now() + retryAfterMs);
      throw err;
    }
  };

  return (cameraId, stream) => {
    const running = inFlight.get(cameraId);
    if (running) return running;
    const p = check(cameraId, stream).finally(() => inFlight.delete(cameraId));
    inFlight.set(cameraId, p);
    return p;
  };
}
