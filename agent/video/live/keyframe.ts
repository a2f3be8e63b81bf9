// The live view's keyframe request (LivePullsOptions.requestKeyframe): when a live pull's ffmpeg
// plays, ask the camera's encoder for a keyframe now (ONVIF Media SetSynchronizationPoint), so
// the first picture need not wait for the camera's next scheduled I-frame (0-2 s with a 2 s
// I-frame interval). Hikvision, Dahua, Uniview and Axis implement it. RTSP-only devices are
// skipped; a device that answers "not supported" is not asked again for an hour.
import type { Database } from 'better-sqlite3';
import { DriverError, type Credentials } from '../../../drivers/types';
import type { DeviceRecord } from '../../inventory/types';
import { withDeviceDriver, type OpenDriver } from '../../inventory/device-driver';
import { CameraRequestSkipped, onvifStreamOf } from './camera-driver';
import { systemClock, type Clock } from '../../../lib/clock';
import type { LiveStream } from './types';

/** How long a device that does not support SetSynchronizationPoint is left alone. */
export const UNSUPPORTED_RETRY_MS = 60 * 60 * 1000;

/** Driver error codes that mean "this device does not do it" (as opposed to "not now": timeout, unreachable, auth). */
export const NOT_SUPPORTED = new Set(['unsupported', 'device-fault']);

export interface KeyframeRequesterOptions {
  /** Clock for the "not supported" memory; default the system clock. */
  clock?: Clock;
  /** Default UNSUPPORTED_RETRY_MS. */
  retryAfterMs?: number;
  /** Told when a device is newly remembered as not supporting keyframe requests (the agent logs
   * a hint about web.maxKeyframeIntervalSec there). */
  onUnsupported?: (device: DeviceRecord, reason: string) => void;
}

/**
 * LivePullsOptions.requestKeyframe from the inventory: looks the camera up (main = first profile,
 * sub = second, else the first), opens a driver for its device with the device's (or the default)
 * credentials, sends SetSynchronizationPoint for that profile and closes the driver. Resolves once
 * the camera accepted; rejects otherwise (unknown camera, RTSP-only device, DriverError from the
 * device, or CameraRequestSkipped while the device is remembered as not supporting it).
 */
export function keyframeRequester(
  db: Database,
  credentialsFor: (device: DeviceRecord) => Credentials | undefined,
  openDriver: OpenDriver,
  timeoutMs: number,
  options: KeyframeRequesterOptions = {},
): (cameraId: string, stream: LiveStream) => Promise<void> {
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const retryAfterMs = options.retryAfterMs ?? UNSUPPORTED_RETRY_MS;
  /** device id -> until when it is not asked (it answered "not supported"). */
  const unsupportedUntil = new Map<string, number>();

  const remember = (device: DeviceRecord, reason: string): void => {
    unsupportedUntil.set(device.id, now() + retryAfterMs);
    options.onUnsupported?.(device, reason);
  };

  return async (cameraId, stream) => {
    const { device, profile } = onvifStreamOf(db, cameraId, stream);
    const until = unsupportedUntil.get(device.id);
    if (until !== undefined) {
      if (now() < until)
        throw new CameraRequestSkipped(`device ${device.id} does not support keyframe requests (asked again after ${new Date(until).toISOString()})`);
      unsupportedUntil.delete(device.id);
    }
    await withDeviceDriver(openDriver, device, credentialsFor(device), timeoutMs, async (driver) => {
      try {
        if (!driver.requestKeyframe) {
          const why = `the ${driver.kind} driver cannot request keyframes`;
          remember(device, why);
          throw new CameraRequestSkipped(why);
        }
        await driver.requestKeyframe(profile.token);
      } catch (err) {
        if (err instanceof DriverError && NOT_SUPPORTED.has(err.code)) remember(device, err.message);
        throw err;
      }
    });
  };
}
