// Persistence of health in the inventory database (table camera_health, migration 2): the last
// status of each camera and its latest thumbnail.
import type { Database, Statement } from 'better-sqlite3';
import type { CameraStatus } from '../../contract';

export interface Thumbnail {
  camera: string;
  jpeg: Buffer;
  takenAt: string;
}

export class HealthStore {
  private readonly saveStatus: Statement;
  private readonly saveThumb: Statement;
  private readonly loadAll: Statement;
  private readonly loadThumb: Statement;

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
}
