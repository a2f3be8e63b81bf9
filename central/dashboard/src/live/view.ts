// One camera's live view in the dashboard, as states a user is shown: requesting the relay,
// buffering, playing, refused by the API (its status and own message), or failed in the player.
// It holds the viewer lease from the POST until the view stops — renewed by the lease keeper, and
// ended (DELETE) whenever the video is no longer watched: stop(), a failure, or the lease found lost.
// The player is injected (player.ts makes the real one in the browser), so the whole sequence is
// tested in virtual time without a browser.
import { keepLease, type LeaseKeeper, type Timers } from './lease-keeper';

/** The POST …/live answer (the fields used here). */
export interface LiveLease {
  lease: string;
  play: Record<string, string>;
  leaseSec: number;
  viewers: number;
  server: string;
  stream: string;
}

export interface LiveApi {
  /** POST …/live; rejects with an error carrying the HTTP `status`, the API's `code` and message. */
  start(): Promise<LiveLease>;
  renew(lease: string): Promise<unknown>;
  /** DELETE …/live/:lease; keepalive when the tab is closing. */
  end(lease: string, how: { keepalive: boolean }): Promise<unknown>;
}

/** What a player can fail with, in the terms the user is told. */
export type PlayerFailure = 'network' | 'decode' | 'unsupported' | 'ended';

export type PlayerEvent = { kind: 'buffering' } | { kind: 'playing' } | { kind: 'failed'; reason: PlayerFailure; detail: string };

export interface Player {
  destroy(): void;
}

/** Starts playing the play URLs; reports through `events` until destroyed. Rejects with an error
 * carrying `reason` (a PlayerFailure) when it cannot start at all. */
export type OpenPlayer = (play: Record<string, string>, events: (event: PlayerEvent) => void) => Promise<Player>;

export type LiveState =
  | { kind: 'idle' }
  | { kind: 'requesting' }
  | { kind: 'buffering'; lease: LiveLease }
  | { kind: 'playing'; lease: LiveLease }
  | { kind: 'refused'; status: number; code: string; message: string }
  | { kind: 'failed'; reason: PlayerFailure | 'lease-lost'; detail: string };

export interface LiveViewDeps {
  api: LiveApi;
  openPlayer: OpenPlayer;
  timers: Timers;
  onState(state: LiveState): void;
  /** How long after the lease a player that has not played yet is opened again when it fails: the
   * media server has nothing to serve until the relay's first segments arrive (HLS: a few s). */
  startupGraceMs?: number;
  /** The pause before opening the player again within the grace. */
  reopenAfterMs?: number;
  /** Buffering this long after it played is the stream having ended: a live HLS playlist that
   * stops growing (the relay stopped at the site) makes a player wait, not fail. */
  stallAfterMs?: number;
}

export interface LiveView {
  /** Asks for the relay and plays it; nothing when already on. Resolves when the request is answered. */
  start(): Promise<void>;
  /** Ends the lease and destroys the player; keepalive when the tab is closing. */
  stop(how?: { keepalive: boolean }): Promise<void>;
  state(): LiveState;
}

const ACTIVE = new Set<LiveState['kind']>(['requesting', 'buffering', 'playing']);

