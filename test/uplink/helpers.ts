// Helpers for the uplink tests: a recording MQTT subscriber, an inventory with cameras, an
// outbox in a temp dir, and an Uplink wired to them with test-friendly timings.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Database } from 'better-sqlite3';
import { connect, IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import { openDatabase } from '../../agent/inventory/open';
import { upsertDeviceReport } from '../../agent/inventory/upsert';
import { openOutbox, SqliteOutbox } from '../../agent/uplink/outbox';
import { MemoryBdSeqStore, BdSeqStore } from '../../agent/uplink/bdseq';
import type { BrokerSettings } from '../../agent/uplink/connection';
import { Uplink, UplinkOptions } from '../../agent/uplink/uplink';
import { report, channel } from '../agent/helpers';

export interface TestContext {
  after(fn: () => unknown): void;
}

export function tempDir(t: TestContext, prefix = 'camgate-uplink-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

export interface Received {
  topic: string;
  text: string;
  json: Record<string, unknown>;
  retain: boolean;
  qos: number;
  packet: IPublishPacket;
  at: number;
}

export interface Recorder {
  client: MqttClient;
  messages: Received[];
  on(topicPrefix: string): Received[];
  waitFor(pred: (m: Received, all: Received[]) => boolean, timeoutMs?: number, what?: string): Promise<Received>;
  waitUntil(pred: (all: Received[]) => boolean, timeoutMs?: number, what?: string): Promise<void>;
  close(): Promise<void>;
}

/** Connects, subscribes to `filters` (QoS 1) and records every message. Closed by t.after. */
export async function recorder(t: TestContext, url: string, filters: string | string[], options: IClientOptions = {}): Promise<Recorder> {
  const client = connect(url, {
    reconnectPeriod: 0,
    connectTimeout: 5000,
    protocolVersion: 5,
    clientId: `rec-${Math.random().toString(16).slice(2)}`,
    ...options,
  });
  await new Promise<void>((resolve, reject) => {
    client.once('connect', () => resolve());
    client.once('error', reject);
  });
  const messages: Received[] = [];
  const waiters = new Set<() => void>();
  client.on('message', (topic, payload, packet) => {
    const text = payload.toString('utf8');
    let json: Record<string, unknown>;
    try {
      json = JSON.parse(text) as Record<string, unknown>;
    } catch {
      json = {};
    }
    messages.push({ topic, text, json, retain: packet.retain, qos: packet.qos, packet, at: Date.now() });
    for (const w of [...waiters]) w();
  });
  await client.subscribeAsync(filters, { qos: 1 });
  let closed = false;
  const close = async () => {
    if (closed) return;
    closed = true;
    await client.endAsync(true).catch(() => undefined);
  };
  t.after(close);
  const waitUntil = (pred: (all: Received[]) => boolean, timeoutMs = 10_000, what = 'condition') =>
    new Promise<void>((resolve, reject) => {
      if (pred(messages)) return resolve();
      const check = () => {
        if (pred(messages)) {
          waiters.delete(check);
          clearTimeout(timer);
          resolve();
        }
      };
      const timer = setTimeout(() => {
        waiters.delete(check);
        reject(
          new Error(
            `timed out waiting for ${what}; got ${messages.length} message(s): ${messages
              .slice(-5)
              .map((m) => `${m.topic} ${m.text.slice(0, 160)}`)
              .join(' | ')}`,
          ),
        );
      }, timeoutMs);
      waiters.add(check);
    });
  return {
    client,
    messages,
    on: (prefix) => messages.filter((m) => m.topic === prefix || m.topic.startsWith(prefix)),
    async waitFor(pred, timeoutMs = 10_000, what = 'message') {
      let found: Received | undefined;
      await waitUntil((all) => (found = all.find((m) => pred(m, all))) !== undefined, timeoutMs, what);
      return found as Received;
    },
    waitUntil,
    close,
  };
}

/** An inventory with `n` single-channel ONVIF cameras (127.0.0.x addresses, never contacted). */
export function inventoryWith(dir: string, n: number): Database {
  const db = openDatabase(join(dir, 'inv'));
  const now = new Date('2025-01-02T03:04:05.000Z');
  for (let i = 0; i < n; i++) {
    const host = `127.0.9.${i + 10}`;
    upsertDeviceReport(
      db,
      report({
        host,
        endpointUuid: `urn:uuid:00000000-0000-4000-8000-${String(i).padStart(12, '0')}`,
        identity: { manufacturer: 'Acme', model: 'IPC', firmware: '1.00', serial: `SN${i}`, mac: `44:19:b6:00:01:${(i + 16).toString(16)}` },
        channels: [channel(1, host)],
      }),
      { now },
    );
  }
  return db;
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

export const UPLINK_DEFAULTS = { outboxQuotaMb: 256, replayWindow: 32, replayMaxPerSec: 0, metricsIntervalSec: 0, commandTimeoutMs: 5000 };

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

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
