// Ledger changes the running agent must pass on: the CLI (`camgate cameras set/add/remove/import`,
// `camgate discover`, `cameras confirm-move`) writes the ledger from another process, and the
// triggers of migration 4 record each change of what a camera's meta shows. LedgerWatch reads
// them every second (one indexed read when nothing changed), has the meta of changed and new
// cameras published, and announces removals: a durable event, then the retained meta (and
// status) cleared.
// Removals wait in removed_cameras until both are done, so one made while the agent was stopped
// or the broker away is still announced.
import type { Database } from 'better-sqlite3';
import { BACKGROUND, systemClock, type Clock, type TimerHandle } from '../../lib/clock';
import { mapWithConcurrency } from '../../lib/concurrency';
import { waitAtMost } from '../../lib/deadline';
import type { Logger } from '../../lib/log';

/** A camera removed from the ledger, until it is announced and its retained meta cleared. */
export interface CameraRemoval {
  cameraId: string;
  deviceId: string;
  /** Its name when it was removed. */
  name: string | null;
  /** When it was removed (ISO 8601 UTC, the clock of the process that removed it). */
  removedAt: string;
  /** The camera-removed event is in the outbox. */
  announced: boolean;
  /** Its retained meta and status were cleared at the broker. */
  cleared: boolean;
}

interface RemovalRow {
  camera_id: string;
  device_id: string;
  name: string | null;
  removed_at: string;
  announced: number;
  cleared: number;
}

/** The highest change recorded so far (0: none). */
export function latestChange(db: Database): number {
  return (db.prepare('SELECT COALESCE(MAX(seq), 0) AS seq FROM camera_changes').get() as { seq: number }).seq;
}

/** Changes recorded after `afterSeq`, oldest first. */
export function changesSince(db: Database, afterSeq: number): Array<{ seq: number; cameraId: string }> {
  return (db.prepare('SELECT seq, camera_id FROM camera_changes WHERE seq > ? ORDER BY seq').all(afterSeq) as Array<{ seq: number; camera_id: string }>).map(
    (r) => ({ seq: r.seq, cameraId: r.camera_id }),
  );
}

/** Drops the changes up to `seq`: they have been handled. */
export function forgetChanges(db: Database, seq: number): void {
  db.prepare('DELETE FROM camera_changes WHERE seq <= ?').run(seq);
}

/** Removals not yet announced or not yet cleared, of cameras not back in the ledger, oldest first. */
export function pendingRemovals(db: Database): CameraRemoval[] {
  const rows = db
    .prepare(
      `SELECT * FROM removed_cameras r WHERE (announced = 0 OR cleared = 0)
         AND NOT EXISTS (SELECT 1 FROM cameras c WHERE c.id = r.camera_id) ORDER BY removed_at, camera_id`,
    )
    .all() as RemovalRow[];
  return rows.map((r) => ({
    cameraId: r.camera_id,
    deviceId: r.device_id,
    name: r.name,
    removedAt: r.removed_at,
    announced: r.announced === 1,
    cleared: r.cleared === 1,
  }));
}

/** Cameras whose retained meta and status are still to be cleared at the broker. */
export function removalsToClear(db: Database): string[] {
  return pendingRemovals(db)
    .filter((r) => !r.cleared)
    .map((r) => r.cameraId);
}

/** Records that removals were announced or cleared; a removal done with both is forgotten. */
export function markRemovals(db: Database, cameraIds: readonly string[], done: 'announced' | 'cleared'): void {
  if (cameraIds.length === 0) return;
  const mark = db.prepare(`UPDATE removed_cameras SET ${done === 'announced' ? 'announced' : 'cleared'} = 1 WHERE camera_id = ?`);
  db.transaction(() => {
    for (const id of cameraIds) mark.run(id);
    db.prepare('DELETE FROM removed_cameras WHERE announced = 1 AND cleared = 1').run();
  })();
}

