// Persistence of health in the inventory database: the last status of each camera and its latest
// thumbnail (table camera_health, migration 2); each camera's picture reference and a renewal asked
// for (table camera_reference, migration 5). The agent and the CLI (another process) both use it.
import type { Database, Statement } from 'better-sqlite3';
import type { CameraStatus } from '../../contract';
import { parseReference } from './picture/reference';
import type { PictureReference } from './types';

export interface Thumbnail {
  camera: string;
  jpeg: Buffer;
  takenAt: string;
}

/** A camera's picture reference as stored. */
export interface ReferenceRecord {
  /** null: none kept (never taken, cleared, or refused). */
  reference: PictureReference | null;
  /** The thumbnail the reference was taken from. */
  thumbnail: Buffer | null;
  /** Why the stored measures cannot be used (another version of the diagnosis, damaged); the
   * caller drops them (dropRefusedReference) and a new reference is taken from the next good probe. */
  refused?: string;
  /** When a renewal was asked for (the next probe's picture becomes the reference), else null. */
  renewRequestedAt: string | null;
}

const ORIGINS: ReadonlySet<string> = new Set<PictureReference['origin']>(['first-good-probe', 'command']);

export class HealthStore {
  private readonly saveStatus: Statement;
  private readonly saveThumb: Statement;
  private readonly loadAll: Statement;
  private readonly loadThumb: Statement;
  private readonly loadReference: Statement;
  private readonly putReference: Statement;
  private readonly putRenewal: Statement;
  private readonly deleteReference: Statement;
  private readonly dropMeasures: Statement;
  private readonly dropEmpty: Statement;
  private readonly loadRenewals: Statement;

  constructor(private readonly db: Database) {
    // Only cameras still in the inventory: a removed camera's row went with it (ON DELETE CASCADE).
    this.saveStatus = db.prepare(
      `INSERT INTO camera_health (camera_id, status, updated_at) SELECT @camera, @status, @at WHERE EXISTS (SELECT 1 FROM cameras WHERE id = @camera)
       ON CONFLICT (camera_id) DO UPDATE SET status = excluded.status, updated_at = excluded.updated_at`,
    );
    this.saveThumb = db.prepare(
      `INSERT INTO camera_health (camera_id, status, updated_at, thumbnail, thumbnail_at) SELECT @camera, '{}', @at, @jpeg, @at WHERE EXISTS (SELECT 1 FROM cameras WHERE id = @camera)
       ON CONFLICT (camera_id) DO UPDATE SET thumbnail = excluded.thumbnail, thumbnail_at = excluded.thumbnail_at`,
    );
    this.loadAll = db.prepare('SELECT camera_id AS camera, status FROM camera_health');
    this.loadThumb = db.prepare('SELECT thumbnail, thumbnail_at FROM camera_health WHERE camera_id = ? AND thumbnail IS NOT NULL');
    this.loadReference = db.prepare('SELECT measures, taken_at, origin, thumbnail, renew_requested_at FROM camera_reference WHERE camera_id = ?');
    // The renewal this reference answers is done; one asked for while the probe ran is kept.
    this.putReference = db.prepare(
      `INSERT INTO camera_reference (camera_id, measures, taken_at, origin, thumbnail) SELECT @camera, @measures, @takenAt, @origin, @thumbnail WHERE EXISTS (SELECT 1 FROM cameras WHERE id = @camera)
       ON CONFLICT (camera_id) DO UPDATE SET measures = excluded.measures, taken_at = excluded.taken_at, origin = excluded.origin, thumbnail = excluded.thumbnail,
         renew_requested_at = CASE WHEN renew_requested_at IS @answered THEN NULL ELSE renew_requested_at END`,
    );
    this.putRenewal = db.prepare(
      `INSERT INTO camera_reference (camera_id, renew_requested_at) SELECT @camera, @at WHERE EXISTS (SELECT 1 FROM cameras WHERE id = @camera)
       ON CONFLICT (camera_id) DO UPDATE SET renew_requested_at = excluded.renew_requested_at`,
    );
    this.deleteReference = db.prepare('DELETE FROM camera_reference WHERE camera_id = ?');
    this.dropMeasures = db.prepare(
      'UPDATE camera_reference SET measures = NULL, taken_at = NULL, origin = NULL, thumbnail = NULL WHERE camera_id = ? AND renew_requested_at IS NOT NULL',
    );
    this.dropEmpty = db.prepare('DELETE FROM camera_reference WHERE camera_id = ? AND renew_requested_at IS NULL');
    this.loadRenewals = db.prepare('SELECT camera_id AS camera FROM camera_reference WHERE renew_requested_at IS NOT NULL');
  }

