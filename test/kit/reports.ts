// Device reports as the drivers give them, and inventories built from them, for tests that need
// cameras in the ledger without a device to ask.
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import type { ChannelReport, DeviceReport } from '../../drivers/types';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';

export function channel(n: number, host: string, extra: Partial<ChannelReport> = {}): ChannelReport {
  return {
    channel: n,
    videoSourceToken: `vs${n}`,
    profiles: [
      {
        token: `p${n}main`,
        name: 'main',
        codec: 'H264',
        width: 1920,
        height: 1080,
        fps: 25,
        streamUri: `rtsp://${host}:554/ch${n}/main`,
        snapshotUri: `http://${host}/snap/${n}`,
      },
      { token: `p${n}sub`, name: 'sub', codec: 'H264', width: 640, height: 360, fps: 15, streamUri: `rtsp://${host}:554/ch${n}/sub` },
    ],
    ...extra,
  };
}

export function report(overrides: Partial<DeviceReport> & { host: string }): DeviceReport {
  const host = overrides.host;
  return {
    driver: 'onvif',
    port: 80,
    url: `http://${host}/onvif/device_service`,
    endpointUuid: 'urn:uuid:11111111-2222-3333-4444-555555555555',
    identity: { manufacturer: 'Acme', model: 'IPC-100', firmware: '1.00', serial: 'SN0001', hardwareId: '88', mac: '44:19:b6:00:00:01' },
    isNvr: false,
    channels: [channel(1, host)],
    clock: { deviceUtc: new Date().toISOString(), offsetMs: 1200 },
    scopes: ['onvif://www.onvif.org/name/Acme'],
    ...overrides,
  };
}

/** One channel whose profiles have the given tokens (main 1920x1080 first, then 640x360). */
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

/** An inventory with `n` single-channel ONVIF cameras (127.0.9.x addresses, never contacted). */
export function inventoryWith(dir: string, n: number): Database {
  const db = openDatabase(join(dir, 'inv'));
  const now = new Date('2025-01-02T03:04:05.000Z');
  for (let i = 0; i < n; i++) {
    const host = `127.0.9.${i + 10}`;
    upsertDeviceReport(
      db,
      report({
        host,
        endpointUuid: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        identity: { manufacturer: 'Acme', model: 'IPC', firmware: '1.00', serial: `SN${i}`, mac: `44:19:b6:00:01:${(i + 16).toString(16)}` },
        channels: [channel(1, host)],
      }),
      { now },
    );
  }
  return db;
}
