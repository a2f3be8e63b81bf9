// Contract between the uplink's parts: the durable outbox (outbox.ts), the MQTT session that
// drains it (session.ts), and the producers (health, inventory, commands). Pure types.
// The wire contract itself (topics, payloads, JSON Schemas) is documented in docs/mqtt.md.

/** Which data is dropped first when the outbox is over its disk quota (lower value = kept longer). */
export enum DropClass {
  /** Transitions and alarms (camera offline/online, picture fault, command replies, audit): dropped last. */
  Transition = 0,
  /** Periodic status snapshots: the next one supersedes them. */
  PeriodicStatus = 1,
  /** Host and agent metrics: dropped first. */
  Metric = 2,
}

/** What a producer hands the outbox. The outbox assigns `seq` and stores it durably. */
export interface OutboxInput {
  /** Full MQTT topic, e.g. camgate/v1/site-1/events. */
  topic: string;
  /** The payload as a JSON object *without* `seq` (the outbox sets it) and without `historical`
   * (set at send time when the message was enqueued before the current connection). */
  payload: Record<string, unknown>;
  /** Retain flag for a live send. Historical replays are never retained (they would overwrite
   * the current retained value with an old one). */
  retain?: boolean;
  dropClass: DropClass;
}

/** A message as stored in and read back from the outbox. */
export interface OutboxMessage {
  /** Per-site sequence, strictly increasing in enqueue order, persistent across restarts. */
  seq: number;
  topic: string;
  /** Serialised JSON payload including `seq`. */
  payload: string;
  retain: boolean;
  dropClass: DropClass;
  /** When it was enqueued (ms since epoch, box clock). */
  enqueuedAt: number;
}

export interface OutboxStats {
  depth: number;
  bytes: number;
  oldestSeq: number | null;
  newestSeq: number | null;
  droppedTotal: number;
}

export interface DropReport {
  /** How many of each class were dropped, and the seq range they spanned. */
  dropped: Array<{ dropClass: DropClass; count: number; fromSeq: number; toSeq: number }>;
  reason: 'quota';
}

export interface Outbox {
  /** Durably stores the message (committed before this returns, or at the latest when the
   * returned promise resolves — see outbox.ts for the group-commit rule) and returns its seq. */
  enqueue(input: OutboxInput): Promise<number>;
  /** Up to `limit` messages with seq > afterSeq, oldest first. */
  read(afterSeq: number, limit: number): OutboxMessage[];
  /** Remove acknowledged messages (PUBACK received). Idempotent. */
  ack(seqs: readonly number[]): void;
  stats(): OutboxStats;
  /** Called when the quota forced a drop; the uplink publishes an event describing it. */
  onDrop(listener: (report: DropReport) => void): void;
  close(): Promise<void>;
}
