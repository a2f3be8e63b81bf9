// Camera and device queries, label updates and removal.
import type { Database } from 'better-sqlite3';
import { parseRegion } from '../labels/region';
import { changedFields, labelsOf } from '../labels/merge';
import { CAMERA_JOIN_COLUMNS, DeviceRow, fromJoinedRow, toDeviceRecord } from './rows';
import type { CameraRecord, DeviceRecord, LabelPatch, StoredProfile, StreamRole } from './types';
import { UsageError } from '../../lib/errors';

const JOINED = `SELECT ${CAMERA_JOIN_COLUMNS} FROM cameras c JOIN devices d ON d.id = c.device_id`;

/** Orders 10.0.0.2 before 10.0.0.10 (text order would not). */
export function compareHosts(a: string, b: string): number {
  const pa = a.split('.').map(Number);
  const pb = b.split('.').map(Number);
  if (pa.length === 4 && pb.length === 4 && [...pa, ...pb].every(Number.isInteger)) {
    for (let i = 0; i < 4; i++) if (pa[i] !== pb[i]) return pa[i] - pb[i];
    return 0;
  }
  return a < b ? -1 : a > b ? 1 : 0;
}

export function compareCameras(a: CameraRecord, b: CameraRecord): number {
  return compareHosts(a.device.host, b.device.host) || a.device.port - b.device.port || a.channel - b.channel || (a.id < b.id ? -1 : 1);
}

export function listCameras(db: Database): CameraRecord[] {
  return (db.prepare(JOINED).all() as Record<string, unknown>[]).map(fromJoinedRow).sort(compareCameras);
}

export function countCameras(db: Database): number {
  return (db.prepare('SELECT COUNT(*) AS n FROM cameras').get() as { n: number }).n;
}

export function getCamera(db: Database, id: string): CameraRecord | undefined {
  const row = db.prepare(`${JOINED} WHERE c.id = ?`).get(id) as Record<string, unknown> | undefined;
  return row ? fromJoinedRow(row) : undefined;
}

export function getDevice(db: Database, id: string): DeviceRecord | undefined {
  const row = db.prepare('SELECT * FROM devices WHERE id = ?').get(id) as DeviceRow | undefined;
  return row ? toDeviceRecord(row) : undefined;
}

export function listDevices(db: Database): DeviceRecord[] {
  return (db.prepare('SELECT * FROM devices').all() as DeviceRow[]).map(toDeviceRecord).sort((a, b) => compareHosts(a.host, b.host) || a.port - b.port);
}

export function camerasOfDevice(db: Database, deviceId: string): string[] {
  return (db.prepare('SELECT id FROM cameras WHERE device_id = ? ORDER BY channel').all(deviceId) as Array<{ id: string }>).map((r) => r.id);
}

/** A camera by id, else by name; a clear usage error otherwise (with the NVR's channel ids when given an NVR id). */
export function resolveCamera(db: Database, idOrName: string): CameraRecord {
  const byId = getCamera(db, idOrName);
  if (byId) return byId;
  const row = db.prepare(`${JOINED} WHERE c.name = ?`).get(idOrName) as Record<string, unknown> | undefined;
  if (row) return fromJoinedRow(row);
  const device = getDevice(db, idOrName);
  if (device) {
    const ids = camerasOfDevice(db, device.id);
    throw new UsageError(`${idOrName} is a device with ${ids.length} channel camera(s): use one of ${ids.join(', ')}`);
  }
  throw new UsageError(`no camera with id or name "${idOrName}" (see: camgate cameras list)`);
}

const COLUMN_OF: Record<string, string> = {
  name: 'name',
  class: 'class',
  latitude: 'latitude',
  longitude: 'longitude',
  owner: 'owner',
  notes: 'notes',
  installDate: 'install_date',
};

function assignments(patch: LabelPatch): { sql: string[]; values: unknown[] } {
  const sql: string[] = [];
  const values: unknown[] = [];
  for (const [field, value] of Object.entries(patch)) {
    if (value === undefined) continue;
    if (field === 'region') {
      const parts = value === null ? undefined : parseRegion(value as string).parts;
      for (const level of ['province', 'city', 'county', 'township', 'village'] as const) {
        sql.push(`region_${level} = ?`);
        values.push(parts ? parts[level] : null);
      }
    } else {
      sql.push(`${COLUMN_OF[field]} = ?`);
      values.push(value);
    }
  }
  return { sql, values };
}

export interface LabelUpdate {
  id: string;
  patch: LabelPatch;
}

/**
 * Applies already-validated label updates in one transaction; returns the ids that changed.
 * Names are cleared first and set after, so two cameras can swap names in one import
 * (SQLite checks UNIQUE per statement, not at commit).
 */
export function applyLabelUpdates(db: Database, updates: LabelUpdate[], now: Date): string[] {
  const run = db.transaction(() => {
    const effective: LabelUpdate[] = [];
    for (const u of updates) {
      const current = getCamera(db, u.id);
      if (!current) throw new UsageError(`no camera with id "${u.id}"`);
      const patch = changedFields(labelsOf(current), u.patch);
      if (Object.keys(patch).length > 0) effective.push({ id: u.id, patch });
    }
    const clearName = db.prepare('UPDATE cameras SET name = NULL WHERE id = ?');
    for (const u of effective) if (u.patch.name !== undefined) clearName.run(u.id);
    for (const u of effective) {
      const { sql, values } = assignments(u.patch);
      db.prepare(`UPDATE cameras SET ${sql.join(', ')}, updated_at = ? WHERE id = ?`).run(...values, now.toISOString(), u.id);
    }
    return effective.map((u) => u.id);
  });
  return run();
}

/** Removes a camera; a device left without cameras goes too, with its stored credentials. */
export function removeCamera(db: Database, id: string): { removedDevice?: string } {
  const run = db.transaction(() => {
    const camera = getCamera(db, id);
    if (!camera) throw new UsageError(`no camera with id "${id}"`);
    db.prepare('DELETE FROM cameras WHERE id = ?').run(id);
    if (camerasOfDevice(db, camera.deviceId).length > 0) return {};
    const device = db.prepare('SELECT credential_id FROM devices WHERE id = ?').get(camera.deviceId) as { credential_id: number | null };
    db.prepare('DELETE FROM devices WHERE id = ?').run(camera.deviceId);
    if (device.credential_id !== null) {
      const stillUsed = db.prepare('SELECT 1 FROM devices WHERE credential_id = ?').get(device.credential_id);
      if (!stillUsed) db.prepare('DELETE FROM credentials WHERE id = ?').run(device.credential_id);
    }
    return { removedDevice: camera.deviceId };
  });
  return run();
}

/** A device answered a health probe: moves last_seen and, when read, its clock offset. Returns whether the device exists. */
export function recordDeviceSeen(db: Database, deviceId: string, seen: { at: Date; clockOffsetMs?: number }): boolean {
  const r = db
    .prepare('UPDATE devices SET last_seen = ?, clock_offset_ms = COALESCE(?, clock_offset_ms) WHERE id = ?')
    .run(seen.at.toISOString(), seen.clockOffsetMs === undefined ? null : Math.round(seen.clockOffsetMs), deviceId);
  return r.changes > 0;
}

/** The profile to show for a stream: sub falls back to main on a one-profile camera. The live
 * view and its camera settings use this; relays do not fall back (agent/video/relay). */
export function profileOf(camera: CameraRecord, stream: StreamRole): StoredProfile | undefined {
  const { main, sub } = camera.streams;
  return stream === 'main' ? main : (sub ?? main);
}
