// The central's tables as Kysely sees them. Times are epoch milliseconds (bigint in PostgreSQL,
// INTEGER in SQLite); flags are 0/1 integers and documents JSON text, so one set of queries
// serves both databases.

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
  users: UsersTable;
  sessions: SessionsTable;
  api_tokens: ApiTokensTable;
  audit: AuditTable;
}
