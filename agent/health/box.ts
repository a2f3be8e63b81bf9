// The box itself: samples host figures on a timer, raises disk-low / temperature-high through
// the sink, and keeps the last sample for the metrics payload (so metrics never sample twice).
import { HostAlarms, HostAlarmThresholds } from './host/alarms';
import type { HostSample, HostSampler } from './host/sample';
import type { EventBody } from '../../contract';
import type { Logger } from '../../lib/log';
import { BACKGROUND, systemClock, type Clock, type TimerHandle } from '../../lib/clock';

export interface BoxWatchOptions {
  sampler: Pick<HostSampler, 'sample'>;
  thresholds: HostAlarmThresholds;
  /** How often the host is sampled, ms. */
  everyMs: number;
  sink: { event(body: EventBody, observedAt: Date): Promise<unknown> };
  logger?: Logger;
  clock?: Clock;
}

export class BoxWatch {
  private readonly alarms: HostAlarms;
  private timer?: TimerHandle;
  private readonly clock: Clock;
  private last: HostSample | null = null;
  private running?: Promise<HostSample>;
  private stopped = false;

  constructor(private readonly options: BoxWatchOptions) {
    this.alarms = new HostAlarms(options.thresholds);
    this.clock = options.clock ?? systemClock;
  }

  start(): void {
    const every = () => {
      void this.tick();
      this.timer = this.clock.setTimeout(() => !this.stopped && every(), this.options.everyMs, BACKGROUND);
    };
    every();
  }

  stop(): void {
    this.stopped = true;
    this.clock.clearTimeout(this.timer);
  }

  /** The latest host sample (taking one when none was taken yet). */
  async latest(): Promise<HostSample> {
    return this.last ?? (await this.tick());
  }

  get activeAlarms() {
    return this.alarms.active;
  }

  /** One sample and its alarms; overlapping calls share the sample in progress. */
  tick(): Promise<HostSample> {
    this.running ??= (async () => {
      try {
        const sample = await this.options.sampler.sample();
        this.last = sample;
        if (!this.stopped) {
          for (const e of this.alarms.evaluate(sample)) {
            this.options.sink
              .event({ type: e.type, severity: e.severity, message: e.message, detail: e.detail }, new Date(this.clock.now()))
              .catch((err) => this.options.logger?.error({ err, event: e.type }, 'box: alarm not recorded'));
          }
        }
        return sample;
      } finally {
        this.running = undefined;
      }
    })();
    return this.running;
  }
}
