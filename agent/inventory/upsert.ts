// Saves what identification found about a device. Finds the device by identity first
// (endpoint UUID, serial, MAC, RTSP URL) and by address last, so a camera at a new IP keeps
// its ids; updates addresses, identity, profiles and last_seen, and never touches labels.
import type { Database } from 'better-sqlite3';
import type { DeviceReport, MediaProfile } from '../../drivers/types';
import { deriveCameraId, deriveDeviceId, IdBasis, IdentityFacts, meaningfulSerial, rtspSourceKey } from './ids';
import type { DeviceRow } from './rows';
import type { StoredProfile } from './types';
import { stripUrlCredentials } from '../../lib/redact';
import { textOf } from '../../lib/redact';
import { normalizeEndpointUuid, normalizeMac } from '../../drivers/ids';

export interface UpsertOptions {
  now: Date;
  /** 'added' when a person added the device by address; it then stays 'added'. */
  source?: 'discovered' | 'added';
}

export interface UpsertResult {
  deviceId: string;
  created: boolean;
  idBasis: IdBasis;
  /** "host:port" the device had before, when it was found at a new address. */
  movedFrom?: string;
  cameras: Array<{ id: string; channel: number; created: boolean }>;
}

/** Ledger text fields stay strings exactly as sent; blanks become NULL. */
function text(value: unknown): string | null {
  if (value === undefined || value === null) return null;
  const s = textOf(value).trim();
  return s === '' ? null : s;
}

export function factsFromReport(report: DeviceReport): IdentityFacts {
  return {
    driver: report.driver,
    endpointUuid: report.endpointUuid,
    manufacturer: report.identity.manufacturer,
    serial: report.identity.serial,
    mac: report.identity.mac,
    url: report.url,
    host: report.host,
    port: report.port,
  };
}

/** True when the row and the facts name two different pieces of hardware. */
export function identityConflicts(row: DeviceRow, facts: IdentityFacts): boolean {
  const uuid = normalizeEndpointUuid(facts.endpointUuid);
  const rowUuid = normalizeEndpointUuid(row.endpoint_uuid ?? undefined);
  if (uuid && rowUuid && uuid !== rowUuid) return true;
  const serial = meaningfulSerial(facts.serial);
  const rowSerial = meaningfulSerial(row.serial ?? undefined);
  if (serial && rowSerial && serial.toLowerCase() !== rowSerial.toLowerCase()) return true;
  const mac = normalizeMac(facts.mac);
  const rowMac = normalizeMac(row.mac ?? undefined);
  if (mac && rowMac && mac !== rowMac) return true;
  return false;
}

function sameManufacturer(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? '').trim().toLowerCase() === (b ?? '').trim().toLowerCase();
}

/** The existing device these facts describe, strongest evidence first, or undefined. */
export function findDevice(db: Database, facts: IdentityFacts): DeviceRow | undefined {
  const candidates: DeviceRow[] = [];
  const uuid = normalizeEndpointUuid(facts.endpointUuid);
  if (uuid) candidates.push(...(db.prepare('SELECT * FROM devices WHERE endpoint_uuid = ?').all(uuid) as DeviceRow[]));
  const serial = meaningfulSerial(facts.serial);
  if (serial) {
    const rows = db.prepare('SELECT * FROM devices WHERE serial = ? COLLATE NOCASE').all(serial) as DeviceRow[];
    candidates.push(...rows.filter((r) => sameManufacturer(r.manufacturer, facts.manufacturer)));
  }
  const mac = normalizeMac(facts.mac);
  if (mac) candidates.push(...(db.prepare('SELECT * FROM devices WHERE mac = ?').all(mac) as DeviceRow[]));
  if (facts.driver === 'rtsp' && facts.url) {
    const key = rtspSourceKey(facts.url);
    const rows = db.prepare("SELECT * FROM devices WHERE driver = 'rtsp'").all() as DeviceRow[];
    candidates.push(...rows.filter((r) => key !== undefined && rtspSourceKey(r.url) === key));
  }
  candidates.push(...(db.prepare('SELECT * FROM devices WHERE driver = ? AND host = ? AND port = ?').all(facts.driver, facts.host, facts.port) as DeviceRow[]));
  // An address match is weak evidence: the IP may now belong to another camera.
  return candidates.find((row) => !identityConflicts(row, facts));
}

function newDeviceId(db: Database, facts: IdentityFacts): { id: string; basis: IdBasis } {
  const exists = db.prepare('SELECT 1 FROM devices WHERE id = ?');
  const skip = new Set<IdBasis>();
  for (;;) {
    const derived = deriveDeviceId(facts, skip);
    if (!exists.get(derived.id)) return derived;
    // Taken by a different device (e.g. two units cloned with one UUID): use the next basis.
    if (skip.has(derived.basis)) break;
    skip.add(derived.basis);
  }
  const base = deriveDeviceId(facts).id;
  for (let n = 2; ; n++) if (!exists.get(`${base}-${n}`)) return { id: `${base}-${n}`, basis: 'address' };
}

