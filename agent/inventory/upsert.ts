// Saves what identification found about a device. Finds the device by identity first
// (endpoint UUID, serial, MAC, RTSP URL) and by address last, so a camera at a new IP keeps
// its ids; updates addresses, identity, profiles and last_seen, and never touches labels.
//
// An identity at a new address is only a claim: any device on the LAN can send another camera's
// UUID, serial or MAC. Taking it for a move would point the camera's record, its stream URIs and
// its stored login at whoever claimed it. So a known identity answering from another address is
// kept apart as a pending move (pending_moves), the record untouched, until an installer confirms
// it (confirmMove; `camgate cameras confirm-move`).
import type { Database } from 'better-sqlite3';
import type { DeviceReport, MediaProfile } from '../../drivers/types';
import { deriveCameraId, deriveDeviceId, IdBasis, IdentityFacts, meaningfulSerial, rtspSourceKey } from './ids';
import type { DeviceRow } from './rows';
import type { StoredProfile } from './types';
import { stripUrlCredentials } from '../../lib/redact';
import { textOf } from '../../lib/redact';
import { normalizeEndpointUuid, normalizeMac } from '../../drivers/ids';
import { UsageError } from '../../lib/errors';

export interface UpsertOptions {
  now: Date;
  /** 'added' when a person added the device by address; it then stays 'added'. */
  source?: 'discovered' | 'added';
}

export interface UpsertResult {
  deviceId: string;
  created: boolean;
  idBasis: IdBasis;
  /** "host:port" the device had before, when it was moved (confirmMove). */
  movedFrom?: string;
  /** The report claims a known device's identity from another address: saved as a pending move,
   * the device's record unchanged (`cameras` are its cameras as they were). */
  pendingMove?: PendingMoveSummary;
  cameras: Array<{ id: string; channel: number; created: boolean }>;
}

