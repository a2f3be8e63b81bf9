// The live view's keyframe request (LivePullsOptions.requestKeyframe): when a live pull's ffmpeg
// plays, ask the camera's encoder for a keyframe now (ONVIF Media SetSynchronizationPoint), so
// the first picture need not wait for the camera's next scheduled I-frame (0-2 s with a 2 s
// I-frame interval). Hikvision, Dahua, Uniview and Axis implement it. RTSP-only devices are
// skipped; a device that answers "not supported" is not asked again for an hour.
import type { Database } from 'better-sqlite3';
import { DriverError, type Credentials, type DeviceDriver } from '../../../drivers/types';
import type { DriverTarget } from '../../discovery/drivers-api';
import { getCamera } from '../../inventory/cameras';
import type { DeviceRecord } from '../../inventory/types';
import { targetOfDevice } from '../../uplink/handlers';
import { profileOf } from '../../web/cameras';
import type { LiveStream } from './live-pull';

/** How long a device that does not support SetSynchronizationPoint is left alone. */
export const UNSUPPORTED_RETRY_MS = 60 * 60 * 1000;

/** Driver error codes that mean "this device does not do it" (as opposed to "not now": timeout, unreachable, auth). */
const NOT_SUPPORTED = new Set(['unsupported', 'device-fault']);

export type OpenDriver = (target: DriverTarget, credentials?: Credentials, options?: { timeoutMs?: number }) => DeviceDriver;

export interface KeyframeRequesterOptions {
  /** Clock for the "not supported" memory; default Date.now. */
  now?: () => number;
  /** Default UNSUPPORTED_RETRY_MS. */
  retryAfterMs?: number;
}

/** Why a keyframe was not requested (no I/O happened): RTSP-only device, or known not to support it. */
export class KeyframeSkipped extends Error {
  override name = 'KeyframeSkipped';
}

/**
 * LivePullsOptions.requestKeyframe from the inventory: looks the camera up (main = first profile,
 * sub = second, else the first), opens a driver for its device with the device's (or the default)
 * credentials, sends SetSynchronizationPoint for that profile and closes the driver. Resolves once
 * the camera accepted; rejects otherwise (unknown camera, RTSP-only device, DriverError from the
 * device, or KeyframeSkipped while the device is remembered as not supporting it).
 */
export function keyframeRequester(
  db: Database,
  credentialsFor: (device: DeviceRecord) => Credentials | undefined,
  openDriver: OpenDriver,
  timeoutMs: number,
  options: KeyframeRequesterOptions = {},
): (cameraId: string, stream: LiveStream) => Promise<void> {
  const now = options.now ?? Date.now;
  const retryAfterMs = options.retryAfterMs ?? UNSUPPORTED_RETRY_MS;
  /** device id -> until when it is not asked (it answered "not supported"). */
  const unsupportedUntil = new Map<string, number>();

  return async (cameraId, stream) => {
    const camera = getCamera(db, cameraId);
    if (!camera) throw new Error(`no camera "${cameraId}" in the inventory`);
    const device = camera.device;
    if (device.driver !== 'onvif') throw new KeyframeSkipped(`camera ${cameraId} is RTSP-only: no keyframe request`);
    const profile = profileOf(camera, stream);
    if (!profile) throw new Error(`camera ${cameraId} has no ${stream} profile`);
    const until = unsupportedUntil.get(device.id);
    if (until !== undefined) {
      if (now() < until) throw new KeyframeSkipped(`device ${device.id} does not support keyframe requests (asked again after ${new Date(until).toISOString()})`);
      unsupportedUntil.delete(device.id);
    }
    const driver = openDriver(targetOfDevice(device), credentialsFor(device), { timeoutMs });
    try {
      if (!driver.requestKeyframe) {
        unsupportedUntil.set(device.id, now() + retryAfterMs);
        throw new KeyframeSkipped(`the ${driver.kind} driver cannot request keyframes`);
      }
      await driver.requestKeyframe(profile.token);
    } catch (err) {
      if (err instanceof DriverError && NOT_SUPPORTED.has(err.code)) unsupportedUntil.set(device.id, now() + retryAfterMs);
      throw err;
    } finally {
      driver.close();
    }
  };
}