export function storedProfile(p: MediaProfile): StoredProfile {
  const out: StoredProfile = { token: String(p.token) };
  if (p.name !== undefined) out.name = String(p.name);
  if (p.codec !== undefined) out.codec = String(p.codec);
  if (p.width !== undefined) out.width = p.width;
  if (p.height !== undefined) out.height = p.height;
  if (p.fps !== undefined) out.fps = p.fps;
  if (p.bitrateKbps !== undefined) out.bitrateKbps = p.bitrateKbps;
  if (p.videoSourceToken !== undefined) out.videoSourceToken = String(p.videoSourceToken);
  if (p.streamUri) out.streamUri = stripUrlCredentials(p.streamUri);
  if (p.snapshotUri) out.snapshotUri = stripUrlCredentials(p.snapshotUri);
  if (p.notes && p.notes.length > 0) out.notes = p.notes.map((n) => String(n));
  return out;
}

function upsertCameras(db: Database, deviceId: string, report: DeviceReport, now: string): UpsertResult['cameras'] {
  const find = db.prepare('SELECT id, profiles, video_source_token FROM cameras WHERE device_id = ? AND channel = ?');
  const idTaken = db.prepare('SELECT 1 FROM cameras WHERE id = ?');
  const insert = db.prepare(
    `INSERT INTO cameras (id, device_id, channel, video_source_token, profiles, created_at, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?)`,
  );
  const update = db.prepare('UPDATE cameras SET video_source_token = ?, profiles = ?, updated_at = ? WHERE id = ?');
  const out: UpsertResult['cameras'] = [];
  for (const channel of report.channels) {
    const profiles = JSON.stringify(channel.profiles.map(storedProfile));
    const token = text(channel.videoSourceToken);
    const existing = find.get(deviceId, channel.channel) as { id: string; profiles: string; video_source_token: string | null } | undefined;
    if (existing) {
      if (existing.profiles !== profiles || existing.video_source_token !== token) update.run(token, profiles, now, existing.id);
      out.push({ id: existing.id, channel: channel.channel, created: false });
      continue;
    }
    let id = deriveCameraId(deviceId, channel.channel, report.isNvr);
    for (let n = 2; idTaken.get(id); n++) id = `${deriveCameraId(deviceId, channel.channel, report.isNvr)}-${n}`;
    insert.run(id, deviceId, channel.channel, token, profiles, now, now);
    out.push({ id, channel: channel.channel, created: true });
  }
  return out;
}

/** Saves one report in one transaction. */
export function upsertDeviceReport(db: Database, report: DeviceReport, options: UpsertOptions): UpsertResult {
  const run = db.transaction((): UpsertResult => {
    const now = options.now.toISOString();
    const facts = factsFromReport(report);
    const identity = {
      endpoint_uuid: normalizeEndpointUuid(report.endpointUuid) ?? null,
      manufacturer: text(report.identity.manufacturer),
      model: text(report.identity.model),
      firmware: text(report.identity.firmware),
      serial: text(report.identity.serial),
      hardware_id: text(report.identity.hardwareId),
      mac: normalizeMac(report.identity.mac) ?? text(report.identity.mac),
    };
    const url = stripUrlCredentials(report.url);
    const clock = report.clock ? Math.round(report.clock.offsetMs) : null;
    const scopes = report.scopes ? JSON.stringify(report.scopes.map(String)) : null;
    const existing = findDevice(db, facts);
    if (existing) {
      // Identity fields keep their old value when this report lacks them: one terse answer must not erase the ledger.
      db.prepare(
        `UPDATE devices SET driver = ?, host = ?, port = ?, url = ?,
           endpoint_uuid = COALESCE(?, endpoint_uuid), manufacturer = COALESCE(?, manufacturer), model = COALESCE(?, model),
           firmware = COALESCE(?, firmware), serial = COALESCE(?, serial), hardware_id = COALESCE(?, hardware_id),
           mac = COALESCE(?, mac), is_nvr = ?, clock_offset_ms = COALESCE(?, clock_offset_ms),
           scopes = COALESCE(?, scopes), last_seen = ?,
           source = CASE WHEN source = 'added' THEN 'added' ELSE ? END
         WHERE id = ?`,
      ).run(
        report.driver,
        report.host,
        report.port,
        url,
        identity.endpoint_uuid,
        identity.manufacturer,
        identity.model,
        identity.firmware,
        identity.serial,
        identity.hardware_id,
        identity.mac,
        report.isNvr ? 1 : 0,
        clock,
        scopes,
        now,
        options.source ?? 'discovered',
        existing.id,
      );
      const moved = existing.host !== report.host || existing.port !== report.port;
      return {
        deviceId: existing.id,
        created: false,
        idBasis: existing.id_basis,
        ...(moved ? { movedFrom: `${existing.host}:${existing.port}` } : {}),
        cameras: upsertCameras(db, existing.id, report, now),
      };
    }
    const { id, basis } = newDeviceId(db, facts);
    db.prepare(
      `INSERT INTO devices (id, driver, source, host, port, url, endpoint_uuid, manufacturer, model, firmware, serial,
         hardware_id, mac, is_nvr, clock_offset_ms, scopes, id_basis, first_seen, last_seen)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      id,
      report.driver,
      options.source ?? 'discovered',
      report.host,
      report.port,
      url,
      identity.endpoint_uuid,
      identity.manufacturer,
      identity.model,
      identity.firmware,
      identity.serial,
      identity.hardware_id,
      identity.mac,
      report.isNvr ? 1 : 0,
      clock,
      scopes ?? '[]',
      basis,
      now,
      now,
    );
    return { deviceId: id, created: true, idBasis: basis, cameras: upsertCameras(db, id, report, now) };
  });
  return run();
}