function field(err: unknown, name: 'status' | 'code' | 'reason'): unknown {
  return typeof err === 'object' && err !== null ? (err as Record<string, unknown>)[name] : undefined;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

export function createLiveView(deps: LiveViewDeps): LiveView {
  const { api, timers } = deps;
  const grace = deps.startupGraceMs ?? 20_000;
  const reopenAfter = deps.reopenAfterMs ?? 1500;
  const stallAfter = deps.stallAfterMs ?? 15_000;
  let state: LiveState = { kind: 'idle' };
  /** Which start the running work belongs to: answers and events of an earlier one are dropped. */
  let run = 0;
  let lease: LiveLease | undefined;
  let keeper: LeaseKeeper | undefined;
  let player: Player | undefined;
  let reopenTimer: unknown;
  let stallTimer: unknown;

  const set = (next: LiveState) => {
    state = next;
    deps.onState(next);
  };

  /** Everything of the current run torn down; the lease handed back (ended by the caller or not). */
  const tearDown = (): LiveLease | undefined => {
    run++;
    keeper?.stop();
    keeper = undefined;
    timers.clearTimeout(reopenTimer);
    timers.clearTimeout(stallTimer);
    player?.destroy();
    player = undefined;
    const held = lease;
    lease = undefined;
    return held;
  };

  const endLease = async (held: LiveLease | undefined, keepalive: boolean) => {
    if (!held) return;
    // The central ends a lease nobody renews anyway: a failed DELETE only makes the relay last
    // until then, nothing to show the user about.
    await api.end(held.lease, { keepalive }).catch(() => undefined);
  };

  const fail = (reason: PlayerFailure | 'lease-lost', detail: string) => {
    const held = tearDown();
    set({ kind: 'failed', reason, detail });
    if (reason !== 'lease-lost') void endLease(held, false);
  };

  /** Which opening of the player is current: a player opened again leaves the earlier one's events behind. */
  let opening = 0;

  const openPlayer = async (mine: number, leased: LiveLease, leasedAt: number, played: { ever: boolean }) => {
    const attempt = ++opening;
    const current = () => mine === run && attempt === opening;
    const events = (event: PlayerEvent) => {
      if (!current()) return;
      if (event.kind === 'playing') {
        played.ever = true;
        timers.clearTimeout(stallTimer);
        set({ kind: 'playing', lease: leased });
      } else if (event.kind === 'buffering') {
        if (played.ever && state.kind !== 'buffering') {
          stallTimer = timers.setTimeout(() => {
            if (current()) fail('ended', `no new video for ${Math.round(stallAfter / 1000)} s`);
          }, stallAfter);
        }
        set({ kind: 'buffering', lease: leased });
      } else if (!played.ever && event.reason === 'network' && timers.now() - leasedAt < grace) {
        opening++;
        player?.destroy();
        player = undefined;
        reopenTimer = timers.setTimeout(() => void openPlayer(mine, leased, leasedAt, played), reopenAfter);
      } else fail(played.ever && event.reason === 'network' ? 'ended' : event.reason, event.detail);
    };
    try {
      const opened = await deps.openPlayer(leased.play, events);
      if (!current()) return opened.destroy();
      player = opened;
    } catch (err) {
      if (!current()) return;
      const reason = field(err, 'reason');
      fail(reason === 'network' || reason === 'decode' || reason === 'ended' ? reason : 'unsupported', messageOf(err));
    }
  };

  return {
    state: () => state,
    async start() {
      if (ACTIVE.has(state.kind)) return;
      tearDown();
      const mine = run;
      set({ kind: 'requesting' });
      let leased: LiveLease;
      try {
        leased = await api.start();
      } catch (err) {
        if (mine !== run) return;
        const status = field(err, 'status');
        const code = field(err, 'code');
        set({ kind: 'refused', status: typeof status === 'number' ? status : 0, code: typeof code === 'string' ? code : 'error', message: messageOf(err) });
        return;
      }
      // Stopped while the relay was starting: the lease is handed straight back.
      if (mine !== run) return endLease(leased, false);
      lease = leased;
      keeper = keepLease(leased.leaseSec, {
        renew: () => api.renew(leased.lease),
        timers,
        onLost: (reason) => {
          if (mine === run) fail('lease-lost', reason);
        },
      });
      set({ kind: 'buffering', lease: leased });
      await openPlayer(mine, leased, timers.now(), { ever: false });
    },
    async stop(how = { keepalive: false }) {
      const held = tearDown();
      if (state.kind !== 'idle') set({ kind: 'idle' });
      await endLease(held, how.keepalive);
    },
  };
}
