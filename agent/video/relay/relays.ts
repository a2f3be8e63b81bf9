// Relays to the centre: cmd/stream-start pulls a camera stream (RTSP over TCP) with
// ffmpeg and pushes it to the centre's media server (RTSP, RTMP or SRT), as a copy or a
// transcode (profiles.ts); cmd/stream-stop or an idle timeout ends it. Every ffmpeg runs under
// the FfmpegSupervisor (injected here as `supervise`), which restarts it with backoff when the
// camera or the target goes away and reports state and stats; this class adds the leases, the
// limits (video.relay.maxRelays, the uplink budget) and the events.
//
// A relay is identified by its target: one target URL takes one stream. The same camera, stream
// and target again renews the lease (same streamId, idle timer restarted) instead of starting a
// second ffmpeg; a different camera or stream to a target in use is refused ('busy').
//
// Events (sink.event, through the outbox): stream-started (info), stream-running (info: first
// output, and output again after a retry), stream-retrying (warning: the run ended or stalled;
// once per outage, not per retry), stream-failed (alarm: the supervisor gave up), stream-stopped
// (info; reason requested | idle-timeout | agent-stopping | failed).
import { randomBytes } from 'node:crypto';
import type { Database } from 'better-sqlite3';
import { getCamera } from '../../inventory/cameras';
import type { CameraRecord, DeviceRecord } from '../../inventory/types';
import { BACKGROUND, systemClock, type Clock } from '../../../lib/clock';
import type { Credentials } from '../../../drivers/types';
import type { CameraInput, SupervisedProcess, SupervisedState, SuperviseOptions, StateChange } from '../../ffmpeg/types';
import { allowedHosts, checkTarget, redactTarget, RelayTargetError, relayArgs, scrubSecrets, type AllowedHosts } from './args';
import { checkBudget, expectedKbps, usedKbps } from './budget';
import { planRelay, RelayProfileName, SourceInfo } from './profiles';
import { normalizeCodec } from '../../../drivers/ids';
import type { EventBody } from '../../../contract';
import type { AgentConfig } from '../../config/schema';
import type { Logger } from '../../../lib/log';
import { CommandError } from '../../../contract';

export type StreamName = 'main' | 'sub';

/** Where relay events go (the Uplink satisfies it, like the health monitor's HealthSink). */
export interface RelaySink {
  event(body: EventBody, observedAt: Date): Promise<unknown>;
}

export interface RelayManagerOptions {
  /** The inventory database (the ledger). */
  db: Database;
  config: AgentConfig['video'];
  /** Login for a device's streams (stored or the site default). */
  credentialsFor(device: DeviceRecord): Credentials | undefined;
  /** What ffmpeg opens for the camera (the agent's RTSP gate: the login never goes into ffmpeg's arguments). */
  input: CameraInput;
  /** FfmpegSupervisor.supervise (a fake in unit tests). */
  supervise(options: SuperviseOptions): SupervisedProcess;
  sink?: RelaySink;
  /** Idle timers and the clock (tests drive them). */
  clock?: Clock;
  logger?: Logger;
  /** streamId generator (default "r" + 8 hex digits). */
  newId?: () => string;
}

export interface StartRequest {
  camera: string;
  stream?: StreamName;
  target: string;
  profile?: string;
  maxBitrateKbps?: number;
}

/** What a relay is, as stream-start replies and stream-list lists it. */
export interface RelaySummary {
  streamId: string;
  camera: string;
  stream: StreamName;
  /** The target without credentials or secret query parameters. */
  target: string;
  profile: RelayProfileName;
  mode: 'copy' | 'transcode';
  /** Why a copy profile transcodes. */
  reason?: string;
  expectedKbps: number;
  /** 0 = runs until stream-stop. */
  idleTimeoutSec: number;
  /** ISO time the idle timeout stops it, when there is one. */
  expiresAt?: string;
}

export interface StartResult extends RelaySummary {
  /** true: this relay was already running; its lease was renewed. */
  renewed: boolean;
}

export interface RelayInfo extends RelaySummary {
  startedAt: string;
  renewedAt: string;
  /** Supervisor state: starting | running | retrying (stopped/failed relays leave the list). */
  state: SupervisedState;
  fps: number | null;
  bitrateKbps: number | null;
  restarts: number;
  lastError?: string;
  runningSince?: string;
}

