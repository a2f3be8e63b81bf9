// Sites that went silent: a box that lost power sends no Will that anyone sees in time (the
// broker's keep-alive may be long, the link may have died first), and no message says so. Every
// alarms.checkIntervalSec this looks for sites with no message observed for staleAfterSec and no
// site-offline alarm open, and opens one at the end of their last evidence of life. While the
// central itself is not taking messages in (broker away, ingest paused, just started), silence is
// the central's own, not the sites': nothing is raised until it has listened for staleAfterSec.
import type { Kysely } from 'kysely';
import type { Clock, TimerHandle } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import type { CentralTables } from '../store/schema';
import type { AlarmStore } from './store';

export interface SilenceCheckOptions {
  db: Kysely<CentralTables>;
  store: AlarmStore;
  clock: Clock;
  log: Logger;
  staleAfterMs: number;
  intervalMs: number;
  /** Is ingest taking in what the broker delivers now? */
  listening(): boolean;
}

export class SilenceCheck {
  private timer: TimerHandle = undefined;
  private running: Promise<void> | undefined;
  private stopped = true;
  private listeningSince: number | undefined;

  constructor(private readonly options: SilenceCheckOptions) {}

  start(): void {
    this.stopped = false;
    this.schedule();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer !== undefined) this.options.clock.clearTimeout(this.timer);
    this.timer = undefined;
    await this.running;
  }

  /** One look for silent sites; returns how many got a site-offline alarm. */
  async checkOnce(): Promise<number> {
    const { clock, staleAfterMs } = this.options;
    const now = clock.now();
    if (!this.options.listening()) {
      this.listeningSince = undefined;
      return 0;
    }
    this.listeningSince ??= now;
    if (now - this.listeningSince < staleAfterMs) return 0;
    const silent = await this.options.db
      .selectFrom('sites')
      .select(['site_id', 'last_observed'])
      .where('last_observed', '<', now - staleAfterMs)
      .where(({ not, exists, selectFrom }) =>
        not(
          exists(
            selectFrom('alarms')
              .select('alarm_id')
              .whereRef('alarms.site_id', '=', 'sites.site_id')
              .where('alarms.camera_id', '=', '')
              .where('alarms.kind', '=', 'site-offline')
              .where('alarms.cleared_at', 'is', null),
          ),
        ),
      )
      .orderBy('site_id')
      .execute();
    for (const site of silent) {
      await this.options.db.transaction().execute((tx) =>
        this.options.store.record(tx, [
          {
            site: site.site_id,
            camera: '',
            kind: 'site-offline',
            observation: {
              at: site.last_observed + staleAfterMs,
              fault: true,
              evidence: `silent: no message for ${Math.round(staleAfterMs / 1000)} s`,
              detail: { lastObserved: new Date(site.last_observed).toISOString() },
            },
          },
        ]),
      );
    }
    if (silent.length > 0) this.options.log.info({ sites: silent.map((s) => s.site_id).slice(0, 20), count: silent.length }, 'alarms: sites gone silent');
    return silent.length;
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.options.clock.setTimeout(() => this.tick(), this.options.intervalMs, { background: true });
  }

  private tick(): void {
    this.timer = undefined;
    this.running = this.checkOnce()
      .then(
        () => undefined,
        (err: unknown) => this.options.log.warn({ err: (err as Error).message }, 'alarms: the silence check failed; trying again at the next interval'),
      )
      .finally(() => {
        this.running = undefined;
        this.schedule();
      });
  }
}
