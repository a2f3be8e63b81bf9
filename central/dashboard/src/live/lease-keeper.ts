// Keeps a live-view lease alive while a camera plays: the central ends a lease not renewed within
// its leaseSec (docs/live-view.md), so the viewer renews it every third of that — two renewals may
// fail (a blip of the network) before it runs out. A renewal the central refuses with 404 means
// the lease is gone already (it ran out, the central restarted): told at once, not retried. Pure:
// the timers and the renewal are injected, so it is tested in virtual time without a browser.

export interface Timers {
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
  /** Milliseconds on any steady clock (Date.now, performance.now, a test's virtual clock). */
  now(): number;
}

export interface LeaseKeeperDeps {
  /** POST …/live/:lease/renew; rejects with an error carrying the HTTP `status` when refused. */
  renew(): Promise<unknown>;
  timers: Timers;
  /** The lease is lost: refused with 404, or not renewed for leaseSec. Called once, then it stops. */
  onLost(reason: string): void;
}

export interface LeaseKeeper {
  /** Stops renewing (the lease itself is ended by whoever holds it: DELETE). */
  stop(): void;
}

/** The renewal period for a lease of leaseSec: a third of it, at least a second. */
export function renewEveryMs(leaseSec: number): number {
  return Math.max(1000, Math.floor((leaseSec * 1000) / 3));
}

function statusOf(err: unknown): number | undefined {
  const status = (err as { status?: unknown } | null)?.status;
  return typeof status === 'number' ? status : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function keepLease(leaseSec: number, deps: LeaseKeeperDeps): LeaseKeeper {
  const { timers } = deps;
  const every = renewEveryMs(leaseSec);
  let renewedAt = timers.now();
  let handle: unknown;
  let stopped = false;

  const lost = (reason: string) => {
    if (stopped) return;
    stopped = true;
    deps.onLost(reason);
  };

  const tick = async () => {
    if (stopped) return;
    try {
      await deps.renew();
      renewedAt = timers.now();
    } catch (err) {
      if (stopped) return;
      if (statusOf(err) === 404) return lost(messageOf(err));
      if (timers.now() - renewedAt >= leaseSec * 1000) return lost(`the lease was not renewed for ${leaseSec} s: ${messageOf(err)}`);
    }
    if (!stopped) handle = timers.setTimeout(() => void tick(), every);
  };

  handle = timers.setTimeout(() => void tick(), every);
  return {
    stop() {
      stopped = true;
      timers.clearTimeout(handle);
    },
  };
}