export type StopReason = 'requested' | 'idle-timeout' | 'agent-stopping' | 'failed';

export type StopRequest = { streamId: string } | { camera: string; stream?: StreamName };

interface Relay {
  streamId: string;
  camera: string;
  stream: StreamName;
  /** As given (may hold secrets): used by ffmpeg only. */
  target: string;
  shownTarget: string;
  profile: RelayProfileName;
  mode: 'copy' | 'transcode';
  reason?: string;
  expectedKbps: number;
  startedAt: number;
  renewedAt: number;
  idleTimer?: unknown;
  proc: SupervisedProcess;
  unsubscribe: () => void;
  /** An outage is being reported (stream-retrying sent, stream-running not yet again). */
  retrying: boolean;
  everRunning: boolean;
}

function defaultId(): string {
  return 'r' + randomBytes(4).toString('hex');
}

/** Strict, unlike the live view's profileOf (agent/inventory/cameras.ts): a relay of `sub` never silently
 * sends the main stream, which would cost the uplink several times the bandwidth asked for. */
function profileOf(camera: CameraRecord, stream: StreamName) {
  return camera.streams[stream];
}

function sourceInfo(camera: CameraRecord, stream: StreamName): SourceInfo {
  const p = profileOf(camera, stream);
  if (!p) return {};
  const out: SourceInfo = {};
  const codec = normalizeCodec(p.codec);
  if (codec !== undefined) out.codec = codec;
  if (p.width !== undefined) out.width = p.width;
  if (p.height !== undefined) out.height = p.height;
  if (p.fps !== undefined) out.fps = p.fps;
  if (p.bitrateKbps !== undefined) out.bitrateKbps = p.bitrateKbps;
  return out;
}

export class RelayManager {
  private readonly relays = new Map<string, Relay>(); // by target
  /** Targets whose ffmpeg is being stopped: a new start to the same target waits for it. */
  private readonly stopping = new Map<string, Promise<void>>();
  private readonly clock: Clock;
  private readonly hosts: AllowedHosts;
  private closed = false;

  /** Throws (a CamgateError naming the entry) when video.relay.allowedHosts holds a bad entry. */
  constructor(private readonly options: RelayManagerOptions) {
    this.clock = options.clock ?? systemClock;
    this.hosts = allowedHosts(options.config.relay.allowedHosts);
  }

  private get relayConfig() {
    return this.options.config.relay;
  }

  private iso(ms: number): string {
    return new Date(ms).toISOString();
  }