/** Where the watch sends what it finds (agent.ts wires the uplink to it). */
export interface LedgerSink {
  /** Whether publishing can work now; while not, the connect-time burst covers metas and clears. */
  connected(): boolean;
  /** Publishes the camera's current meta; false when it could not (tried again next tick). */
  metaChanged(cameraId: string): Promise<boolean>;
  /** Records the camera-removed event durably; resolves once stored. */
  cameraRemoved(removal: CameraRemoval): Promise<unknown>;
  /** Clears the camera's retained meta (and status) at the broker; false when it could not (tried again). */
  clearRetained(cameraId: string): Promise<boolean>;
}

export interface LedgerWatchOptions {
  db: Database;
  sink: LedgerSink;
  /** Called after changes were found (the health monitor re-reads the ledger). */
  onChange?: () => void;
  /** How often the ledger is checked; default 1000 ms. */
  everyMs?: number;
  /** Metas published at once; default 16. */
  concurrency?: number;
  logger?: Logger;
  clock?: Clock;
}

export class LedgerWatch {
  private readonly clock: Clock;
  private cursor = 0;
  /** Cameras changed whose meta has not reached the broker yet. */
  private readonly unsent = new Set<string>();
  /** removed_cameras may hold something to do (checked at start and after every change). */
  private removalsPending = true;
  private timer?: TimerHandle;
  private running?: Promise<void>;
  private started = false;
  private stopped = false;

  constructor(private readonly options: LedgerWatchOptions) {
    this.clock = options.clock ?? systemClock;
  }

  /** Starts from the changes recorded so far: the connect-time burst publishes every meta anyway. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.cursor = latestChange(this.options.db);
    forgetChanges(this.options.db, this.cursor);
    this.schedule(0);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
    // An event being stored finishes (else it would be announced again after the restart);
    // a publish the broker does not acknowledge is not waited for.
    if (this.running) await waitAtMost(this.running, 2000, this.clock);
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.clock.setTimeout(
      () => {
        this.running = this.check()
          .catch((err: unknown) => this.options.logger?.warn({ err }, 'ledger: could not pass changes on; trying again'))
          .finally(() => {
            this.running = undefined;
            this.schedule(this.options.everyMs ?? 1000);
          });
      },
      ms,
      BACKGROUND,
    );
  }

  /** One round: new changes, metas not yet sent, removals not yet announced or cleared. */
  private async check(): Promise<void> {
    const { db, sink } = this.options;
    const changes = changesSince(db, this.cursor);
    if (changes.length > 0) {
      this.cursor = changes[changes.length - 1].seq;
      for (const c of changes) this.unsent.add(c.cameraId);
      this.removalsPending = true;
      forgetChanges(db, this.cursor);
      try {
        this.options.onChange?.();
      } catch (err) {
        this.options.logger?.warn({ err }, 'ledger: a listener failed on a change');
      }
    }
    if (this.unsent.size > 0 && sink.connected()) {
      const exists = db.prepare('SELECT 1 FROM cameras WHERE id = ?');
      await mapWithConcurrency([...this.unsent], this.options.concurrency ?? 16, async (id) => {
        if (this.stopped) return;
        // A camera gone since is the removals' business.
        if (!exists.get(id) || (await sink.metaChanged(id))) this.unsent.delete(id);
      });
    }
    if (this.removalsPending && !this.stopped) await this.removals();
  }

  private async removals(): Promise<void> {
    const { db, sink, logger } = this.options;
    const pending = pendingRemovals(db);
    this.removalsPending = pending.length > 0;
    for (const removal of pending) {
      if (this.stopped) return;
      if (!removal.announced) {
        await sink.cameraRemoved(removal);
        // Marked even when stopping: the event is stored, and must not be stored again after a restart.
        markRemovals(db, [removal.cameraId], 'announced');
        logger?.info({ camera: removal.cameraId, removedAt: removal.removedAt }, 'ledger: camera removed; camera-removed event recorded');
      }
      if (!removal.cleared && !this.stopped && sink.connected() && (await sink.clearRetained(removal.cameraId))) {
        markRemovals(db, [removal.cameraId], 'cleared');
      }
    }
  }
}
