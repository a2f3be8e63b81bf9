// The agent's broker connection settings, from its config (TLS files read through lib/mqtt, with
// errors that name the key).
import { CamgateError } from '../../lib/errors';
import { readPem } from '../../lib/mqtt';
import type { AgentConfig } from '../config/schema';

export interface BrokerSettings {
  urls: string[];
  protocolVersion: 4 | 5;
  clientId: string;
  username?: string;
  password?: string;
  /** PEM contents (not paths). */
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
  keepaliveSec: number;
  connectTimeoutMs: number;
  reconnectMinMs: number;
  reconnectMaxMs: number;
  /** MQTT 5: the largest packet the broker may send us (CONNECT Maximum Packet Size). */
  maximumPacketSize?: number;
}

/**
 * The Maximum Packet Size the agent announces over MQTT 5: room for a command at the cap and its
 * topic and properties, and at least 1 MiB, so a command somewhat over the cap still reaches the
 * agent and gets its too-large reply, while a huge one is dropped by the broker before it
 * crosses the site's uplink. The agent's own cap is checked either way (MQTT 3.1.1 has no such
 * field, and a broker may ignore it).
 */
export function maximumPacketSize(commandMaxBytes: number): number {
  return Math.max(1024 * 1024, commandMaxBytes + 64 * 1024);
}

/** Settings from the effective config; throws CamgateError for unreadable PEM files or half a client certificate. */
export function brokerSettings(config: AgentConfig, siteId: string): BrokerSettings {
  const b = config.broker;
  if ((b.cert && !b.key) || (!b.cert && b.key)) throw new CamgateError('broker.cert and broker.key go together (mutual TLS needs both)');
  return {
    urls: [...b.urls],
    protocolVersion: b.protocolVersion === 4 ? 4 : 5,
    clientId: b.clientId || `camgate-${siteId}`,
    username: b.username,
    password: b.password,
    ca: readPem('broker.ca', b.ca),
    cert: readPem('broker.cert', b.cert),
    key: readPem('broker.key', b.key),
    keepaliveSec: b.keepaliveSec,
    connectTimeoutMs: b.connectTimeoutMs,
    reconnectMinMs: b.reconnectMinMs,
    reconnectMaxMs: b.reconnectMaxMs,
    maximumPacketSize: maximumPacketSize(config.uplink.commandMaxBytes),
  };
}