  /** Starts a relay or renews the lease of the same one. Throws CommandError. */
  async start(req: StartRequest): Promise<StartResult> {
    if (this.closed) throw new CommandError('not-available', 'relays are shutting down (the agent is stopping)');
    const stream: StreamName = req.stream ?? 'main';
    if (stream !== 'main' && stream !== 'sub') throw new CommandError('invalid-args', `stream must be main or sub, not ${JSON.stringify(stream)}`);
    if (typeof req.target !== 'string' || req.target === '')
      throw new CommandError('invalid-args', 'target is required (rtsp://, rtmp://, rtmps:// or srt://)');
    const target = req.target;
    let scheme;
    try {
      scheme = checkTarget(target, this.hosts).scheme;
    } catch (err) {
      if (err instanceof RelayTargetError) throw new CommandError('invalid-args', err.message);
      throw err;
    }
    const shownTarget = redactTarget(target);
    const camera = this.cameraStream(req.camera, stream);

    const pending = this.stopping.get(target);
    if (pending) await pending;
    if (this.closed) throw new CommandError('not-available', 'relays are shutting down (the agent is stopping)');

    // From here to the map insert nothing awaits: the checks and the insert are one step.
    const existing = this.relays.get(target);
    if (existing) {
      if (existing.camera !== req.camera || existing.stream !== stream) {
        throw new CommandError(
          'busy',
          `target ${shownTarget} is taken by relay ${existing.streamId} (${existing.camera}/${existing.stream}); stop it first (cmd/stream-stop) or use another target`,
        );
      }
      const wanted = req.profile ?? 'copy';
      if (wanted !== existing.profile) {
        throw new CommandError(
          'busy',
          `relay ${existing.streamId} already sends ${existing.camera}/${existing.stream} to ${shownTarget} with profile ${existing.profile}; stop it first to change the profile`,
        );
      }
      existing.renewedAt = this.clock.now();
      this.armIdle(existing);
      this.options.logger?.info({ streamId: existing.streamId, camera: existing.camera, stream }, 'relay lease renewed');
      return this.result(existing, true);
    }

    const plan = planRelay({ profile: req.profile, maxBitrateKbps: req.maxBitrateKbps, source: sourceInfo(camera, stream), scheme });
    const need = expectedKbps(plan, sourceInfo(camera, stream), stream, this.relayConfig);
    const max = this.relayConfig.maxRelays;
    if (max > 0 && this.relays.size + this.stopping.size >= max) {
      throw new CommandError(
        'busy',
        `relay refused: ${this.relays.size} relay(s) already run, the limit is ${max} (video.relay.maxRelays); stop one (cmd/stream-stop) or raise the limit`,
      );
    }
    const budget = checkBudget({ needKbps: need, relays: this.usages(), budgetKbps: this.relayConfig.budgetKbps });
    if (!budget.ok) throw new CommandError('over-budget', budget.message);

    const streamId = this.uniqueId();
    const now = this.clock.now();
    const cameraId = req.camera;
    const timeoutMs = this.options.config.connectTimeoutMs;
    let proc: SupervisedProcess;
    try {
      proc = this.supervise({
        label: `relay ${streamId} ${cameraId}/${stream} → ${shownTarget}`,
        kind: 'relay',
        progress: 'pipe',
        // Read the ledger and the login before every run: a URI or password changed by discovery
        // or the installer applies at the next restart.
        args: async () => {
          const cam = this.cameraStream(cameraId, stream);
          const uri = profileOf(cam, stream)?.streamUri as string;
          const creds = this.options.credentialsFor(cam.device);
          const inputUrl = await this.options.input({ url: uri, ...(creds ? { credentials: creds } : {}), label: `relay ${streamId} ${cameraId}/${stream}` });
          return relayArgs({ inputUrl, timeoutMs, target, video: plan.video });
        },
      });
    } catch (err) {
      throw new CommandError('not-available', `cannot start ffmpeg for the relay: ${scrubSecrets(err instanceof Error ? err.message : String(err))}`);
    }
    const relay: Relay = {
      streamId,
      camera: cameraId,
      stream,
      target,
      shownTarget,
      profile: plan.profile,
      mode: plan.mode,
      ...(plan.reason !== undefined ? { reason: plan.reason } : {}),
      expectedKbps: need,
      startedAt: now,
      renewedAt: now,
      proc,
      unsubscribe: () => undefined,
      retrying: false,
      everRunning: false,
    };
    this.relays.set(target, relay);
    relay.unsubscribe = proc.onState((change) => this.onState(relay, change));
    this.armIdle(relay);
    this.options.logger?.info(
      { streamId, camera: cameraId, stream, target: shownTarget, profile: plan.profile, mode: plan.mode, expectedKbps: need },
      'relay started',
    );
    this.emit(
      relay,
      'stream-started',
      'info',
      `relay ${streamId} started: ${cameraId}/${stream} → ${shownTarget} (${plan.mode}${plan.mode === 'transcode' ? `, profile ${plan.profile}` : ''})`,
      {
        mode: plan.mode,
        profile: plan.profile,
        ...(plan.reason !== undefined ? { reason: plan.reason } : {}),
        expectedKbps: need,
        idleTimeoutSec: this.relayConfig.idleTimeoutSec,
      },
    );
    // A state change the supervisor made before we subscribed (a fake may start synchronously).
    const stats = proc.stats();
    if (stats.state !== 'starting') this.onState(relay, { from: 'starting', to: stats.state, stats, ...(stats.lastError ? { reason: stats.lastError } : {}) });
    return this.result(relay, false);
  }

  /** Stops relays by streamId, or every relay of a camera (optionally one stream). Resolves once
   * their ffmpeg is reaped, with what was stopped; nothing matching = [] (stop is idempotent). */
  async stop(req: StopRequest, reason: StopReason = 'requested'): Promise<RelayInfo[]> {
    const chosen = [...this.relays.values()].filter((r) => {
      if ('streamId' in req) return r.streamId === req.streamId;
      return r.camera === req.camera && (req.stream === undefined || r.stream === req.stream);
    });
    return Promise.all(chosen.map((r) => this.stopRelay(r, reason)));
  }

