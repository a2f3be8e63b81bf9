// The requests waiting for their reply, keyed by correlation id: a reply settles its request, the
// request's deadline (on the injected clock) settles it as timed out, whichever comes first; a
// second reply, or one nobody waits for (its request timed out, or it was meant for an earlier
// run of this central), is dropped. Pure: no broker, no sockets.
import type { Clock, TimerHandle } from '../../lib/clock';
import type { ReplyPayload } from '../../contract';

export type Settled = { kind: 'reply'; reply: ReplyPayload } | { kind: 'timeout'; afterMs: number } | { kind: 'cancelled'; reason: string };

interface Waiting {
  site: string;
  command: string;
  timer: TimerHandle;
  resolve(outcome: Settled): void;
}

export class PendingReplies {
  private readonly waiting = new Map<string, Waiting>();

  constructor(private readonly clock: Clock) {}

  /** Requests still waiting. */
  get size(): number {
    return this.waiting.size;
  }

  /** Waits for the reply correlated by `correlationId`, at most `timeoutMs`. */
  expect(correlationId: string, site: string, command: string, timeoutMs: number): Promise<Settled> {
    if (this.waiting.has(correlationId)) throw new Error(`correlation id ${correlationId} is already waiting for a reply`);
    return new Promise<Settled>((resolve) => {
      const timer = this.clock.setTimeout(() => {
        this.waiting.delete(correlationId);
        resolve({ kind: 'timeout', afterMs: timeoutMs });
      }, timeoutMs);
      this.waiting.set(correlationId, { site, command, timer, resolve });
    });
  }

  /**
   * Hands a reply to the request it answers; false when none waits for it. A reply must come from
   * the site the request went to and name the same command: a site can publish only under its own
   * prefix, so a reply claiming another site's request is refused here.
   */
  settle(correlationId: string, reply: ReplyPayload): boolean {
    const w = this.waiting.get(correlationId);
    if (!w || w.site !== reply.site || w.command !== reply.command) return false;
    this.waiting.delete(correlationId);
    this.clock.clearTimeout(w.timer);
    w.resolve({ kind: 'reply', reply });
    return true;
  }

  /** Gives up on one request (its publish failed). */
  cancel(correlationId: string, reason: string): void {
    const w = this.waiting.get(correlationId);
    if (!w) return;
    this.waiting.delete(correlationId);
    this.clock.clearTimeout(w.timer);
    w.resolve({ kind: 'cancelled', reason });
  }

  /** Gives up on every request (the central is stopping). */
  cancelAll(reason: string): void {
    for (const id of [...this.waiting.keys()]) this.cancel(id, reason);
  }
}
