// The central's tables as Kysely sees them. Times are epoch milliseconds (bigint in PostgreSQL,
// INTEGER in SQLite); flags are 0/1 integers and documents JSON text, so one set of queries
// serves both databases.
import type { Generated } from 'kysely';

export interface SitesTable {
  site_id: string;
  name: string | null;
  first_seen: number;
  /** Latest observedAt of any message of the site. */
  last_observed: number;
  boot_id: string | null;
  bd_seq: number | null;
  version: string | null;
  /** online | offline | unknown: from state messages and the Will. */
  connection: string;
  connection_since: number | null;
  /** The latest birth's camera roster (JSON). */
  roster: string | null;
}

/** Merged intervals [start_ms, end_ms) in which the site gave evidence of life. */
export interface SiteEvidenceTable {
  site_id: string;
  start_ms: number;
  end_ms: number;
}

export interface CamerasTable {
  site_id: string;
  camera_id: string;
  first_meta_at: number;
  removed_at: number | null;
  meta_at: number;
  name: string | null;
  class: number | null;
  latitude: number | null;
  longitude: number | null;
  region: string | null;
  owner: string | null;
  manufacturer: string | null;
  model: string | null;
  firmware: string | null;
  serial: string | null;
  main_height: number | null;
  /** The latest meta payload (JSON). */
  meta: string;
  state: string | null;
  status_at: number | null;
  picture: string | null;
  faults: string | null;
  reason: string | null;
}

/** When a camera was counted: from a first meta until its removal (again after a re-add). */
export interface CameraLifetimesTable {
  site_id: string;
  camera_id: string;
  start_ms: number;
  end_ms: number | null;
}

/** What groups a camera belonged to, and when (one row per meta received). */
export interface MetaHistoryTable {
  site_id: string;
  camera_id: string;
  at: number;
  message_id: string;
  class: number | null;
  region: string | null;
  owner: string | null;
  has_coordinates: number;
  main_height: number | null;
}

export interface StatusPointsTable {
  site_id: string;
  camera_id: string;
  at: number;
  message_id: string;
  seq: number | null;
  state: string;
  /** ok | fault | none */
  picture: string;
  faults: string | null;
  reason: string | null;
}

export interface EventsTable {
  message_id: string;
  site_id: string;
  camera_id: string | null;
  at: number;
  type: string;
  severity: string;
  message: string;
  detail: string;
  historical: number;
}

/** Every message taken in, by id: a message delivered twice counts once. */
export interface MessagesSeenTable {
  message_id: string;
  site_id: string;
  kind: string;
  received_at: number;
}

export interface MetricsLatestTable {
  site_id: string;
  at: number;
  payload: string;
}

export interface IngestRejectsTable {
  site_id: string;
  reason: string;
  count: number;
  first_at: number;
  last_at: number;
  example: string;
}

/** One camera's measured day (central/figures): durations in ms, the groups of its latest meta by
 * the day's end, and the status carried into the next day. */
export interface CameraDaysTable {
  day: string;
  site_id: string;
  camera_id: string;
  counted_ms: number;
  known_ms: number;
  online_ms: number;
  offline_ms: number;
  intact_known_ms: number;
  intact_ms: number;
  fault_ms: number;
  /** Known time not intact by cause (JSON: {offline: ms, black: ms, …}). */
  causes: string;
  class: number | null;
  region: string | null;
  owner: string | null;
  has_coordinates: number;
  main_height: number | null;
  /** Counted at the end of the day (or of what has passed of today). */
  present_at_end: number;
  /** What the next day starts from (JSON): a change makes the next day's figures stale. */
  carry: string;
}

/** Which local days have figures, computed up to when. */
export interface FiguresDaysTable {
  day: string;
  computed_through: number;
  computed_at: number;
  /** Raised by every measurement of the day, whole or partial. */
  revision: Generated<number>;
}

/** Site days whose figures are stale: something observed in them was written after they were computed. */
export interface FiguresDirtyTable {
  site_id: string;
  day: string;
}