  /** Stops every relay (agent shutdown); later starts are refused. */
  async stopAll(): Promise<RelayInfo[]> {
    this.closed = true;
    const out = await Promise.all([...this.relays.values()].map((r) => this.stopRelay(r, 'agent-stopping')));
    await Promise.all([...this.stopping.values()]);
    return out;
  }

  /** Running relays (optionally of one camera) with state and stats, oldest first. */
  list(filter: { camera?: string } = {}): RelayInfo[] {
    return [...this.relays.values()].filter((r) => filter.camera === undefined || r.camera === filter.camera).map((r) => this.info(r));
  }

  count(): number {
    return this.relays.size;
  }

  /** The budget in use now (Σ max(expected, measured)) and the configured limits. */
  usage(): { relays: number; usedKbps: number; budgetKbps: number; maxRelays: number } {
    return { relays: this.relays.size, usedKbps: usedKbps(this.usages()), budgetKbps: this.relayConfig.budgetKbps, maxRelays: this.relayConfig.maxRelays };
  }

  // --- internals ---------------------------------------------------------------------------

  private cameraStream(cameraId: string, stream: StreamName): CameraRecord {
    const camera = getCamera(this.options.db, cameraId);
    if (!camera) throw new CommandError('invalid-args', `unknown camera "${cameraId}" (camgate cameras list)`);
    const profile = profileOf(camera, stream);
    if (!profile) {
      throw new CommandError(
        'invalid-args',
        `camera "${cameraId}" has no ${stream} stream (the ledger lists ${camera.profiles.length} profile(s)${stream === 'sub' ? '; use stream main' : ''})`,
      );
    }
    if (!profile.streamUri) {
      throw new CommandError(
        'not-available',
        `camera "${cameraId}" has no stream URI for its ${stream} stream in the ledger (profile ${profile.token}); run discovery again or add the URI`,
      );
    }
    return camera;
  }

  private supervise(options: SuperviseOptions): SupervisedProcess {
    return this.options.supervise(options);
  }

  private uniqueId(): string {
    const make = this.options.newId ?? defaultId;
    for (;;) {
      const id = make();
      if (![...this.relays.values()].some((r) => r.streamId === id)) return id;
    }
  }

  private usages() {
    return [...this.relays.values()].map((r) => ({ expectedKbps: r.expectedKbps, measuredKbps: r.proc.stats().bitrateKbps }));
  }

  private armIdle(relay: Relay): void {
    if (relay.idleTimer !== undefined) this.clock.clearTimeout(relay.idleTimer);
    relay.idleTimer = undefined;
    const sec = this.relayConfig.idleTimeoutSec;
    if (sec <= 0) return;
    relay.idleTimer = this.clock.setTimeout(
      () => {
        relay.idleTimer = undefined;
        if (this.relays.get(relay.target) !== relay) return;
        this.options.logger?.info({ streamId: relay.streamId, idleTimeoutSec: sec }, 'relay lease expired');
        this.stopRelay(relay, 'idle-timeout').catch((err) =>
          this.options.logger?.error({ err, streamId: relay.streamId }, 'relay: stop after idle timeout failed'),
        );
      },
      sec * 1000,
      BACKGROUND,
    );
  }

  private expiresAt(relay: Relay): string | undefined {
    const sec = this.relayConfig.idleTimeoutSec;
    return sec > 0 ? this.iso(relay.renewedAt + sec * 1000) : undefined;
  }

  /** What stream-start replies and stream-list lists alike. */
  private summary(relay: Relay): RelaySummary {
    const expiresAt = this.expiresAt(relay);
    return {
      streamId: relay.streamId,
      camera: relay.camera,
      stream: relay.stream,
      target: relay.shownTarget,
      profile: relay.profile,
      mode: relay.mode,
      ...(relay.reason !== undefined ? { reason: relay.reason } : {}),
      expectedKbps: relay.expectedKbps,
      idleTimeoutSec: this.relayConfig.idleTimeoutSec,
      ...(expiresAt ? { expiresAt } : {}),
    };
  }

  private result(relay: Relay, renewed: boolean): StartResult {
    return { ...this.summary(relay), renewed };
  }

