// Reaching a device of the inventory again: where its driver connects, and a driver opened with
// its login for one job and closed afterwards, whatever happens. The uplink's commands, the
// health monitor's clock sync and the live view's camera requests all go through here.
import type { Credentials, DeviceDriver } from '../../drivers/types';
import type { DriversApi, DriverTarget } from '../../drivers/api';
import type { DeviceRecord } from './types';
import { splitUrl } from '../../lib/url';

export type OpenDriver = DriversApi['openDriver'];

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

/** Runs `job` with a driver for the device (its own or the default login), closed afterwards.
 * When `signal` aborts the driver is closed at once, which ends its requests in flight (their
 * connections with them), and this rejects with the signal's reason. */
export async function withDeviceDriver<T>(
  openDriver: OpenDriver,
  device: DeviceRecord,
  credentials: Credentials | undefined,
  timeoutMs: number,
  job: (driver: DeviceDriver) => Promise<T>,
  signal?: AbortSignal,
): Promise<T> {
  if (signal?.aborted) throw signal.reason;
  const driver = openDriver(targetOfDevice(device), credentials, { timeoutMs });
  let onAbort: (() => void) | undefined;
  try {
    if (!signal) return await job(driver);
    const aborted = new Promise<never>((_resolve, reject) => {
      onAbort = () => {
        driver.close();
        reject(signal.reason);
      };
      signal.addEventListener('abort', onAbort, { once: true });
    });
    return await Promise.race([job(driver), aborted]);
  } finally {
    if (onAbort) signal?.removeEventListener('abort', onAbort);
    driver.close();
  }
}
