// Live view from the centre: viewers hold leases on a camera stream; the first viewer makes the
// site relay it to a media server (cmd/stream-start with the rendered push URL), later viewers
// share that relay, and the last one to leave (DELETE, or a lease not renewed for media.leaseSec)
// stops it (cmd/stream-stop). While anyone watches, the relay's lease at the agent is renewed by
// repeating its stream-start every third of the agent's idle timeout, which also starts it again
// if the agent lost it (a restart). Commands go through an injected `send`; time through the
// injected clock: every rule here is tested without a broker.
//
// State is this instance's memory: with several central instances, a camera's viewers must reach
// the same instance (docs/live-view.md).
import { randomBytes, randomUUID } from 'node:crypto';
import type { Clock, TimerHandle } from '../../lib/clock';
import type { Logger } from '../../lib/log';
import type { Actor, Audit } from '../audit/log';
import { commandOutcome, type HttpOutcome } from '../commands/outcome';
import type { Settled } from '../commands/pending';
import { chooseServer, renderServer, type MediaConfig, type MediaServer, type RenderedRelay } from './templates';

export type LiveCommand = 'stream-start' | 'stream-stop';
export type SendCommand = (site: string, name: LiveCommand, args: Record<string, unknown>) => Promise<Settled>;

export interface LiveViewsOptions {
  media: MediaConfig;
  clock: Clock;
  send: SendCommand;
  audit: Audit;
  log: Logger;
  /** A fresh stream key ({key}); default 16 random URL-safe characters. */
  newKey?: () => string;
  newLease?: () => string;
}

export interface JoinRequest {
  site: string;
  camera: string;
  /** The camera's region path (from the ledger), for choosing the media server. */
  region: string | null;
  stream?: 'main' | 'sub';
  actor: Actor | null;
}

interface Started {
  streamId: string;
  mode: unknown;
  profile: unknown;
  idleTimeoutSec: number;
}

interface Relay {
  id: string;
  site: string;
  camera: string;
  stream: 'main' | 'sub';
  server: MediaServer;
  profile: string;
  rendered: RenderedRelay;
  started?: Started;
  starting?: Promise<HttpOutcome | undefined>;
  /** Joins waiting for the start: the relay is not stopped under them. */
  joining: number;
  leases: Set<string>;
  renewTimer?: TimerHandle;
  gone: boolean;
}

interface Lease {
  id: string;
  relay: Relay;
  actor: Actor | null;
  startedAt: number;
  expiresAt: number;
  timer: TimerHandle;
}

const relayId = (site: string, camera: string, stream: string) => `${site}\u0000${camera}\u0000${stream}`;
const iso = (ms: number) => new Date(ms).toISOString();

/** Who the audit names: the viewer, or the central itself (a lease that ran out). */
function auditedActor(actor: Actor | null): { actor: string; address: string | null } {
  return actor ? { actor: actor.name, address: actor.address } : { actor: 'central', address: null };
}

export class LiveViews {
  private readonly relays = new Map<string, Relay>();
  private readonly leases = new Map<string, Lease>();
  private readonly newKey: () => string;
  private readonly newLease: () => string;

  constructor(private readonly options: LiveViewsOptions) {
    this.newKey = options.newKey ?? (() => randomBytes(12).toString('base64url'));
    this.newLease = options.newLease ?? randomUUID;
  }

  /** Viewers of a camera stream now (0 when nobody watches). */
  viewers(site: string, camera: string, stream: 'main' | 'sub'): number {
    return this.relays.get(relayId(site, camera, stream))?.leases.size ?? 0;
  }

  /** A new viewer: starts the relay or joins the running one; answers the play URLs and a lease. */
  async join(req: JoinRequest): Promise<HttpOutcome> {
    const stream = req.stream ?? this.options.media.stream;
    const id = relayId(req.site, req.camera, stream);
    let relay = this.relays.get(id);
    if (!relay) {
      const server = chooseServer(this.options.media.servers, req.site, req.region);
      if (!server) {
        return {
          status: 503,
          body: {
            error: 'no-media-server',
            message: `no media server takes site ${req.site}${req.region ? ` (region ${req.region})` : ''}: add one to media.servers (for the site, a region prefix, or a default with neither; docs/live-view.md)`,
          },
        };
      }
      relay = {
        id,
        site: req.site,
        camera: req.camera,
        stream,
        server,
        profile: server.transcode ?? this.options.media.transcode,
        rendered: renderServer(server, { site: req.site, camera: req.camera, stream, key: this.newKey() }),
        joining: 0,
        leases: new Set(),
        gone: false,
      };
      this.relays.set(id, relay);
    }
    const current = relay;
    current.joining++;
    try {
      if (!current.started) {
        current.starting ??= this.startRelay(current, req.actor).finally(() => (current.starting = undefined));
        const failed = await current.starting;
        if (failed) return failed;
      }
      return { status: 200, body: this.addLease(current, req.actor) };
    } finally {
      current.joining--;
    }
  }

