// PUBACKs held until what they acknowledge is safe: a QoS 1 message is acknowledged to the broker
// only once the batch holding it has committed (or it was refused, or handed elsewhere), so a
// central that dies with messages in hand gets them again from its session. Pure: the sending is
// injected.
//
// Acknowledgements go out in the order the messages came (MQTT asks a receiver to send PUBACKs
// in that order): a settled message waits behind an earlier one still being written. An
// acknowledgement belongs to the connection its message came on: after a reconnect the broker
// sends every unacknowledged message again (same packet id, possibly reused later for another
// message), so a late acknowledgement of the old connection could confirm a message not yet
// written; it is dropped instead, and the copy sent again is written as a duplicate (counted once).

/** The acknowledgement one message is owed. */
export interface Ack {
  readonly connection: number;
  readonly messageId: number;
}

export class HeldAcks {
  private connection = 0;
  private open = false;
  /** This connection's unacknowledged messages in arrival order: true once settled. */
  private readonly pending = new Map<number, boolean>();

  /** @param send writes the PUBACK of this packet id on the current connection. */
  constructor(private readonly send: (messageId: number) => void) {}

  /** A new connection: what the last one owed is void (the broker sends those messages again). */
  connected(): void {
    this.connection++;
    this.open = true;
    this.pending.clear();
  }

  closed(): void {
    this.open = false;
    this.pending.clear();
  }

  /** Messages received on this connection and not yet acknowledged. */
  get held(): number {
    return this.pending.size;
  }

  /** Holds the acknowledgement of a message just received. */
  hold(messageId: number): Ack {
    this.pending.set(messageId, false);
    return { connection: this.connection, messageId };
  }

  /** The message is safe (committed, counted as refused or failed, or handed elsewhere): acknowledge it in turn. */
  settle(ack: Ack | undefined): void {
    if (!ack || ack.connection !== this.connection || !this.open || !this.pending.has(ack.messageId)) return;
    this.pending.set(ack.messageId, true);
    for (const [id, settled] of this.pending) {
      if (!settled) break;
      this.pending.delete(id);
      this.send(id);
    }
  }
}
