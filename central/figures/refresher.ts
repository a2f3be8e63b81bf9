// Keeps the measured days current. Each round: every day since the first camera that has no
// figures yet, or was computed only part-way and is now over, is measured whole; today is
// measured again every `todayEveryMs`; and the site days ingest marked stale (a late backlog, a
// status delivered twice, a meta changed) are measured again, a change in what a day hands to the
// next (the status in force at midnight, the groups) marking the next day in turn. Measuring is
// idempotent, so two central instances on one database may both do it.
import type { Kysely } from 'kysely';
import type { Clock, TimerHandle } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import { letEventLoopRun } from '../../lib/concurrency';
import type { CentralTables } from '../store/schema';
import type { Dialect } from '../store/open';
import { addDays, dayBounds, dayOf, daysBetween } from './days';
import { buildDayRows } from './day-rows';
import { computedDays, firstCountedAt, loadDay, readDayRows, replaceDayRows, takeDirty } from './store';

export interface RefresherOptions {
  db: Kysely<CentralTables>;
  dialect: Dialect;
  clock: Clock;
  log: Logger;
  timezone: string;
  /** A day is measured for the last time this long after it ends (late evidence of its last minutes). */
  settleMs: number;
  /** Between rounds. */
  everyMs: number;
  /** Today is measured again at most this often. */
  todayEveryMs: number;
  /** Days before today measured at most, when the database has a longer history without figures. */
  maxBackfillDays?: number;
  /** Told after a scheduled round that measured something (a failure is logged, not thrown). */
  measured?(result: RoundResult): Promise<void>;
}

export interface RoundResult {
  /** Days measured whole. */
  days: string[];
  /** Site days measured again because they were stale. */
  siteDays: number;
  ms: number;
}

export class FiguresRefresher {
  private timer?: TimerHandle;
  private running: Promise<RoundResult> | undefined;
  private stopped = false;

  constructor(private readonly o: RefresherOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.o.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running?.catch(() => undefined);
  }

  /** One round now (a round already running is waited for instead). */
  refresh(): Promise<RoundResult> {
    if (!this.running) {
      this.running = this.round().finally(() => {
        this.running = undefined;
      });
    }
    return this.running;
  }

  private schedule(ms: number): void {
    if (this.stopped) return;
    this.timer = this.o.clock.setTimeout(
      () => {
        this.refresh()
          .then(async (result) => {
            if (this.o.measured && (result.days.length > 0 || result.siteDays > 0)) {
              await this.o
                .measured(result)
                .catch((err: unknown) => this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'figures: after the round'));
            }
          })
          .catch((err: unknown) => this.o.log.warn({ err: err instanceof Error ? err.message : String(err) }, 'figures: refresh failed; retried next round'))
          .finally(() => this.schedule(this.o.everyMs));
      },
      ms,
      { background: true },
    );
  }

  private async round(): Promise<RoundResult> {
    const started = this.o.clock.now();
    const now = started;
    const zone = this.o.timezone;
    const today = dayOf(now, zone);
    const marks = await takeDirty(this.o.db);
    const measured = new Set<string>();
    const handedOn: Array<{ day: string; site: string }> = [];

    const first = await firstCountedAt(this.o.db);
    if (first !== null) {
      const earliest = addDays(today, -(this.o.maxBackfillDays ?? 400));
      const firstDay = dayOf(first, zone) < earliest ? earliest : dayOf(first, zone);
      const done = new Map((await computedDays(this.o.db)).map((d) => [d.day, d]));
      for (const day of daysBetween(firstDay, today)) {
        const bounds = dayBounds(day, zone);
        const computed = done.get(day);
        const due =
          !computed || (computed.through < bounds.end && now >= bounds.end + this.o.settleMs) || (day === today && now - computed.at >= this.o.todayEveryMs);
        if (!due) continue;
        // With SQLite a month's round would otherwise hold the API, ingest and the broker's keep-alive until it ends.
        await letEventLoopRun();
        for (const site of await this.measure(day, undefined, now)) handedOn.push({ day: addDays(day, 1), site });
        measured.add(day);
      }
    }

    // Stale site days, oldest first; today is measured whole on its own schedule.
    const pending = new Map<string, Set<string>>();
    const add = (day: string, site: string) => {
      if (day >= today || measured.has(day)) return;
      const sites = pending.get(day) ?? new Set<string>();
      sites.add(site);
      pending.set(day, sites);
    };
    for (const m of [...marks, ...handedOn]) add(m.day, m.site);
    let siteDays = 0;
    while (pending.size > 0) {
      const day = [...pending.keys()].sort()[0];
      const sites = [...(pending.get(day) as Set<string>)];
      pending.delete(day);
      siteDays += sites.length;
      await letEventLoopRun();
      for (const site of await this.measure(day, sites, now)) add(addDays(day, 1), site);
    }
    const ms = this.o.clock.now() - started;
    if (measured.size > 0 || siteDays > 0) this.o.log.debug({ days: [...measured], siteDays, ms }, 'figures: measured');
    return { days: [...measured], siteDays, ms };
  }

  /** Measures one day (of these sites, or of all) and answers the sites whose carry into the next day changed. */
  private async measure(day: string, sites: string[] | undefined, now: number): Promise<string[]> {
    const bounds = dayBounds(day, this.o.timezone);
    const period = { start: bounds.start, end: Math.min(bounds.end, now) };
    if (period.end <= period.start) return [];
    const before = new Map((await readDayRows(this.o.db, day, sites)).map((r) => [`${r.site_id}\u0000${r.camera_id}`, r.carry]));
    const rows = buildDayRows(day, period, await loadDay(this.o.db, period, sites));
    await replaceDayRows(this.o.db, this.o.dialect, day, rows, sites, { through: period.end, at: this.o.clock.now() });
    const changed = new Set<string>();
    for (const r of rows) {
      const k = `${r.site_id}\u0000${r.camera_id}`;
      if (before.get(k) !== r.carry) changed.add(r.site_id);
      before.delete(k);
    }
    for (const k of before.keys()) changed.add(k.split('\u0000')[0]);
    return [...changed];
  }
}
