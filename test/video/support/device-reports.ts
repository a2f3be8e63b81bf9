// A device report as the drivers give it, for inventory rows in tests that need a camera with
// given profile tokens (keyframe requests, keyframe interval): one channel, main 1920x1080 first.
import type { DeviceReport } from '../../../drivers/types';

export function deviceReport(host: string, driver: 'onvif' | 'rtsp', tokens: string[]): DeviceReport {
  return {
    driver,
    host,
    port: driver === 'onvif' ? 80 : 554,
    url: driver === 'onvif' ? `http://${host}:80/onvif/device_service` : `rtsp://${host}:554/live`,
    identity: { manufacturer: 'Test', model: 'T1', serial: `S-${host}` },
    isNvr: false,
    channels: [
      {
        channel: 1,
        profiles: tokens.map((token, i) => ({
          token,
          codec: 'H264',
          width: i === 0 ? 1920 : 640,
          height: i === 0 ? 1080 : 360,
          streamUri: `rtsp://${host}:554/${token}`,
        })),
      },
    ],
  };
}
