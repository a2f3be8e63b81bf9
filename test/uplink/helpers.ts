// Helpers for the uplink tests: a recording MQTT subscriber, an inventory with cameras, an
// outbox in a temp dir, and an Uplink wired to them with test-friendly timings.
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { openOutbox, SqliteOutbox } from '../../agent/uplink/outbox';
import { MemoryBdSeqStore, BdSeqStore } from '../../agent/uplink/bdseq';
import type { BrokerSettings } from '../../agent/uplink/connection';
import { Uplink, UplinkOptions } from '../../agent/uplink/uplink';

export interface TestContext {
  after(fn: () => unknown): void;
}

export function openTestOutbox(t: TestContext, dir: string, quotaBytes = 256 * 1024 * 1024): SqliteOutbox {
  const outbox = openOutbox({ file: join(dir, 'outbox.db'), quotaBytes, synchronous: 'NORMAL' });
  t.after(() => outbox.close().catch(() => undefined));
  return outbox;
}

export function broker(urls: string[], extra: Partial<BrokerSettings> = {}): BrokerSettings {
  return {
    urls,
    protocolVersion: 5,
    clientId: `camgate-test-${Math.random().toString(16).slice(2)}`,
    keepaliveSec: 10,
    connectTimeoutMs: 3000,
    reconnectMinMs: 100,
    reconnectMaxMs: 1000,
    ...extra,
  };
}

export const UPLINK_DEFAULTS = {
  outboxQuotaMb: 256,
  replayWindow: 32,
  replayMaxPerSec: 0,
  metricsIntervalSec: 0,
  commandTimeoutMs: 5000,
  commandMaxBytes: 65536,
  commandConcurrency: 4,
};

export function makeUplink(
  t: TestContext,
  opts: { site: string; db: Database; outbox: SqliteOutbox; broker: BrokerSettings; bdSeq?: BdSeqStore } & Partial<UplinkOptions>,
): Uplink {
  const uplink = new Uplink({
    version: '0.0.0-test',
    bdSeq: opts.bdSeq ?? new MemoryBdSeqStore(),
    uplink: UPLINK_DEFAULTS,
    ...opts,
  });
  t.after(() => uplink.stop());
  return uplink;
}

export function once<T>(emitter: { once(event: string, fn: (arg: T) => void): unknown }, event: string, timeoutMs = 10_000): Promise<T> {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`timed out waiting for ${event}`)), timeoutMs);
    emitter.once(event, (arg: T) => {
      clearTimeout(timer);
      resolve(arg);
    });
  });
}
