// Shapes of inventory records as the rest of the agent sees them (camelCase, parsed JSON).
import type { DriverKind, MediaProfile } from '../../drivers/types';
import type { IdBasis } from './ids';

export type CameraClass = 1 | 2 | 3;

/** What installers set; never overwritten by discovery. null = not set. */
export interface CameraLabels {
  name: string | null;
  class: CameraClass | null;
  latitude: number | null;
  longitude: number | null;
  /** "province/city/county/township/village", lower levels may be missing. */
  region: string | null;
  owner: string | null;
  notes: string | null;
  /** YYYY-MM-DD */
  installDate: string | null;
}

export type LabelField = keyof CameraLabels;
export type LabelPatch = Partial<CameraLabels>;

/** A media profile as stored: the driver's own shape; its URIs never carry credentials. */
export type StoredProfile = MediaProfile;

export interface DeviceRecord {
  id: string;
  driver: DriverKind;
  source: 'discovered' | 'added';
  host: string;
  port: number;
  url: string;
  endpointUuid: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  hardwareId: string | null;
  mac: string | null;
  isNvr: boolean;
  clockOffsetMs: number | null;
  scopes: string[];
  idBasis: IdBasis;
  firstSeen: string;
  lastSeen: string;
  /** Whether the device has its own stored credentials (never the credentials themselves). */
  hasCredentials: boolean;
  /** Whether its login may be sent as Basic (cleartext) when it asks for nothing better; off by default. */
  allowBasicAuth: boolean;
}

/** Which of a camera's profiles is its main stream and which its sub stream (rows.ts decides). */
export interface StreamRoles {
  main?: StoredProfile;
  sub?: StoredProfile;
}

export type StreamRole = keyof StreamRoles;

export interface CameraRecord extends CameraLabels {
  id: string;
  deviceId: string;
  channel: number;
  videoSourceToken: string | null;
  profiles: StoredProfile[];
  /** Which profile is the main stream and which the sub stream (the one rule: streamRoles). */
  streams: StreamRoles;
  createdAt: string;
  updatedAt: string;
  device: DeviceRecord;
}
