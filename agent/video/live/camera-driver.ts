// The ONVIF side of a camera's stream, for the live view's requests to the camera (a keyframe
// now; a shorter keyframe interval): the inventory says which device and profile; the driver is
// opened for the one job with withDeviceDriver (agent/inventory/device-driver.ts).
import type { Database } from 'better-sqlite3';
import { getCamera, profileOf } from '../../inventory/cameras';
import type { CameraRecord, DeviceRecord, StoredProfile } from '../../inventory/types';
import type { LiveStream } from './types';

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
