// Versioned schema migrations. Each runs in its own transaction together with the row that
// records it, so a failure leaves the database at the previous version, never half-way.
import type { Database } from 'better-sqlite3';
import { CamgateError } from '../../lib/errors';

export interface Migration {
  version: number;
  name: string;
  up: string;
}

export const MIGRATIONS: Migration[] = [
  {
    version: 1,
    name: 'devices, cameras, credentials',
    up: `
      CREATE TABLE credentials (
        id INTEGER PRIMARY KEY,
        -- Which key encrypted this row (first bytes of SHA-256 of the key), to tell "wrong key" apart from corruption.
        key_fingerprint TEXT NOT NULL,
        nonce BLOB NOT NULL,
        ciphertext BLOB NOT NULL,
        tag BLOB NOT NULL,
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL
      ) STRICT;

      CREATE TABLE devices (
        id TEXT PRIMARY KEY,
        driver TEXT NOT NULL CHECK (driver IN ('onvif', 'rtsp')),
        -- 'added' devices (camgate cameras add) are re-identified by every discover even if they ignore probes.
        source TEXT NOT NULL CHECK (source IN ('discovered', 'added')),
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        url TEXT NOT NULL,
        endpoint_uuid TEXT,
        manufacturer TEXT,
        model TEXT,
        firmware TEXT,
        serial TEXT,
        hardware_id TEXT,
        mac TEXT,
        is_nvr INTEGER NOT NULL DEFAULT 0 CHECK (is_nvr IN (0, 1)),
        clock_offset_ms INTEGER,
        scopes TEXT NOT NULL DEFAULT '[]',
        id_basis TEXT NOT NULL CHECK (id_basis IN ('uuid', 'serial', 'mac', 'url', 'address')),
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL,
        credential_id INTEGER REFERENCES credentials(id) ON DELETE SET NULL
      ) STRICT;
      CREATE INDEX devices_endpoint_uuid ON devices(endpoint_uuid);
      CREATE INDEX devices_serial ON devices(serial);
      CREATE INDEX devices_mac ON devices(mac);
      CREATE INDEX devices_address ON devices(host, port);

      CREATE TABLE cameras (
        id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL REFERENCES devices(id) ON DELETE CASCADE,
        channel INTEGER NOT NULL CHECK (channel >= 1),
        video_source_token TEXT,
        name TEXT UNIQUE,
        class INTEGER CHECK (class IN (1, 2, 3)),
        latitude REAL CHECK (latitude BETWEEN -90 AND 90),
        longitude REAL CHECK (longitude BETWEEN -180 AND 180),
        region_province TEXT,
        region_city TEXT,
        region_county TEXT,
        region_township TEXT,
        region_village TEXT,
        owner TEXT,
        notes TEXT,
        install_date TEXT,
        profiles TEXT NOT NULL DEFAULT '[]',
        created_at TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        UNIQUE (device_id, channel),
        CHECK ((latitude IS NULL) = (longitude IS NULL))
      ) STRICT;
      CREATE INDEX cameras_device ON cameras(device_id);
    `,
  },
  {
    version: 2,
    name: 'camera health: latest status and thumbnail',
    up: `
      -- The last status of each camera survives a restart (no second alarm for a camera that was
      -- already offline), and the latest thumbnail stays available to the central and the local UI.
      CREATE TABLE camera_health (
        camera_id TEXT PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
        status TEXT NOT NULL,
        updated_at TEXT NOT NULL,
        thumbnail BLOB,
        thumbnail_at TEXT
      ) STRICT;
    `,
  },
  {
    version: 3,
    name: 'device logins: Basic auth per device, pending moves',
    up: `
      -- Whether the device's login may be sent as HTTP/RTSP Basic (cleartext): off unless an
      -- installer allowed it for this device (camgate cameras set <camera> --allow-basic-auth).
      ALTER TABLE devices ADD COLUMN allow_basic_auth INTEGER NOT NULL DEFAULT 0 CHECK (allow_basic_auth IN (0, 1));

      -- A device that claims the identity (endpoint UUID, serial, MAC) of a known one from another
      -- address: its report waits here until an installer confirms the move
      -- (camgate cameras confirm-move); the device's record and login stay where they were.
      CREATE TABLE pending_moves (
        device_id TEXT PRIMARY KEY REFERENCES devices(id) ON DELETE CASCADE,
        host TEXT NOT NULL,
        port INTEGER NOT NULL,
        -- The DeviceReport as identification found it at the new address (JSON, no credentials).
        report TEXT NOT NULL,
        -- Which identity facts matched, e.g. "serial" or "uuid, mac".
        matched TEXT NOT NULL,
        source TEXT NOT NULL CHECK (source IN ('discovered', 'added')),
        -- A login given with \`cameras add\` for the new address: applied when the move is confirmed.
        credential_id INTEGER REFERENCES credentials(id) ON DELETE SET NULL,
        first_seen TEXT NOT NULL,
        last_seen TEXT NOT NULL
      ) STRICT;
    `,
  },
  {
    version: 4,
    name: 'ledger changes: what the running agent must publish',
    up: `
      -- The CLI writes the ledger from another process while the agent runs. Triggers record every
      -- change of what a camera's meta shows, whoever makes it, so the agent finds them with one
      -- indexed read (agent/inventory/changes.ts) instead of comparing the whole ledger. The agent
      -- removes the rows it has handled. AUTOINCREMENT: a seq is never reused after that.
      CREATE TABLE camera_changes (
        seq INTEGER PRIMARY KEY AUTOINCREMENT,
        camera_id TEXT NOT NULL
      ) STRICT;

      -- Removed cameras until the agent has announced them (a camera-removed event in its outbox)
      -- and cleared their retained meta at the broker: a removal made while the agent was stopped,
      -- or while the broker was away, is still announced later. A camera added again is no
      -- longer removed.
      CREATE TABLE removed_cameras (
        camera_id TEXT PRIMARY KEY,
        device_id TEXT NOT NULL,
        name TEXT,
        removed_at TEXT NOT NULL,
        announced INTEGER NOT NULL DEFAULT 0 CHECK (announced IN (0, 1)),
        cleared INTEGER NOT NULL DEFAULT 0 CHECK (cleared IN (0, 1))
      ) STRICT;

      CREATE TRIGGER cameras_changes_insert AFTER INSERT ON cameras BEGIN
        INSERT INTO camera_changes (camera_id) VALUES (new.id);
        DELETE FROM removed_cameras WHERE camera_id = new.id;
      END;
      CREATE TRIGGER cameras_changes_update AFTER UPDATE ON cameras BEGIN
        INSERT INTO camera_changes (camera_id) VALUES (new.id);
      END;
      -- Also fires for the cameras a device's deletion cascades to.
      CREATE TRIGGER cameras_changes_delete AFTER DELETE ON cameras BEGIN
        INSERT INTO camera_changes (camera_id) VALUES (old.id);
        INSERT OR REPLACE INTO removed_cameras (camera_id, device_id, name, removed_at)
          VALUES (old.id, old.device_id, old.name, strftime('%Y-%m-%dT%H:%M:%fZ', 'now'));
      END;
      -- Only what a meta shows of the device: last_seen and clock_offset_ms move with every health
      -- check and travel in the status; a new login for a device that had one changes nothing.
      CREATE TRIGGER devices_changes_update AFTER UPDATE ON devices
      WHEN old.driver IS NOT new.driver OR old.source IS NOT new.source OR old.host IS NOT new.host
        OR old.port IS NOT new.port OR old.url IS NOT new.url OR old.endpoint_uuid IS NOT new.endpoint_uuid
        OR old.manufacturer IS NOT new.manufacturer OR old.model IS NOT new.model OR old.firmware IS NOT new.firmware
        OR old.serial IS NOT new.serial OR old.hardware_id IS NOT new.hardware_id OR old.mac IS NOT new.mac
        OR old.is_nvr IS NOT new.is_nvr OR old.scopes IS NOT new.scopes
        OR (old.credential_id IS NULL) IS NOT (new.credential_id IS NULL)
      BEGIN
        INSERT INTO camera_changes (camera_id) SELECT id FROM cameras WHERE device_id = new.id;
      END;
    `,
  },
  {
    version: 5,
    name: 'picture reference per camera',
    up: `
      -- What each camera's picture looks like when it is right: the measures later probes are
      -- judged against (agent/health/picture/reference.ts), and the thumbnail they came from so a
      -- person can see what the camera is compared with. A row may hold only a renewal asked for
      -- (measures NULL): the next picture probe becomes the reference, whatever it shows.
      CREATE TABLE camera_reference (
        camera_id TEXT PRIMARY KEY REFERENCES cameras(id) ON DELETE CASCADE,
        measures TEXT,
        taken_at TEXT,
        origin TEXT CHECK (origin IN ('first-good-probe', 'command')),
        thumbnail BLOB,
        renew_requested_at TEXT,
        CHECK ((measures IS NULL) = (taken_at IS NULL) AND (measures IS NULL) = (origin IS NULL)),
        CHECK (measures IS NOT NULL OR renew_requested_at IS NOT NULL)
      ) STRICT;
    `,
  },
];