/** An alarm of the duty desk (docs/alarms.md): open, acknowledged, cleared. */
export interface AlarmsTable {
  alarm_id: string;
  site_id: string;
  /** '' for an alarm of the site itself. */
  camera_id: string;
  kind: string;
  /** observedAt of the first fault of the period. */
  opened_at: number;
  opened_by: string;
  last_fault_at: number;
  /** Latest all-clear known before it opened (a late fault after it belongs to this alarm). */
  ok_before: number | null;
  /** Facts of the fault (JSON). */
  detail: string;
  /** Opened from replayed data after the fact: it was already over when the central learned of it. */
  historical: number;
  acked_at: number | null;
  acked_by: string | null;
  ack_note: string | null;
  cleared_at: number | null;
  cleared_by: string | null;
}

/** The latest observation of each (site, camera, kind): the one that decides its alarm. Its row is
 * also the lock two instances take before deciding. */
export interface AlarmLatestTable {
  site_id: string;
  camera_id: string;
  kind: string;
  /** null until the first observation (the row may be created only to be locked). */
  at: number | null;
  fault: number | null;
  ok_since: number | null;
}

/** A person (or an account other systems' tokens belong to) of the HTTP API. */
export interface UsersTable {
  username: string;
  /** viewer | operator | admin */
  role: string;
  /** Region path prefix the user sees ('' = everything). */
  scope: string;
  /** scrypt$N$r$p$salt$hash (central/auth/password.ts). */
  password_hash: string;
  disabled: number;
  created_at: number;
  updated_at: number;
  password_changed_at: number;
  /** The last successful login (null: never). */
  last_login_at: number | null;
}

/** A login session: only the SHA-256 of its cookie value is kept. */
export interface SessionsTable {
  id_hash: string;
  username: string;
  created_at: number;
  last_seen: number;
  address: string;
}

/** An API token of another system: only the SHA-256 of its secret is kept. */
export interface ApiTokensTable {
  id: string;
  secret_hash: string;
  name: string;
  /** The user it acts for (its role and scope at most). */
  username: string;
  /** A narrower role than the user's, or null (the user's). */
  role: string | null;
  /** A narrower scope than the user's, or null (the user's). */
  scope: string | null;
  created_at: number;
  created_by: string;
  expires_at: number | null;
  last_used_at: number | null;
  revoked_at: number | null;
}

/** Who did what, from where, when (central/audit). */
export interface AuditTable {
  id: string;
  at: number;
  /** central (this service) | site (an agent's own audit event) */
  origin: string;
  actor: string;
  address: string | null;
  action: string;
  site_id: string | null;
  camera_id: string | null;
  /** The region a record without a site concerns (the user's scope), for scoped readers. */
  scope: string | null;
  /** ok | denied | failed */
  outcome: string;
  detail: string;
}

/** Each site's connection timeline: every state change and Will the central applied. */
export interface SiteConnectionsTable {
  site_id: string;
  at: number;
  connection: string;
  reason: string | null;
  bd_seq: number | null;
}

/** Each site's metrics downsampled to hours: the worst value of each hour (the latest sample is metrics_latest). */
export interface MetricsHourlyTable {
  site_id: string;
  /** The hour's start, epoch ms (UTC hours). */
  hour: number;
  /** The central instance that added these samples (its MQTT client id): an hour's rows are folded when read. */
  writer: string;
  samples: number;
  load_avg_max: number | null;
  cpu_percent_max: number | null;
  mem_free_min: number | null;
  disk_free_percent_min: number | null;
  temperature_max: number | null;
  agent_rss_max: number | null;
  outbox_depth_max: number | null;
  outbox_dropped_max: number | null;
  cameras_offline_max: number | null;
}

export interface CentralTables {
  sites: SitesTable;
  site_evidence: SiteEvidenceTable;
  cameras: CamerasTable;
  camera_lifetimes: CameraLifetimesTable;
  meta_history: MetaHistoryTable;
  status_points: StatusPointsTable;
  events: EventsTable;
  messages_seen: MessagesSeenTable;
  metrics_latest: MetricsLatestTable;
  ingest_rejects: IngestRejectsTable;
  camera_days: CameraDaysTable;
  site_connections: SiteConnectionsTable;
  metrics_hourly: MetricsHourlyTable;
  figures_days: FiguresDaysTable;
  figures_dirty: FiguresDirtyTable;
  alarms: AlarmsTable;
  alarm_latest: AlarmLatestTable;
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit: AuditTable;
}