  /** Extends a lease by media.leaseSec. */
  renew(site: string, camera: string, leaseId: string): HttpOutcome {
    const lease = this.leaseOf(site, camera, leaseId);
    if (!lease) return this.noLease(site, camera, leaseId);
    this.options.clock.clearTimeout(lease.timer);
    this.arm(lease);
    return { status: 200, body: { lease: lease.id, expiresAt: iso(lease.expiresAt), leaseSec: this.options.media.leaseSec, viewers: lease.relay.leases.size } };
  }

  /** The same POST again with its lease: renews it and answers as the first time. */
  rejoin(site: string, camera: string, leaseId: string): HttpOutcome {
    const renewed = this.renew(site, camera, leaseId);
    const lease = this.leases.get(leaseId);
    return renewed.status === 200 && lease ? { status: 200, body: this.describe(lease) } : renewed;
  }

  /** A viewer leaves (or its lease ran out); the last one stops the relay. */
  async leave(site: string, camera: string, leaseId: string, actor: Actor | null, reason = 'requested'): Promise<HttpOutcome> {
    const lease = this.leaseOf(site, camera, leaseId);
    if (!lease) return this.noLease(site, camera, leaseId);
    const relay = lease.relay;
    this.leases.delete(lease.id);
    relay.leases.delete(lease.id);
    this.options.clock.clearTimeout(lease.timer);
    const now = this.options.clock.now();
    const last = relay.leases.size === 0 && relay.joining === 0;
    let stop: Record<string, unknown> | undefined;
    if (last) stop = await this.stopRelay(relay);
    this.options.audit({
      at: now,
      ...auditedActor(actor),
      action: 'live-view-end',
      site,
      camera,
      outcome: 'ok',
      detail: {
        ...(last ? { command: 'stream-stop' } : {}),
        lease: lease.id,
        stream: relay.stream,
        server: relay.server.name,
        reason,
        durationSec: Math.round((now - lease.startedAt) / 1000),
        relayStopped: last,
        ...(stop ? { stop } : {}),
      },
    });
    return { status: 200, body: { lease: lease.id, viewers: relay.leases.size, relayStopped: last, ...(stop ? { stop } : {}) } };
  }

  /** Forgets every timer (the central is stopping; the agents' idle timeouts end the relays). */
  stop(): void {
    for (const lease of this.leases.values()) this.options.clock.clearTimeout(lease.timer);
    for (const relay of this.relays.values()) {
      relay.gone = true;
      if (relay.renewTimer !== undefined) this.options.clock.clearTimeout(relay.renewTimer);
    }
    this.leases.clear();
    this.relays.clear();
  }

  private leaseOf(site: string, camera: string, leaseId: string): Lease | undefined {
    const lease = this.leases.get(leaseId);
    return lease && lease.relay.site === site && lease.relay.camera === camera ? lease : undefined;
  }

  private noLease(site: string, camera: string, leaseId: string): HttpOutcome {
    return {
      status: 404,
      body: {
        error: 'not-found',
        message: `no live view lease ${leaseId} of camera ${camera} at site ${site} (it ended, ran out after media.leaseSec, or is another camera's): POST …/live again`,
      },
    };
  }

  private addLease(relay: Relay, actor: Actor | null): Record<string, unknown> {
    const now = this.options.clock.now();
    const lease: Lease = { id: this.newLease(), relay, actor, startedAt: now, expiresAt: now, timer: undefined };
    this.arm(lease);
    this.leases.set(lease.id, lease);
    relay.leases.add(lease.id);
    this.options.audit({
      at: now,
      ...auditedActor(actor),
      action: 'live-view-start',
      site: relay.site,
      camera: relay.camera,
      outcome: 'ok',
      detail: { status: 200, lease: lease.id, stream: relay.stream, server: relay.server.name, viewers: relay.leases.size, streamId: relay.started?.streamId },
    });
    return this.describe(lease);
  }

