// Shared set-up of the live view tests: the camera simulator on 127.82.x.y (this directory's
// loopback subnet), an inventory of its cameras, the real ffmpeg supervisor, LivePulls and the web server.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { startSimulator } from '../../scripts/sim/index';
import type { SimCameraSpec, Simulator } from '../../scripts/sim/types';
import { openDatabase } from '../../agent/inventory/open';
import { FfmpegSupervisor } from '../../agent/ffmpeg/supervisor';
import { writeFfmpegWrapper } from '../../agent/ffmpeg/launch';
import { LivePulls } from '../../agent/video/live/live-pull';
import { inventorySource } from '../../agent/web/cameras';
import { startWebServer, type RunningWebServer } from '../../agent/web/server';
import type { AgentConfig } from '../../agent/config/schema';
import { createLogger } from '../../lib/log';
import { identifyInto } from '../kit/site';

export interface TestContext {
  after(fn: () => unknown): void;
}

export const WEB_DEFAULTS: AgentConfig['web'] = {
  enabled: true,
  host: '127.82.0.1',
  port: 0,
  username: 'admin',
  lingerSec: 0,
  maxViewers: 32,
  fallbackWidth: 640,
  fallbackBitrateKbps: 1000,
  maxKeyframeIntervalSec: 0,
  hostnames: [],
  tls: {},
  login: { maxFailures: 10, freeFailures: 3, lockoutSec: 900 },
};

export interface LiveRig {
  sim: Simulator;
  db: Database;
  ids: Record<string, string>;
  supervisor: FfmpegSupervisor;
  pulls: LivePulls;
  server: RunningWebServer;
}

/** Simulator (an H.264 camera at 127.82.0.2 / an H.265 one at .3 unless given), inventory, supervisor, pulls, server. */
/**
 * Each test file owns one /24 of 127.82.0.0/16 (files run in parallel): the server on .1, cameras from .2.
 * Default cameras: an H.264 one at <net>.2 and an H.265 one at <net>.3.
 */
export async function liveRig(
  t: TestContext,
  net: string,
  web: Partial<AgentConfig['web']> = {},
  cameras: SimCameraSpec[] = [{ host: `${net}.2` }, { host: `${net}.3`, codec: 'H265' }],
): Promise<LiveRig> {
  // One cleanup, in reverse order of start-up (server, pulls, ffmpeg, inventory, simulator).
  const cleanups: Array<() => unknown> = [];
  t.after(async () => {
    for (const c of cleanups.reverse()) await c();
  });
  const sim = await startSimulator({ cameras });
  cleanups.push(() => sim.stop());
  const dir = mkdtempSync(join(tmpdir(), 'camgate-web-'));
  cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
  const db = openDatabase(join(dir, 'data'));
  cleanups.push(() => db.close());
  const ids = await identifyInto(
    db,
    cameras.map((c) => c.host),
  );
  const logger = createLogger({ level: 'silent' });
  const binary = { path: '/usr/bin/ffmpeg', source: 'path' as const };
  const supervisor = new FfmpegSupervisor({ binary, defaults: { stallTimeoutMs: 15_000, restartMinMs: 500, restartMaxMs: 5000 }, logger });
  cleanups.push(() => supervisor.stopAll());
  const config = { ...WEB_DEFAULTS, host: `${net}.1`, ...web };
  const pulls = new LivePulls({
    supervise: (o) => supervisor.supervise(o),
    resolve: inventorySource(db, () => undefined),
    config,
    mpeg1FfmpegPath: writeFfmpegWrapper(dir, binary),
    logger,
  });
  cleanups.push(() => pulls.close());
  const server = await startWebServer({ config, db, pulls, logger });
  cleanups.push(() => server.close());
  return { sim, db, ids, supervisor, pulls, server };
}