  /** Statuses saved before, by camera id; rows that do not parse are ignored (a fresh start for that camera). */
  statuses(): Map<string, CameraStatus> {
    const out = new Map<string, CameraStatus>();
    for (const row of this.loadAll.all() as Array<{ camera: string; status: string }>) {
      try {
        const s = JSON.parse(row.status) as CameraStatus;
        if (s && typeof s === 'object' && s.camera === row.camera && typeof s.state === 'string') out.set(row.camera, s);
      } catch {
        /* a damaged row: start that camera from unknown */
      }
    }
    return out;
  }

  saveStatuses(statuses: readonly CameraStatus[], at: Date): void {
    const run = this.db.transaction((list: readonly CameraStatus[]) => {
      for (const s of list) this.saveStatus.run({ camera: s.camera, status: JSON.stringify(s), at: at.toISOString() });
    });
    run(statuses);
  }

  saveThumbnail(camera: string, jpeg: Buffer, at: Date): void {
    this.saveThumb.run({ camera, jpeg, at: at.toISOString() });
  }

  thumbnail(camera: string): Thumbnail | undefined {
    const row = this.loadThumb.get(camera) as { thumbnail: Buffer; thumbnail_at: string } | undefined;
    return row ? { camera, jpeg: row.thumbnail, takenAt: row.thumbnail_at } : undefined;
  }

  /** The camera's stored reference (checked with parseReference) and any renewal asked for. */
  reference(camera: string): ReferenceRecord {
    const row = this.loadReference.get(camera) as
      { measures: string | null; taken_at: string | null; origin: string | null; thumbnail: Buffer | null; renew_requested_at: string | null } | undefined;
    if (!row) return { reference: null, thumbnail: null, renewRequestedAt: null };
    const renewRequestedAt = row.renew_requested_at;
    if (row.measures === null || row.taken_at === null || row.origin === null) return { reference: null, thumbnail: null, renewRequestedAt };
    let stored: unknown;
    try {
      stored = JSON.parse(row.measures);
    } catch {
      return { reference: null, thumbnail: null, refused: 'its measures are not JSON', renewRequestedAt };
    }
    const parsed = parseReference(stored);
    if (!parsed.ok) return { reference: null, thumbnail: null, refused: parsed.why, renewRequestedAt };
    if (!ORIGINS.has(row.origin)) return { reference: null, thumbnail: null, refused: `unknown origin ${JSON.stringify(row.origin)}`, renewRequestedAt };
    return {
      reference: { measures: parsed.measures, takenAt: row.taken_at, origin: row.origin as PictureReference['origin'] },
      thumbnail: row.thumbnail,
      renewRequestedAt,
    };
  }

  /**
   * Keeps `reference` as the camera's (nothing when the camera has left the inventory).
   * `answered`: the renewal request (its renew_requested_at) this reference was taken for, which
   * is then done; a renewal asked for after it stays.
   */
  saveReference(camera: string, reference: PictureReference, thumbnail: Buffer | null, answered: string | null): void {
    this.putReference.run({
      camera,
      measures: JSON.stringify(reference.measures),
      takenAt: reference.takenAt,
      origin: reference.origin,
      thumbnail,
      answered,
    });
  }

  /** Asks for the camera's next picture to become its reference; false when the camera is not in the inventory. */
  requestRenewal(camera: string, at: Date): boolean {
    return this.putRenewal.run({ camera, at: at.toISOString() }).changes > 0;
  }

  /** Forgets the camera's reference and any renewal asked for; false when there was neither. */
  clearReference(camera: string): boolean {
    return this.deleteReference.run(camera).changes > 0;
  }

  /** Drops stored measures that were refused; a renewal asked for stays. */
  dropRefusedReference(camera: string): void {
    const run = this.db.transaction(() => {
      this.dropMeasures.run(camera);
      this.dropEmpty.run(camera);
    });
    run();
  }

  /** Cameras with a renewal asked for and not yet taken. */
  renewalsRequested(): string[] {
    return (this.loadRenewals.all() as Array<{ camera: string }>).map((r) => r.camera);
  }
}
