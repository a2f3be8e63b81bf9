// A central instance in its own process for the central's benchmarks: started with startCentral
// as `camgate central` starts it, so its CPU and memory are its own (not the publishers' or the
// generator's), and driven over IPC by the bench. It answers:
//   stats                     ingest's counters (ingest.stats()) and the process's memory
//   admin                     a first admin (ensureFirstAdmin), for the API's login
//   refresh {forget?}         one figures round (FiguresRefresher.refresh), optionally after
//                             forgetting these days' figures (figures_days rows) so they are
//                             measured again; answers the round's result and its memory peak
//   memory-peak               the peak RSS and heap since the last memory-peak
//   stop
//
//   (spawned by centralProcess(); not run by hand)
import { spawn, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { centralConfig } from '../../central/config/spec';
import { startCentral, type RunningCentral } from '../../central/central';
import { ensureFirstAdmin } from '../../central/auth/users';
import { systemClock } from '../../lib/clock';
import { createLogger } from '../../lib/log';
import type { IngestStats } from '../../central/ingest/subscriber';
import type { RoundResult } from '../../central/figures/refresher';

export interface Memory {
  rssMb: number;
  heapUsedMb: number;
  heapTotalMb: number;
}

export interface StatsAnswer {
  stats: IngestStats | undefined;
  memory: Memory;
  /** CPU this process has used since it started (user + system), ms. */
  cpuMs: number;
}

type Request =
  | { id: number; type: 'stats' }
  | { id: number; type: 'admin' }
  | { id: number; type: 'refresh'; forget?: string[] }
  | { id: number; type: 'memory-peak' }
  | { id: number; type: 'stop' };

const mb = (bytes: number) => Math.round((bytes / 1048576) * 10) / 10;

function memoryNow(): Memory {
  const m = process.memoryUsage();
  return { rssMb: mb(m.rss), heapUsedMb: mb(m.heapUsed), heapTotalMb: mb(m.heapTotal) };
}

function cpuMsNow(): number {
  const c = process.cpuUsage();
  return (c.user + c.system) / 1000;
}

/** The central process itself. */
async function childMain(): Promise<void> {
  const env = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('CAMGATE_CENTRAL_'))) as Record<string, string>;
  const config = centralConfig.load({ env }).config;
  const logger = createLogger({ level: 'warn' });
  const central: RunningCentral = await startCentral({ config, logger, ingest: process.env.BENCH_CENTRAL_INGEST !== '0' });

  let peak: Memory = memoryNow();
  const sample = () => {
    const m = memoryNow();
    peak = {
      rssMb: Math.max(peak.rssMb, m.rssMb),
      heapUsedMb: Math.max(peak.heapUsedMb, m.heapUsedMb),
      heapTotalMb: Math.max(peak.heapTotalMb, m.heapTotalMb),
    };
  };
  const sampler = setInterval(sample, 20);

  const answer = (id: number, body: object) => process.send?.({ id, ...body });
  process.on('message', (req: Request) => {
    void (async () => {
      try {
        switch (req.type) {
          case 'stats':
            return answer(req.id, { stats: central.ingest?.stats(), memory: memoryNow(), cpuMs: cpuMsNow() } satisfies StatsAnswer);
          case 'admin':
            return answer(req.id, { admin: await ensureFirstAdmin(central.db.db, systemClock) });
          case 'refresh': {
            if (req.forget && req.forget.length > 0) await central.db.db.deleteFrom('figures_days').where('day', 'in', req.forget).execute();
            sample();
            peak = memoryNow();
            const t0 = performance.now();
            const round: RoundResult = await central.figures.refresh();
            const ms = performance.now() - t0;
            sample();
            return answer(req.id, { round, ms, peak });
          }
          case 'memory-peak': {
            sample();
            const out = peak;
            peak = memoryNow();
            return answer(req.id, { peak: out });
          }
          case 'stop':
            clearInterval(sampler);
            await central.stop();
            answer(req.id, {});
            process.exit(0);
        }
      } catch (err) {
        answer(req.id, { error: err instanceof Error ? (err.stack ?? err.message) : String(err) });
      }
    })();
  });
  process.send?.({ id: 0, ready: true, url: central.url });
}

/** The bench's handle on a central process. */
export interface CentralProcess {
  child: ChildProcess;
  url: string;
  call<T = Record<string, unknown>>(request: Record<string, unknown> & { type: Request['type'] }): Promise<T>;
  stop(): Promise<void>;
}

/**
 * Starts a central in its own process with this configuration (CAMGATE_CENTRAL_* variables, as
 * `camgate central` reads them). `ingest: false` starts it without a broker connection (an API and
 * the figures over an existing database). `nodeArgs` go to node (e.g. --cpu-prof).
 */
export async function centralProcess(env: Record<string, string>, options: { ingest?: boolean; nodeArgs?: string[] } = {}): Promise<CentralProcess> {
  const child = spawn(process.execPath, [...(options.nodeArgs ?? []), __filename], {
    stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    env: { ...process.env, ...env, BENCH_CENTRAL_INGEST: options.ingest === false ? '0' : '1', BENCH_CENTRAL_CHILD: '1' },
  });
  const waiting = new Map<number, { resolve: (v: unknown) => void; reject: (e: Error) => void }>();
  let nextId = 1;
  let exited: Error | undefined;
  const ready = new Promise<string>((resolve, reject) => {
    child.on('message', (m: { id: number; ready?: boolean; url?: string; error?: string }) => {
      if (m.id === 0 && m.ready) return resolve(m.url as string);
      const w = waiting.get(m.id);
      if (!w) return;
      waiting.delete(m.id);
      if (m.error) w.reject(new Error(`central process: ${m.error}`));
      else w.resolve(m);
    });
    child.on('exit', (code, signal) => {
      exited = new Error(`the central process exited (${code ?? signal})`);
      reject(exited);
      for (const w of waiting.values()) w.reject(exited);
      waiting.clear();
    });
  });
  const url = await ready;
  const call = <T>(request: Record<string, unknown> & { type: Request['type'] }) =>
    new Promise<T>((resolve, reject) => {
      if (exited) return reject(exited);
      const id = nextId++;
      waiting.set(id, { resolve: resolve as (v: unknown) => void, reject });
      child.send({ ...request, id });
    });
  return {
    child,
    url,
    call,
    async stop() {
      if (exited) return;
      const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
      await call({ type: 'stop' }).catch(() => undefined);
      await gone;
    },
  };
}

if (process.env.BENCH_CENTRAL_CHILD === '1' && require.main === module) {
  childMain().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
