// This process's own CPU share and memory, for the agent metrics. The budget is
// < 10 % of one core and < 100 MB RSS with 256 cameras: this is how the agent watches itself.
// No child processes here (ffmpeg grabs are counted by their supervisor).

export interface ProcessCpuSample {
  /** CPU time used since the previous sample (or construction) over the wall time elapsed,
   * in % of one core (can exceed 100 with worker threads). 0 when no time elapsed. */
  cpuPercent: number;
  rssBytes: number;
  heapUsedBytes: number;
}

export interface ProcessCpuOptions {
  /** Cumulative user/system CPU microseconds of this process. Default process.cpuUsage. */
  cpuUsage?: () => { user: number; system: number };
  /** Monotonic clock in nanoseconds. Default process.hrtime.bigint. */
  hrtime?: () => bigint;
  /** Default process.memoryUsage. */
  memoryUsage?: () => { rss: number; heapUsed: number };
}

export class ProcessCpu {
  private readonly cpuUsage: () => { user: number; system: number };
  private readonly hrtime: () => bigint;
  private readonly memoryUsage: () => { rss: number; heapUsed: number };
  private lastCpuUs: number;
  private lastNs: bigint;

  constructor(options: ProcessCpuOptions = {}) {
    this.cpuUsage = options.cpuUsage ?? (() => process.cpuUsage());
    this.hrtime = options.hrtime ?? (() => process.hrtime.bigint());
    this.memoryUsage = options.memoryUsage ?? (() => process.memoryUsage());
    const u = this.cpuUsage();
    this.lastCpuUs = u.user + u.system;
    this.lastNs = this.hrtime();
  }

  sample(): ProcessCpuSample {
    const u = this.cpuUsage();
    const ns = this.hrtime();
    const cpuUs = u.user + u.system;
    const elapsedUs = Number(ns - this.lastNs) / 1000;
    const usedUs = Math.max(0, cpuUs - this.lastCpuUs);
    this.lastCpuUs = cpuUs;
    this.lastNs = ns;
    const m = this.memoryUsage();
    return {
      cpuPercent: elapsedUs > 0 ? Math.round((usedUs / elapsedUs) * 100 * 100) / 100 : 0,
      rssBytes: m.rss,
      heapUsedBytes: m.heapUsed,
    };
  }
}