export function latestVersion(migrations: Migration[] = MIGRATIONS): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

export function currentVersion(db: Database): number {
  const row = db.prepare('SELECT MAX(version) AS version FROM schema_migrations').get() as { version: number | null };
  return row.version ?? 0;
}

/** Brings the database to the latest version; refuses a database written by a newer camgate. */
export function migrate(db: Database, file: string, migrations: Migration[] = MIGRATIONS): { from: number; to: number } {
  db.exec(`CREATE TABLE IF NOT EXISTS schema_migrations (
    version INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    applied_at TEXT NOT NULL
  ) STRICT`);
  const from = currentVersion(db);
  const latest = latestVersion(migrations);
  if (from > latest) {
    throw new CamgateError(
      `${file} has schema version ${from}, newer than this camgate understands (${latest}): ` +
        'it was written by a newer camgate. Upgrade camgate, or use another --data-dir.',
    );
  }
  const pending = migrations.filter((m) => m.version > from).sort((a, b) => a.version - b.version);
  const record = db.prepare('INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)');
  for (const m of pending) {
    const apply = db.transaction(() => {
      db.exec(m.up);
      record.run(m.version, m.name, new Date().toISOString());
    });
    try {
      apply();
    } catch (err) {
      throw new CamgateError(
        `${file}: migration ${m.version} (${m.name}) failed: ${(err as Error).message}; the database was left at version ${currentVersion(db)}`,
        1,
        { cause: err },
      );
    }
  }
  return { from, to: Math.max(from, latest) };
}
