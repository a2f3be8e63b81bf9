// Sends a past the sites replay (historical messages) through the box's broker to its central, as
// an agent's outbox replay does: QoS 1 on a connection of its own, a bounded window of publishes in
// flight, in order. The central takes them in with its own ingest and measures them as it measures
// any late backlog: nothing here writes its tables.
import { randomBytes } from 'node:crypto';
import mqtt from 'mqtt';
import type { TelemetryMessage } from '../scripts/sim/telemetry';

/** Publishes in flight at most: enough to keep the broker busy, few enough not to queue the whole history in memory twice. */
const WINDOW = 200;

export async function sendHistory(brokerUrl: string, messages: readonly TelemetryMessage[]): Promise<void> {
  if (messages.length === 0) return;
  const client = await mqtt.connectAsync(brokerUrl, {
    protocolVersion: 4,
    clean: true,
    reconnectPeriod: 0,
    clientId: `camgate-demo-history-${randomBytes(3).toString('hex')}`,
  });
  try {
    await new Promise<void>((resolve, reject) => {
      let next = 0;
      let done = 0;
      let inFlight = 0;
      let failed = false;
      const launch = () => {
        while (!failed && inFlight < WINDOW && next < messages.length) {
          const m = messages[next++];
          inFlight++;
          client.publish(m.topic, m.payload, { qos: 1, retain: m.retain }, (err) => {
            if (err) {
              failed = true;
              return reject(err);
            }
            inFlight--;
            if (++done === messages.length) return resolve();
            launch();
          });
        }
      };
      launch();
    });
  } finally {
    await client.endAsync();
  }
}

/** The message id of a history's last message: once the central has it, it has the rest (one connection delivers in order). */
export function lastMessageId(messages: readonly TelemetryMessage[]): string | undefined {
  const last = messages[messages.length - 1];
  return last ? (JSON.parse(last.payload) as { messageId: string }).messageId : undefined;
}