  private describe(lease: Lease): Record<string, unknown> {
    const relay = lease.relay;
    return {
      lease: lease.id,
      site: relay.site,
      camera: relay.camera,
      stream: relay.stream,
      server: relay.server.name,
      play: relay.rendered.play,
      leaseSec: this.options.media.leaseSec,
      expiresAt: iso(lease.expiresAt),
      viewers: relay.leases.size,
      relay: relay.started ?? null,
    };
  }

  private arm(lease: Lease): void {
    const ms = this.options.media.leaseSec * 1000;
    lease.expiresAt = this.options.clock.now() + ms;
    lease.timer = this.options.clock.setTimeout(
      () => {
        void this.leave(lease.relay.site, lease.relay.camera, lease.id, null, 'lease-expired').catch((err: Error) =>
          this.options.log.warn({ err: err.message }, 'live: ending an expired lease failed'),
        );
      },
      ms,
      { background: true },
    );
  }

  private startArgs(relay: Relay): Record<string, unknown> {
    return { camera: relay.camera, stream: relay.stream, target: relay.rendered.push, profile: relay.profile };
  }

  /** Sends stream-start; undefined when the relay runs, else the answer for the viewer. */
  private async startRelay(relay: Relay, actor: Actor | null): Promise<HttpOutcome | undefined> {
    const outcome = commandOutcome(
      relay.site,
      'stream-start',
      await this.options.send(relay.site, 'stream-start', this.startArgs(relay)),
      'commands.timeoutMs',
    );
    if (outcome.status !== 200) {
      if (this.relays.get(relay.id) === relay) this.relays.delete(relay.id);
      relay.gone = true;
      this.options.audit({
        at: this.options.clock.now(),
        ...auditedActor(actor),
        action: 'live-view-start',
        site: relay.site,
        camera: relay.camera,
        outcome: 'failed',
        detail: { command: 'stream-start', status: outcome.status, stream: relay.stream, server: relay.server.name, error: outcome.body.message },
      });
      return outcome;
    }
    relay.started = startedOf(outcome.body.result as Record<string, unknown>);
    this.scheduleRenewal(relay);
    return undefined;
  }

  private scheduleRenewal(relay: Relay): void {
    const idle = relay.started?.idleTimeoutSec ?? 0;
    if (idle <= 0 || relay.gone) return;
    relay.renewTimer = this.options.clock.setTimeout(() => void this.renewRelay(relay), Math.max(1, Math.floor(idle / 3)) * 1000, { background: true });
  }

  private async renewRelay(relay: Relay): Promise<void> {
    relay.renewTimer = undefined;
    if (relay.gone) return;
    const outcome = commandOutcome(
      relay.site,
      'stream-start',
      await this.options.send(relay.site, 'stream-start', this.startArgs(relay)),
      'commands.timeoutMs',
    );
    if (relay.gone) return;
    if (outcome.status === 200) relay.started = startedOf(outcome.body.result as Record<string, unknown>);
    else
      this.options.log.warn({ site: relay.site, camera: relay.camera }, `live: renewing the relay failed (tried again later): ${String(outcome.body.message)}`);
    this.scheduleRenewal(relay);
  }

  private async stopRelay(relay: Relay): Promise<Record<string, unknown>> {
    relay.gone = true;
    if (this.relays.get(relay.id) === relay) this.relays.delete(relay.id);
    if (relay.renewTimer !== undefined) this.options.clock.clearTimeout(relay.renewTimer);
    if (!relay.started) return { ok: true, sent: false };
    const outcome = commandOutcome(
      relay.site,
      'stream-stop',
      await this.options.send(relay.site, 'stream-stop', { streamId: relay.started.streamId }),
      'commands.timeoutMs',
    );
    if (outcome.status === 200) return { ok: true, streamId: relay.started.streamId };
    this.options.log.warn(
      { site: relay.site, camera: relay.camera },
      `live: stopping the relay failed (the agent's idle timeout ends it): ${String(outcome.body.message)}`,
    );
    return { ok: false, streamId: relay.started.streamId, message: outcome.body.message };
  }
}

function startedOf(result: Record<string, unknown>): Started {
  return {
    streamId: String(result.streamId),
    mode: result.mode,
    profile: result.profile,
    idleTimeoutSec: typeof result.idleTimeoutSec === 'number' ? result.idleTimeoutSec : 0,
  };
}
