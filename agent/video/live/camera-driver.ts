// The ONVIF side of a camera's stream, for the live view's requests to the camera (a keyframe
// now; a shorter keyframe interval): the inventory says which device and profile, a driver is
// opened with the device's (or the default) credentials and closed after the one job.
import type { Database } from 'better-sqlite3';
import type { Credentials, DeviceDriver } from '../../../drivers/types';
import type { DriverTarget } from '../../discovery/drivers-api';
import { getCamera, profileOf } from '../../inventory/cameras';
import type { CameraRecord, DeviceRecord, StoredProfile } from '../../inventory/types';
import { targetOfDevice } from '../../uplink/handlers';
import type { LiveStream } from './live-pull';

export type OpenDriver = (target: DriverTarget, credentials?: Credentials, options?: { timeoutMs?: number }) => DeviceDriver;

/** Nothing was asked of the camera (no I/O happened): RTSP-only device, known not to support it, opted out. */
export class CameraRequestSkipped extends Error {
  override name = 'CameraRequestSkipped';
}

export interface CameraStream {
  camera: CameraRecord;
  device: DeviceRecord;
  profile: StoredProfile;
}

/** Looks the camera's stream up (main = first profile, sub = second, else the first). Throws for
 * an unknown camera or profile, CameraRequestSkipped for an RTSP-only device. */
export function onvifStreamOf(db: Database, cameraId: string, stream: LiveStream): CameraStream {
  const camera = getCamera(db, cameraId);
  if (!camera) throw new Error(`no camera "${cameraId}" in the inventory`);
  if (camera.device.driver !== 'onvif') throw new CameraRequestSkipped(`camera ${cameraId} is RTSP-only: nothing to ask over ONVIF`);
  const profile = profileOf(camera, stream);
  if (!profile) throw new Error(`camera ${cameraId} has no ${stream} profile`);
  return { camera, device: camera.device, profile };
}

/** Runs `job` with a driver for the device, closed afterwards whatever happens. */
export async function withDriver<T>(
  device: DeviceRecord,
  credentialsFor: (device: DeviceRecord) => Credentials | undefined,
  openDriver: OpenDriver,
  timeoutMs: number,
  job: (driver: DeviceDriver) => Promise<T>,
): Promise<T> {
  const driver = openDriver(targetOfDevice(device), credentialsFor(device), { timeoutMs });
  try {
    return await job(driver);
  } finally {
    driver.close();
  }
}