  private info(relay: Relay): RelayInfo {
    const s = relay.proc.stats();
    return {
      ...this.summary(relay),
      startedAt: this.iso(relay.startedAt),
      renewedAt: this.iso(relay.renewedAt),
      state: s.state,
      fps: s.fps,
      bitrateKbps: s.bitrateKbps,
      restarts: s.restarts,
      ...(s.lastError !== undefined ? { lastError: scrubSecrets(s.lastError) } : {}),
      ...(s.runningSince !== undefined ? { runningSince: s.runningSince } : {}),
    };
  }

  private stopRelay(relay: Relay, reason: StopReason): Promise<RelayInfo> {
    const info = this.info(relay);
    if (this.relays.get(relay.target) === relay) this.relays.delete(relay.target);
    if (relay.idleTimer !== undefined) this.clock.clearTimeout(relay.idleTimer);
    relay.idleTimer = undefined;
    relay.unsubscribe();
    const done = (async () => {
      try {
        await relay.proc.stop();
      } catch (err) {
        this.options.logger?.error({ err, streamId: relay.streamId }, 'relay: stopping ffmpeg failed');
      }
      const ranSec = Math.round((this.clock.now() - relay.startedAt) / 1000);
      this.options.logger?.info({ streamId: relay.streamId, reason, ranSec }, 'relay stopped');
      this.emit(relay, 'stream-stopped', 'info', `relay ${relay.streamId} stopped (${reason}): ${relay.camera}/${relay.stream} → ${relay.shownTarget}`, {
        reason,
        restarts: info.restarts,
        ranSec,
        ...(info.lastError !== undefined ? { lastError: info.lastError } : {}),
      });
    })();
    const tracked = done.finally(() => {
      if (this.stopping.get(relay.target) === tracked) this.stopping.delete(relay.target);
    });
    this.stopping.set(relay.target, tracked);
    return tracked.then(() => ({ ...info, state: relay.proc.stats().state }));
  }

  private onState(relay: Relay, change: StateChange): void {
    if (this.relays.get(relay.target) !== relay) return; // stopping: stopRelay reports
    const s = change.stats;
    if (change.to === 'running') {
      const first = !relay.everRunning;
      const after = relay.retrying;
      relay.everRunning = true;
      relay.retrying = false;
      if (first || after) {
        this.emit(
          relay,
          'stream-running',
          'info',
          `relay ${relay.streamId} ${first ? 'is sending' : 'is sending again'}: ${relay.camera}/${relay.stream} → ${relay.shownTarget}`,
          {
            restarts: s.restarts,
            again: !first,
          },
        );
      }
    } else if (change.to === 'retrying') {
      const why = scrubSecrets(change.reason ?? s.lastError ?? 'ffmpeg ended');
      if (!relay.retrying) {
        relay.retrying = true;
        this.emit(relay, 'stream-retrying', 'warning', `relay ${relay.streamId} interrupted, retrying: ${why}`, { reason: why, restarts: s.restarts });
      }
      this.options.logger?.warn({ streamId: relay.streamId, restarts: s.restarts, reason: why }, 'relay retrying');
    } else if (change.to === 'failed') {
      const why = scrubSecrets(change.reason ?? s.lastError ?? 'ffmpeg failed');
      this.emit(relay, 'stream-failed', 'alarm', `relay ${relay.streamId} failed: ${why}`, { reason: why, restarts: s.restarts });
      this.stopRelay(relay, 'failed').catch((err) => this.options.logger?.error({ err, streamId: relay.streamId }, 'relay: cleanup after failure failed'));
    } else if (change.to === 'stopped') {
      // Stopped by someone else (the supervisor's stopAll at shutdown): account for it.
      this.stopRelay(relay, 'agent-stopping').catch(() => undefined);
    }
  }

  private emit(relay: Relay, type: EventBody['type'], severity: EventBody['severity'], message: string, detail: Record<string, unknown>): void {
    const sink = this.options.sink;
    if (!sink) return;
    const body: EventBody = {
      type,
      severity,
      camera: relay.camera,
      message,
      detail: { streamId: relay.streamId, stream: relay.stream, target: relay.shownTarget, ...detail },
    };
    const fail = (err: unknown) => this.options.logger?.error({ err, streamId: relay.streamId, event: type }, 'relay: event not recorded');
    try {
      sink.event(body, new Date(this.clock.now())).catch(fail);
    } catch (err) {
      fail(err);
    }
  }
}
