// The shapes of the API answers the dashboard reads (the OpenAPI document at /api/openapi.json is
// the full description; these are the fields used here).

export type Role = 'viewer' | 'operator' | 'admin';

export interface Me {
  username: string;
  role: Role;
  scope: string;
  via: 'session' | 'token';
  token: string | null;
  /** The central's time zone: times are shown in it. */
  timezone: string;
}

export interface TargetCheck {
  met: boolean | null;
  byClass: Array<{ class: number; target: number; rate: number | null; met: boolean | null }>;
}

export interface Figure {
  cameras: number;
  onlineRate: number | null;
  coverage: number | null;
  intactRate: number | null;
  atEnd: {
    cameras: number;
    geoLabelled: number;
    geoLabelledRate: number | null;
    hd: number;
    hdRate: number | null;
    byClass: { class1: number; class2: number; class3: number; unclassified: number };
  };
  targets: { online: TargetCheck; intact: TargetCheck; geoLabelled: TargetCheck };
}

export interface Period {
  from: string;
  to: string;
  timezone: string;
}

export interface FiguresAnswer {
  period: Period;
  computedAt: string | null;
  daysMissing: string[];
  total: Figure;
  groups: Array<{ key: string; figure: Figure }>;
}

export interface RegionRow {
  region: string;
  name: string;
  depth: number;
  parent: string | null;
  figure: Figure;
}

export interface RegionsAnswer {
  period: Period;
  regions: RegionRow[];
}

export interface Site {
  site: string;
  name: string | null;
  connection: string;
  connectionSince: string | null;
  lastObserved: string;
  alive: boolean;
  offlineNow: boolean;
  cameras: number;
}

export type CameraState = 'online' | 'offline' | 'unknown';
/** The API's condition: its state, online split by a picture fault. */
export type CameraCondition = 'offline' | 'fault' | 'unknown' | 'online';

export interface Camera {
  site: string;
  camera: string;
  name: string | null;
  class: number | null;
  region: string | null;
  owner: string | null;
  latitude: number | null;
  longitude: number | null;
  state: CameraState;
  condition: CameraCondition;
  status: string | null;
  statusAt: string | null;
  picture: string | null;
  faults: string[];
  reason: string | null;
}

export interface CamerasAnswer {
  total: number;
  items: Camera[];
}

export interface Alarm {
  id: string;
  kind: string;
  site: string;
  camera: string | null;
  state: string;
  openedAt: string;
  lastFaultAt: string;
  detail: Record<string, unknown>;
  acknowledgedAt: string | null;
  acknowledgedBy: string | null;
  note: string | null;
  clearedAt: string | null;
  clearedBy: string | null;
}

export interface AlarmsAnswer {
  items: Alarm[];
  next: string | null;
}

export interface AuditRecord {
  id: string;
  at: string;
  origin: 'central' | 'site';
  actor: string;
  address: string | null;
  action: string;
  site: string | null;
  camera: string | null;
  outcome: string;
  detail: Record<string, unknown>;
}

export interface AuditAnswer {
  items: AuditRecord[];
  next: string | null;
}

export interface MapSettings {
  tileUrl: string;
  coordinateSystem: 'wgs84' | 'gcj02';
  attribution: string;
  outlines: boolean;
}

/** A camera's whole ledger line (GET /api/cameras/:site/:camera, and the rows of GET /api/cameras). */
export interface CameraLedger extends Camera {
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  mainHeight: number | null;
  firstSeen: string;
  removedAt: string | null;
}

export interface CameraLedgerAnswer {
  total: number;
  items: CameraLedger[];
}

export interface MetaProfile {
  token: string;
  name?: string;
  codec?: string;
  width?: number;
  height?: number;
  fps?: number;
  bitrateKbps?: number;
}

/** The latest meta as the agent sent it (contract/payloads/meta.ts): the fields shown. */
export interface CameraMeta {
  deviceId?: string;
  channel?: number;
  notes?: string | null;
  installDate?: string | null;
  profiles?: MetaProfile[];
  device?: { driver?: string; host?: string; port?: number; mac?: string | null; isNvr?: boolean; clockOffsetMs?: number | null };
}

export interface CameraDetail extends CameraLedger {
  meta: CameraMeta | null;
}

export interface TimelineAnswer {
  from: string;
  to: string;
  truncated: boolean;
  bands: Array<{ from: string; to: string; state: 'online' | 'fault' | 'offline' | 'unknown' | 'uncounted'; faults: string[] }>;
}

export interface CommandAnswer {
  site: string;
  command: string;
  requestId: string | null;
  observedAt: string;
  result: unknown;
}

// Reports (GET /api/reports/:kind, docs/reports.md) and users (GET /api/users).

export type ReportKind = 'daily' | 'weekly' | 'monthly';

export interface Bilingual {
  zh: string;
  en: string;
}

export interface ReportClassTarget {
  class: 1 | 2 | 3;
  /** Percent. */
  target: number;
  rate: number | null;
  met: boolean | null;
}

export interface ReportRateLine {
  key: string;
  name: Bilingual;
  value: number | null;
  previous: number | null;
  deltaPoints: number | null;
  targets: ReportClassTarget[];
  met: boolean | null;
}

export interface ReportCountLine {
  key: string;
  name: Bilingual;
  value: number;
  previous: number | null;
  delta: number | null;
}

export interface ReportRankingRow {
  rank: number;
  key: string;
  name: string;
  figure: Figure & { assessedOnlineRate: number | null };
  delta: { onlineRate: number | null; intactRate: number | null };
  belowTarget: Array<'online' | 'intact' | 'geoLabelled'>;
}

interface ReportCameraRef {
  site: string;
  siteName: string | null;
  camera: string;
  name: string | null;
  region: string | null;
}

export interface ReportCameraBelowTarget extends ReportCameraRef {
  class: 1 | 2 | 3;
  onlineRate: number | null;
  intactRate: number | null;
  targets: { online: number | null; intact: number | null };
  misses: Array<'online' | 'intact'>;
  countedSeconds: number;
  unknownSeconds: number;
  offlineSeconds: number;
  faultSeconds: number;
  causes: Record<string, number>;
  cause: string | null;
}

export interface ReportCameraWithoutCoordinates extends ReportCameraRef {
  class: number | null;
  againstTarget: boolean;
}

export interface Report {
  kind: ReportKind;
  title: Bilingual;
  region: { path: string; name: Bilingual };
  period: { from: string; to: string; timezone: string; start: string; end: string; label: Bilingual; partial: boolean; through: string };
  previousPeriod: { from: string; to: string; label: Bilingual; hasFigures: boolean };
  generatedAt: string;
  computedAt: string | null;
  computedThrough: string | null;
  daysMissing: string[];
  coverage: number | null;
  notes: Bilingual[];
  summary: { figure: Figure; previous: Figure | null; rates: ReportRateLine[]; counts: ReportCountLine[] };
  ranking: { by: 'region' | 'site'; within: string; rows: ReportRankingRow[] };
  belowTarget: ReportCameraBelowTarget[];
  withoutCoordinates: ReportCameraWithoutCoordinates[];
}

export interface User {
  username: string;
  role: Role;
  scope: string;
  disabled: boolean;
  createdAt: string;
  updatedAt: string;
  passwordChangedAt: string;
  lastLoginAt: string | null;
}
