// A recording MQTT client: the central's side of the contract in tests. Subscribes, keeps every
// message (parsed JSON), waits for what a test expects, and sends commands the way a central does.
import { connect, IClientOptions, IPublishPacket, MqttClient } from 'mqtt';
import type { TestContext } from './temp';

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

/**
 * Sends cmd/<name> to a site as a central does (MQTT 3.1.1-compatible: reply topic and correlation
 * id in the payload) and waits for its reply on camgate/v1/<site>/reply; the recorder must be
 * subscribed to it (camgate/v1/<site>/# does).
 */
export async function command(
  rec: Recorder,
  site: string,
  name: string,
  args: Record<string, unknown>,
  messageId: string,
  timeoutMs = 30_000,
): Promise<Record<string, unknown>> {
  await rec.client.publishAsync(`camgate/v1/${site}/cmd/${name}`, JSON.stringify({ schemaVersion: 1, messageId, args }), { qos: 1 });
  const reply = await rec.waitFor((m) => /\/reply(\/|$)/.test(m.topic) && m.json.requestId === messageId, timeoutMs, `the reply to ${name} (${messageId})`);
  return reply.json;
}
