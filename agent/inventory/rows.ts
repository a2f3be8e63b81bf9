// Row ⇄ record mapping, kept apart from queries so every query returns the same shapes.
import type { CameraClass, CameraRecord, DeviceRecord, StoredProfile, StreamRoles } from './types';
import type { IdBasis } from './ids';
import { formatRegion } from '../labels/region';

export interface DeviceRow {
  id: string;
  driver: 'onvif' | 'rtsp';
  source: 'discovered' | 'added';
  host: string;
  port: number;
  url: string;
  endpoint_uuid: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  hardware_id: string | null;
  mac: string | null;
  is_nvr: number;
  clock_offset_ms: number | null;
  scopes: string;
  id_basis: IdBasis;
  first_seen: string;
  last_seen: string;
  credential_id: number | null;
  allow_basic_auth: number;
}

export interface CameraRow {
  id: string;
  device_id: string;
  channel: number;
  video_source_token: string | null;
  name: string | null;
  class: number | null;
  latitude: number | null;
  longitude: number | null;
  region_province: string | null;
  region_city: string | null;
  region_county: string | null;
  region_township: string | null;
  region_village: string | null;
  owner: string | null;
  notes: string | null;
  install_date: string | null;
  profiles: string;
  created_at: string;
  updated_at: string;
}

function parseJsonArray<T>(text: string): T[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? (v as T[]) : [];
  } catch {
    return [];
  }
}

export function toDeviceRecord(row: DeviceRow): DeviceRecord {
  return {
    id: row.id,
    driver: row.driver,
    source: row.source,
    host: row.host,
    port: row.port,
    url: row.url,
    endpointUuid: row.endpoint_uuid,
    manufacturer: row.manufacturer,
    model: row.model,
    firmware: row.firmware,
    serial: row.serial,
    hardwareId: row.hardware_id,
    mac: row.mac,
    isNvr: row.is_nvr === 1,
    clockOffsetMs: row.clock_offset_ms,
    scopes: parseJsonArray<string>(row.scopes),
    idBasis: row.id_basis,
    firstSeen: row.first_seen,
    lastSeen: row.last_seen,
    hasCredentials: row.credential_id !== null,
    allowBasicAuth: row.allow_basic_auth === 1,
  };
}

/** The first profile is a camera's main stream, the second its sub stream: ONVIF lists profiles
 * in this order on every camera and NVR channel seen, and the rest are extras. */
export function streamRoles(profiles: readonly StoredProfile[]): StreamRoles {
  const [main, sub] = profiles;
  return { ...(main ? { main } : {}), ...(sub ? { sub } : {}) };
}

export function toCameraRecord(row: CameraRow, device: DeviceRecord): CameraRecord {
  const profiles = parseJsonArray<StoredProfile>(row.profiles);
  return {
    id: row.id,
    deviceId: row.device_id,
    channel: row.channel,
    videoSourceToken: row.video_source_token,
    name: row.name,
    class: row.class as CameraClass | null,
    latitude: row.latitude,
    longitude: row.longitude,
    region: formatRegion({
      province: row.region_province,
      city: row.region_city,
      county: row.region_county,
      township: row.region_township,
      village: row.region_village,
    }),
    owner: row.owner,
    notes: row.notes,
    installDate: row.install_date,
    profiles,
    streams: streamRoles(profiles),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    device,
  };
}

/** Columns of a joined cameras ⨝ devices query, device columns prefixed "d_". */
export const CAMERA_JOIN_COLUMNS = `c.*, d.id AS d_id, d.driver AS d_driver, d.source AS d_source, d.host AS d_host,
  d.port AS d_port, d.url AS d_url, d.endpoint_uuid AS d_endpoint_uuid, d.manufacturer AS d_manufacturer,
  d.model AS d_model, d.firmware AS d_firmware, d.serial AS d_serial, d.hardware_id AS d_hardware_id, d.mac AS d_mac,
  d.is_nvr AS d_is_nvr, d.clock_offset_ms AS d_clock_offset_ms, d.scopes AS d_scopes, d.id_basis AS d_id_basis,
  d.first_seen AS d_first_seen, d.last_seen AS d_last_seen, d.credential_id AS d_credential_id,
  d.allow_basic_auth AS d_allow_basic_auth`;

export function fromJoinedRow(row: Record<string, unknown>): CameraRecord {
  const device: Record<string, unknown> = {};
  for (const [k, v] of Object.entries(row)) if (k.startsWith('d_')) device[k.slice(2)] = v;
  return toCameraRecord(row as unknown as CameraRow, toDeviceRecord(device as unknown as DeviceRow));
}