export interface PendingMoveSummary {
  deviceId: string;
  /** "host:port" of the record. */
  from: string;
  /** "host:port" the claim came from. */
  to: string;
  /** The identity facts that matched: 'uuid', 'serial', 'mac'. */
  matched: string[];
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

/** Which identity facts of `facts` the row shares (what made findDevice pick it). */
export function matchedFacts(row: DeviceRow, facts: IdentityFacts): string[] {
  const out: string[] = [];
  const uuid = normalizeEndpointUuid(facts.endpointUuid);
  if (uuid && uuid === normalizeEndpointUuid(row.endpoint_uuid ?? undefined)) out.push('uuid');
  const serial = meaningfulSerial(facts.serial);
  if (serial && serial.toLowerCase() === meaningfulSerial(row.serial ?? undefined)?.toLowerCase()) out.push('serial');
  const mac = normalizeMac(facts.mac);
  if (mac && mac === normalizeMac(row.mac ?? undefined)) out.push('mac');
  if (facts.driver === 'rtsp' && facts.url && rtspSourceKey(facts.url) === rtspSourceKey(row.url)) out.push('url');
  return out;
}

function address(host: string, port: number): string {
  return `${host.includes(':') ? `[${host}]` : host}:${port}`;
}

/** The report as kept with a pending move: no credentials in any URL. */
function reportForStorage(report: DeviceReport): DeviceReport {
  return {
    ...report,
    url: stripUrlCredentials(report.url),
    channels: report.channels.map((ch) => ({ ...ch, profiles: ch.profiles.map(storedProfile) })),
  };
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

/** The device's row updated from a report (address included). */
function applyReport(db: Database, existing: DeviceRow, report: DeviceReport, now: string, source: 'discovered' | 'added'): UpsertResult {
  db.prepare(
    `UPDATE devices SET driver = @driver, host = @host, port = @port, url = @url,
       endpoint_uuid = COALESCE(@endpoint_uuid, endpoint_uuid), manufacturer = COALESCE(@manufacturer, manufacturer),
       model = COALESCE(@model, model), firmware = COALESCE(@firmware, firmware), serial = COALESCE(@serial, serial),
       hardware_id = COALESCE(@hardware_id, hardware_id), mac = COALESCE(@mac, mac), is_nvr = @is_nvr,
       clock_offset_ms = COALESCE(@clock_offset_ms, clock_offset_ms), scopes = COALESCE(@scopes, scopes), last_seen = @now,
       source = CASE WHEN source = 'added' THEN 'added' ELSE @source END
     WHERE id = @id`,
  ).run({ ...deviceColumns(report), now, source, id: existing.id });
  const moved = existing.host !== report.host || existing.port !== report.port;
  return {
    deviceId: existing.id,
    created: false,
    idBasis: existing.id_basis,
    ...(moved ? { movedFrom: address(existing.host, existing.port) } : {}),
    cameras: upsertCameras(db, existing.id, report, now),
  };
}

/** The devices columns a report sets (named as the statements' parameters); scopes null when the
 * report has none (an update keeps the stored ones). */
function deviceColumns(report: DeviceReport) {
  return {
    driver: report.driver,
    host: report.host,
    port: report.port,
    url: stripUrlCredentials(report.url),
    endpoint_uuid: normalizeEndpointUuid(report.endpointUuid) ?? null,
    manufacturer: text(report.identity.manufacturer),
    model: text(report.identity.model),
    firmware: text(report.identity.firmware),
    serial: text(report.identity.serial),
    hardware_id: text(report.identity.hardwareId),
    mac: normalizeMac(report.identity.mac) ?? text(report.identity.mac),
    is_nvr: report.isNvr ? 1 : 0,
    clock_offset_ms: report.clock ? Math.round(report.clock.offsetMs) : null,
    scopes: report.scopes ? JSON.stringify(report.scopes.map(String)) : null,
  };
}

/** Keeps a claim of `existing`'s identity from another address for an installer to confirm. */
function recordPendingMove(
  db: Database,
  existing: DeviceRow,
  report: DeviceReport,
  matched: string[],
  now: string,
  source: 'discovered' | 'added',
): UpsertResult {
  db.prepare(
    `INSERT INTO pending_moves (device_id, host, port, report, matched, source, first_seen, last_seen)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT (device_id) DO UPDATE SET
       first_seen = CASE WHEN host = excluded.host AND port = excluded.port THEN first_seen ELSE excluded.first_seen END,
       credential_id = CASE WHEN host = excluded.host AND port = excluded.port THEN credential_id ELSE NULL END,
       host = excluded.host, port = excluded.port, report = excluded.report, matched = excluded.matched,
       source = excluded.source, last_seen = excluded.last_seen`,
  ).run(existing.id, report.host, report.port, JSON.stringify(reportForStorage(report)), matched.join(', '), source, now, now);
  dropUnusedCredentials(db);
  const cameras = (
    db.prepare('SELECT id, channel FROM cameras WHERE device_id = ? ORDER BY channel').all(existing.id) as Array<{ id: string; channel: number }>
  ).map((c) => ({ ...c, created: false }));
  return {
    deviceId: existing.id,
    created: false,
    idBasis: existing.id_basis,
    pendingMove: { deviceId: existing.id, from: address(existing.host, existing.port), to: address(report.host, report.port), matched },
    cameras,
  };
}

/** Credentials rows no device and no pending move refers to. */
export function dropUnusedCredentials(db: Database): void {
  db.prepare(
    `DELETE FROM credentials WHERE id NOT IN (SELECT credential_id FROM devices WHERE credential_id IS NOT NULL)
       AND id NOT IN (SELECT credential_id FROM pending_moves WHERE credential_id IS NOT NULL)`,
  ).run();
}

/** Saves one report in one transaction. A known identity from another address becomes a pending
 * move (see the top of this file); the same address, or a new identity, is saved as before. */
export function upsertDeviceReport(db: Database, report: DeviceReport, options: UpsertOptions): UpsertResult {
  const run = db.transaction((): UpsertResult => {
    const now = options.now.toISOString();
    const facts = factsFromReport(report);
    const source = options.source ?? 'discovered';
    const existing = findDevice(db, facts);
    if (existing) {
      if (existing.host !== report.host || existing.port !== report.port) {
        return recordPendingMove(db, existing, report, matchedFacts(existing, facts), now, source);
      }
      return applyReport(db, existing, report, now, source);
    }
    const { id, basis } = newDeviceId(db, facts);
    const columns = deviceColumns(report);
    db.prepare(
      `INSERT INTO devices (id, driver, source, host, port, url, endpoint_uuid, manufacturer, model, firmware, serial,
         hardware_id, mac, is_nvr, clock_offset_ms, scopes, id_basis, first_seen, last_seen)
       VALUES (@id, @driver, @source, @host, @port, @url, @endpoint_uuid, @manufacturer, @model, @firmware, @serial,
         @hardware_id, @mac, @is_nvr, @clock_offset_ms, @scopes, @id_basis, @now, @now)`,
    ).run({ ...columns, scopes: columns.scopes ?? '[]', id, source, id_basis: basis, now });
    return { deviceId: id, created: true, idBasis: basis, cameras: upsertCameras(db, id, report, now) };
  });
  return run();
}

// --- pending moves ---------------------------------------------------------------------------

export interface PendingMove extends PendingMoveSummary {
  source: 'discovered' | 'added';
  /** A login given with `cameras add` for the new address, applied on confirmation. */
  hasLogin: boolean;
  firstSeen: string;
  lastSeen: string;
  /** What the claimant said it is. */
  manufacturer: string | null;
  model: string | null;
  serial: string | null;
  mac: string | null;
}

interface PendingRow {
  device_id: string;
  host: string;
  port: number;
  report: string;
  matched: string;
  source: 'discovered' | 'added';
  credential_id: number | null;
  first_seen: string;
  last_seen: string;
  d_host: string;
  d_port: number;
}

function toPendingMove(row: PendingRow): PendingMove {
  let identity: DeviceReport['identity'] = {};
  try {
    identity = (JSON.parse(row.report) as DeviceReport).identity ?? {};
  } catch {
    // a damaged row still shows where and when
  }
  return {
    deviceId: row.device_id,
    from: address(row.d_host, row.d_port),
    to: address(row.host, row.port),
    matched: row.matched.split(', ').filter(Boolean),
    source: row.source,
    hasLogin: row.credential_id !== null,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    manufacturer: text(identity.manufacturer),
    model: text(identity.model),
    serial: text(identity.serial),
    mac: text(identity.mac),
  };
}

const PENDING = 'SELECT p.*, d.host AS d_host, d.port AS d_port FROM pending_moves p JOIN devices d ON d.id = p.device_id';

export function pendingMoves(db: Database): PendingMove[] {
  return (db.prepare(`${PENDING} ORDER BY p.device_id`).all() as PendingRow[]).map(toPendingMove);
}

export function pendingMoveOf(db: Database, deviceId: string): PendingMove | undefined {
  const row = db.prepare(`${PENDING} WHERE p.device_id = ?`).get(deviceId) as PendingRow | undefined;
  return row ? toPendingMove(row) : undefined;
}

/** Attaches a sealed login (a credentials row) to a pending move: it becomes the device's login on confirmation. */
export function setPendingMoveCredential(db: Database, deviceId: string, credentialId: number): void {
  db.transaction(() => {
    const r = db.prepare('UPDATE pending_moves SET credential_id = ? WHERE device_id = ?').run(credentialId, deviceId);
    if (r.changes === 0) throw new UsageError(`device ${deviceId} has no pending move`);
    dropUnusedCredentials(db);
  })();
}

function noPendingMove(deviceId: string): UsageError {
  return new UsageError(`device ${deviceId} has no pending move (camgate cameras list shows the pending ones)`);
}

/**
 * Applies a pending move: the device's record takes the address and the report its claimant
 * gave, and the login given with it (if any) becomes the device's own. From now on the device's
 * stored login goes to the new address.
 */
export function confirmMove(db: Database, deviceId: string, now: Date): UpsertResult {
  return db.transaction((): UpsertResult => {
    const row = db.prepare('SELECT * FROM pending_moves WHERE device_id = ?').get(deviceId) as Omit<PendingRow, 'd_host' | 'd_port'> | undefined;
    if (!row) throw noPendingMove(deviceId);
    const existing = db.prepare('SELECT * FROM devices WHERE id = ?').get(deviceId) as DeviceRow;
    const report = JSON.parse(row.report) as DeviceReport;
    // Another device may have taken that address meanwhile: two records at one address would be one camera twice.
    const other = db
      .prepare('SELECT id FROM devices WHERE driver = ? AND host = ? AND port = ? AND id != ?')
      .get(report.driver, report.host, report.port, deviceId) as { id: string } | undefined;
    if (other) {
      throw new UsageError(
        `${address(report.host, report.port)} is the address of device ${other.id} now: remove that one first (camgate cameras remove), or discard this move`,
      );
    }
    db.prepare('DELETE FROM pending_moves WHERE device_id = ?').run(deviceId);
    const result = applyReport(db, existing, report, now.toISOString(), row.source);
    if (row.credential_id !== null) db.prepare('UPDATE devices SET credential_id = ? WHERE id = ?').run(row.credential_id, deviceId);
    dropUnusedCredentials(db);
    return result;
  })();
}

/** Forgets a pending move (and a login given with it); the device's record stays as it is. */
export function discardMove(db: Database, deviceId: string): PendingMove {
  return db.transaction((): PendingMove => {
    const move = pendingMoveOf(db, deviceId);
    if (!move) throw noPendingMove(deviceId);
    db.prepare('DELETE FROM pending_moves WHERE device_id = ?').run(deviceId);
    dropUnusedCredentials(db);
    return move;
  })();
}
