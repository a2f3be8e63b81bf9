// Health monitoring of every camera in the inventory: schedules the probes (scheduler.ts), feeds
// their results to each camera's state machine (state.ts), publishes statuses and events through
// the sink (the uplink), persists the last status and thumbnail (store.ts).
//
// Per device (an NVR's channels share it): TCP reachability + ONVIF clock every reachIntervalSec.
// Per camera: DESCRIBE of main and sub stream every streamIntervalSec, a picture every
// pictureIntervalSec. First runs right after start (bounded by the pools), later runs keep an
// even phase per camera so the box never sees the whole site at once. A change under way is
// confirmed after confirmDelayMs instead of a whole interval; a picture fault not yet confirmed
// after health.picture.confirmSeconds.
//
// Picture references (store.ts, reference-rule.ts): each probe is judged against the camera's
// stored reference; a camera without one takes it from its first probe without a fault, and a
// renewal asked for (command or CLI) takes the next probe's picture, run soon.
import type { Database } from 'better-sqlite3';
import type { Credentials } from '../../drivers/types';
import type { CameraRecord, DeviceRecord } from '../inventory/types';
import { listCameras, recordDeviceSeen } from '../inventory/cameras';
import { CameraHealth, HealthOutput, HealthRules, type ReferenceInfo } from './state';
import { isCancelled, Scheduler } from './scheduler';
import { BACKGROUND, systemClock, type Clock } from '../../lib/clock';
import { HealthStore, type ReferenceRecord } from './store';
import { referenceFromProbe } from './reference-rule';
import type { ClockResult, PictureFault, PictureReference, PictureResult, ProbeError, ReachResult, ReferenceMeasures, StreamCheck } from './types';
import type { CameraStatus, EventBody, MetricsSample } from '../../contract';
import type { AgentConfig } from '../config/schema';
import type { Logger } from '../../lib/log';

export type HealthConfig = AgentConfig['health'];

export interface PictureRequest {
  camera: string;
  /** rtsp:// URL without credentials (credentials are passed separately). */
  streamUrl?: string;
  snapshotUrl?: string;
  credentials?: Credentials;
  /** The camera's picture reference, judged against. */
  reference?: ReferenceMeasures;
  /** This probe's picture becomes the reference (a renewal). */
  takeReference?: boolean;
  signal: AbortSignal;
}

/** A camera's picture reference as the commands show it. */
export interface ReferenceView {
  reference: PictureReference | null;
  thumbnail: Buffer | null;
  /** When a renewal was asked for that no probe has answered yet, else null. */
  renewRequestedAt: string | null;
}

/** The I/O the monitor needs; probes/index.ts builds the real set. */
export interface HealthProbes {
  reach(target: { host: string; port: number }, opts: { timeoutMs: number; signal: AbortSignal }): Promise<ReachResult>;
  clock(deviceUrl: string, opts: { timeoutMs: number; signal: AbortSignal }): Promise<ClockResult>;
  stream(args: { url: string; stream: 'main' | 'sub'; credentials?: Credentials; timeoutMs: number; signal: AbortSignal }): Promise<StreamCheck>;
  picture(args: PictureRequest): Promise<PictureResult>;
}

/** Where statuses and events go (the Uplink satisfies it). */
export interface HealthSink {
  event(body: EventBody, observedAt: Date): Promise<unknown>;
  status(status: CameraStatus, opts: { periodic?: boolean; observedAt?: Date }): Promise<unknown>;
}

export interface HealthMonitorOptions {
  db: Database;
  config: HealthConfig;
  probes: HealthProbes;
  sink: HealthSink;
  /** Login for a device's streams and snapshots (stored or the site default). */
  credentialsFor?: (device: DeviceRecord) => Credentials | undefined;
  /** Set a device's clock (health.clock.autoSync); absent = no sync. */
  syncClock?: (device: DeviceRecord, signal: AbortSignal) => Promise<void>;
  /** Probe latency sink (agent metrics). */
  recordLatency?: (kind: string, ms: number) => void;
  logger?: Logger;
  clock?: Clock;
}

interface CameraEntry {
  record: CameraRecord;
  health: CameraHealth;
  /** Phase within each interval, 0..1, from the camera's position: spreads the load evenly. */
  phase: number;
}

interface DeviceEntry {
  record: DeviceRecord;
  cameras: string[];
  phase: number;
  lastSavedAt: number;
  lastSavedOffset: number | null;
  lastSyncAt: number;
}

/** Cameras per state and per picture fault: the health part of the metrics payload. */
export type HealthCounts = Omit<NonNullable<MetricsSample['health']>, 'probes' | 'inFlight'>;

/** Inventory last_seen is written at most this often per device (it is also in every status). */
const SEEN_WRITE_EVERY_MS = 5 * 60_000;
/** An automatic clock sync is attempted at most this often per device. */
const CLOCK_SYNC_EVERY_MS = 60 * 60_000;

export class HealthMonitor {
  private readonly clock: Clock;
  private readonly scheduler: Scheduler;
  private readonly store: HealthStore;
  private readonly cameras = new Map<string, CameraEntry>();
  private readonly devices = new Map<string, DeviceEntry>();
  private readonly restored: Map<string, CameraStatus>;
  private readonly rules: HealthRules;
  private periodicTimer: unknown;
  private refreshTimer: unknown;
  private started = false;
  private stopped = false;
  private picturesRunning = 0;
  /** Renewals asked for outside this process (the CLI) whose probe is already scheduled, by camera. */
  private readonly renewalsScheduled = new Map<string, string>();

  constructor(private readonly options: HealthMonitorOptions) {
    this.clock = options.clock ?? systemClock;
    const c = options.config;
    this.rules = {
      offlineAfterFailures: c.offlineAfterFailures,
      onlineAfterSuccesses: c.onlineAfterSuccesses,
      flapTransitions: c.flapTransitions,
      flapWindowMs: c.flapWindowSec * 1000,
      maxDriftMs: c.clock.maxDriftMs,
      confirmProbes: c.picture.confirmProbes,
    };
    const probeGuard = c.connectTimeoutMs + c.requestTimeoutMs + 1000;
    this.scheduler = new Scheduler({
      clock: this.clock,
      limits: { reach: c.concurrency, stream: c.concurrency, picture: c.picture.concurrency },
      // Streams: two DESCRIBEs; pictures: the probe's own timeout plus ffmpeg's exit.
      guardMs: { reach: probeGuard, stream: 2 * c.requestTimeoutMs + 1000, picture: c.picture.timeoutMs + 2000 },
      onError: (key, err) => options.logger?.error({ err, job: key }, 'health: a probe job failed'),
    });
    this.store = new HealthStore(options.db);
    this.restored = this.store.statuses();
  }

  /** Loads the inventory and starts probing. */
  start(): void {
    if (this.started) return;
    this.started = true;
    this.refresh();
    const c = this.options.config;
    // The ledger watch (agent.ts) calls refresh() within seconds of a change made with
    // `camgate cameras ...` while the agent runs; this loop is the fallback.
    const refreshEvery = Math.min(c.reachIntervalSec, 60) * 1000;
    const refreshLoop = () => {
      this.refreshTimer = this.clock.setTimeout(
        () => {
          if (this.stopped) return;
          try {
            this.refresh();
          } catch (err) {
            this.options.logger?.warn({ err }, 'health: could not re-read the inventory');
          }
          refreshLoop();
        },
        refreshEvery,
        BACKGROUND,
      );
    };
    refreshLoop();
    if (c.statusIntervalSec > 0) {
      const periodic = () => {
        this.periodicTimer = this.clock.setTimeout(
          () => {
            if (this.stopped) return;
            void this.publishAll(true);
            periodic();
          },
          c.statusIntervalSec * 1000,
          BACKGROUND,
        );
      };
      periodic();
    }
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.scheduler.stop();
    if (this.periodicTimer !== undefined) this.clock.clearTimeout(this.periodicTimer);
    if (this.refreshTimer !== undefined) this.clock.clearTimeout(this.refreshTimer);
    try {
      this.store.saveStatuses(this.statuses(), new Date(this.clock.now()));
    } catch (err) {
      this.options.logger?.warn({ err }, 'health: last statuses not saved');
    }
  }

  /** Current status of every camera (inventory order). */
  statuses(): CameraStatus[] {
    return [...this.cameras.values()].map((e) => e.health.status());
  }

  status(cameraId: string): CameraStatus | undefined {
    return this.cameras.get(cameraId)?.health.status();
  }

  thumbnail(cameraId: string) {
    return this.store.thumbnail(cameraId);
  }

  counts(): HealthCounts {
    const out: HealthCounts = { cameras: 0, online: 0, offline: 0, degraded: 0, unknown: 0, flapping: 0, pictureFaults: {} };
    for (const e of this.cameras.values()) {
      const s = e.health.status();
      out.cameras++;
      out[s.state]++;
      if (s.flapping) out.flapping++;
      for (const f of s.picture?.faults ?? []) out.pictureFaults[f] = (out.pictureFaults[f] ?? 0) + 1;
    }
    return out;
  }

  /** Probe jobs running now per kind, and ffmpeg processes (picture probes) among them. */
  load(): { inFlight: Record<string, number>; ffmpegProcesses: number } {
    return { inFlight: this.scheduler.inFlight(), ffmpegProcesses: this.picturesRunning };
  }

  /**
   * Checks the given cameras now (all when omitted): reachability + clock of their devices and,
   * with `streams`, DESCRIBE of their streams; resolves when done. Used by the probe-now
   * command and the sweep benchmark. Results go through the state machines like scheduled ones.
   * Sweeps at the same time share their checks. When `signal` aborts (the caller stopped
   * waiting) this resolves at once with what is known, and checks that run only for sweeps that
   * gave up are withdrawn: not started, or cut short without their result counting.
   */
  async sweepNow(cameraIds?: readonly string[], opts: { streams?: boolean; picture?: boolean; signal?: AbortSignal } = {}): Promise<CameraStatus[]> {
    if (!this.started) this.refresh();
    const ids = cameraIds ?? [...this.cameras.keys()];
    const { signal } = opts;
    const devices = new Set<string>();
    const now = this.clock.now();
    for (const id of ids) {
      const e = this.cameras.get(id);
      if (!e) continue;
      devices.add(e.record.deviceId);
    }
    const statuses = () => ids.map((id) => this.cameras.get(id)?.health.status()).filter((s): s is CameraStatus => s !== undefined);
    const request = (key: string, kind: string, run: (signal: AbortSignal) => Promise<void>) => this.scheduler.request(key, kind, now, run, signal);
    await Promise.all([...devices].map((d) => request(`reach:${d}`, 'reach', (s) => this.runReach(d, s))));
    if (signal?.aborted) return statuses();
    const later: Promise<void>[] = [];
    for (const id of ids) {
      if (!this.cameras.has(id)) continue;
      if (opts.streams) later.push(request(`stream:${id}`, 'stream', (s) => this.runStreams(id, s, { force: true })));
      if (opts.picture) later.push(request(`picture:${id}`, 'picture', (s) => this.runPicture(id, s, { force: true })));
    }
    await Promise.all(later);
    return statuses();
  }

  // --- inventory -----------------------------------------------------------------------------

  /** Syncs the camera and device maps with the inventory; schedules first runs for new ones. */
  refresh(): void {
    const records = listCameras(this.options.db);
    const seen = new Set<string>();
    const deviceCameras = new Map<string, string[]>();
    records.forEach((record, index) => {
      seen.add(record.id);
      const phase = records.length > 1 ? index / records.length : 0;
      const entry = this.cameras.get(record.id);
      if (entry) {
        entry.record = record;
        entry.phase = phase;
      } else {
        const restored = this.restored.get(record.id) ?? null;
        const health = new CameraHealth(
          record.id,
          this.rules,
          restored,
          { lastSeen: record.device.lastSeen, clockOffsetMs: record.device.clockOffsetMs },
          referenceInfo(this.readReference(record.id).reference),
        );
        this.cameras.set(record.id, { record, health, phase });
        if (this.started) this.scheduleFirst(record.id);
      }
      deviceCameras.set(record.deviceId, [...(deviceCameras.get(record.deviceId) ?? []), record.id]);
    });
    for (const id of [...this.cameras.keys()]) {
      if (seen.has(id)) continue;
      this.cameras.delete(id);
      this.scheduler.cancel(`stream:${id}`);
      this.scheduler.cancel(`picture:${id}`);
    }
    let index = 0;
    for (const [deviceId, cameraIds] of deviceCameras) {
      const record = this.cameras.get(cameraIds[0])!.record.device;
      const phase = deviceCameras.size > 1 ? index++ / deviceCameras.size : 0;
      const entry = this.devices.get(deviceId);
      if (entry) {
        Object.assign(entry, { record, cameras: cameraIds, phase });
      } else {
        this.devices.set(deviceId, { record, cameras: cameraIds, phase, lastSavedAt: 0, lastSavedOffset: null, lastSyncAt: 0 });
        if (this.started) this.scheduler.schedule(`reach:${deviceId}`, 'reach', this.clock.now(), (s) => this.runReach(deviceId, s));
      }
    }
    for (const id of [...this.devices.keys()]) {
      if (deviceCameras.has(id)) continue;
      this.devices.delete(id);
      this.scheduler.cancel(`reach:${id}`);
    }
    if (this.started) this.scheduleRenewals();
  }

  /** A renewal asked for from another process (the CLI): its probe runs soon, once per request. */
  private scheduleRenewals(): void {
    const c = this.options.config;
    const asked = new Map<string, string>();
    for (const camera of this.store.renewalsRequested()) asked.set(camera, this.store.reference(camera).renewRequestedAt ?? '');
    for (const camera of [...this.renewalsScheduled.keys()]) if (!asked.has(camera)) this.renewalsScheduled.delete(camera);
    for (const [camera, requestedAt] of asked) {
      if (!this.cameras.has(camera) || this.renewalsScheduled.get(camera) === requestedAt || c.pictureIntervalSec <= 0) continue;
      this.renewalsScheduled.set(camera, requestedAt);
      this.scheduler.schedule(`picture:${camera}`, 'picture', this.clock.now() + c.confirmDelayMs, (s) => this.runPicture(camera, s));
    }
  }

  private scheduleFirst(cameraId: string): void {
    const c = this.options.config;
    const now = this.clock.now();
    // Streams and pictures wait for the first reachability result of their device.
    if (c.streamIntervalSec > 0)
      this.scheduler.schedule(`stream:${cameraId}`, 'stream', now + c.confirmDelayMs + c.connectTimeoutMs, (s) => this.runStreams(cameraId, s));
    if (c.pictureIntervalSec > 0)
      this.scheduler.schedule(`picture:${cameraId}`, 'picture', now + c.connectTimeoutMs + c.requestTimeoutMs, (s) => this.runPicture(cameraId, s));
  }

  /** Next regular run: on the entry's phase within the interval, strictly after now. */
  private nextOnPhase(intervalMs: number, phase: number): number {
    const now = this.clock.now();
    const offset = Math.floor(phase * intervalMs);
    const base = Math.floor((now - offset) / intervalMs) * intervalMs + offset;
    let next = base + intervalMs;
    // Too close (would run twice within a few seconds of the last run): skip one slot.
    if (next - now < intervalMs / 4) next += intervalMs;
    return next;
  }

  // --- jobs ----------------------------------------------------------------------------------

  private async runReach(deviceId: string, signal: AbortSignal): Promise<void> {
    const device = this.devices.get(deviceId);
    if (!device || this.stopped) return;
    const c = this.options.config;
    const { record } = device;
    const started = this.clock.now();
    const reach = await this.options.probes.reach({ host: record.host, port: record.port }, { timeoutMs: c.connectTimeoutMs, signal });
    if (reach.ok && reach.latencyMs !== null) this.options.recordLatency?.('reach', reach.latencyMs);
    let clock: ClockResult | null = null;
    if (reach.ok && record.driver === 'onvif' && !signal.aborted) {
      clock = await this.options.probes.clock(record.url, { timeoutMs: c.requestTimeoutMs, signal });
      if (clock.ok && clock.latencyMs !== null) this.options.recordLatency?.('clock', clock.latencyMs);
    }
    if (this.stopped || !this.devices.has(deviceId)) return;
    if (isCancelled(signal)) {
      // Cut because the sweep that asked for it gave up: no verdict on the device, next regular check as planned.
      this.scheduler.schedule(`reach:${deviceId}`, 'reach', this.nextOnPhase(c.reachIntervalSec * 1000, device.phase), (s) => this.runReach(deviceId, s));
      return;
    }
    const at = this.clock.now();
    let pending = false;
    let drifting = false;
    for (const id of device.cameras) {
      const entry = this.cameras.get(id);
      if (!entry) continue;
      const wasReachable = entry.health.reachable;
      this.publish(entry, entry.health.onReach(reach, clock, at), at);
      pending ||= entry.health.pending().reach;
      drifting ||= entry.health.clockDrifting;
      // Back online: check streams and picture soon instead of waiting for their next slot.
      if (wasReachable === false && entry.health.reachable === true) {
        this.scheduler.schedule(`stream:${id}`, 'stream', at + c.confirmDelayMs, (s) => this.runStreams(id, s));
        this.scheduler.schedule(`picture:${id}`, 'picture', at + c.confirmDelayMs, (s) => this.runPicture(id, s));
      }
    }
    if (reach.ok) this.rememberSeen(device, at, clock?.ok ? clock.offsetMs : null);
    // Only a device that just told its time is set: one that does not answer now cannot be.
    const answered = clock?.ok === true;
    if (drifting && answered && c.clock.autoSync && this.options.syncClock && record.driver === 'onvif' && at - device.lastSyncAt > CLOCK_SYNC_EVERY_MS) {
      device.lastSyncAt = at;
      void this.syncClock(device, clock?.offsetMs ?? null);
    }
    const next = pending ? at + c.confirmDelayMs : this.nextOnPhase(c.reachIntervalSec * 1000, device.phase);
    this.scheduler.schedule(`reach:${deviceId}`, 'reach', Math.max(next, started + 1), (s) => this.runReach(deviceId, s));
  }

  private async runStreams(cameraId: string, signal: AbortSignal, opts: { force?: boolean } = {}): Promise<void> {
    const entry = this.cameras.get(cameraId);
    if (!entry || this.stopped) return;
    const c = this.options.config;
    const reschedule = (at: number, pending: boolean) => {
      // A forced run (sweepNow, the probe-now command) took the place of the waiting regular run
      // (same key): a running monitor puts the regular run back, or the camera's checks stop for good.
      if ((opts.force && !this.started) || c.streamIntervalSec <= 0) return;
      const next = pending ? at + c.confirmDelayMs : this.nextOnPhase(c.streamIntervalSec * 1000, entry.phase);
      this.scheduler.schedule(`stream:${cameraId}`, 'stream', next, (s) => this.runStreams(cameraId, s));
    };
    // An offline camera's streams cannot answer: its reachability alarm says enough.
    if (entry.health.reachable !== true) return reschedule(this.clock.now(), false);
    const targets = streamTargets(entry.record);
    if (targets.length === 0) return reschedule(this.clock.now(), false);
    const credentials = this.options.credentialsFor?.(entry.record.device);
    const checks = await Promise.all(
      targets.map((t) =>
        this.options.probes.stream({ url: t.url, stream: t.stream, ...(credentials ? { credentials } : {}), timeoutMs: c.requestTimeoutMs, signal }),
      ),
    );
    if (this.stopped || !this.cameras.has(cameraId)) return;
    if (isCancelled(signal)) return reschedule(this.clock.now(), false);
    for (const check of checks) if (check.ok && check.latencyMs !== null) this.options.recordLatency?.('describe', check.latencyMs);
    this.noteBasicRefusal(
      entry,
      checks.map((c) => c.error),
    );
    const at = this.clock.now();
    this.publish(entry, entry.health.onStreams(checks, at), at);
    reschedule(at, entry.health.pending().streams);
  }

  private async runPicture(cameraId: string, signal: AbortSignal, opts: { force?: boolean } = {}): Promise<void> {
    const entry = this.cameras.get(cameraId);
    if (!entry || this.stopped) return;
    const c = this.options.config;
    const reschedule = () => {
      if ((opts.force && !this.started) || c.pictureIntervalSec <= 0) return;
      const regular = this.nextOnPhase(c.pictureIntervalSec * 1000, entry.phase);
      // A fault seen but not confirmed yet: the confirming probe comes sooner.
      const next = entry.health.pending().picture ? Math.min(this.clock.now() + c.picture.confirmSeconds * 1000, regular) : regular;
      this.scheduler.schedule(`picture:${cameraId}`, 'picture', next, (s) => this.runPicture(cameraId, s));
    };
    if (entry.health.reachable !== true) return reschedule();
    const source = pictureSource(entry.record, c.picture.source);
    if (!source.streamUrl && !source.snapshotUrl) {
      const at = this.clock.now();
      const result: PictureResult = {
        ok: false,
        source: null,
        diagnosis: null,
        frames: 0,
        latencyMs: null,
        error: {
          code: 'not-available',
          message: `${cameraId}: no ${c.picture.source === 'auto' ? 'stream or snapshot' : c.picture.source} URI known; run camgate discover or set one`,
        },
      };
      this.publish(entry, entry.health.onPicture(result, at), at);
      return reschedule();
    }
    const credentials = this.options.credentialsFor?.(entry.record.device);
    const stored = this.readReference(cameraId);
    const renewRequested = stored.renewRequestedAt !== null;
    this.picturesRunning++;
    let result: PictureResult;
    try {
      result = await this.options.probes.picture({
        camera: cameraId,
        ...source,
        ...(credentials ? { credentials } : {}),
        ...(stored.reference ? { reference: stored.reference.measures } : {}),
        ...(renewRequested ? { takeReference: true } : {}),
        signal,
      });
    } catch (err) {
      // The probe rejects only when its run was cut (agent stopping, the scheduler's guard, or the
      // sweep that asked for it gave up).
      if (this.stopped) return;
      if (isCancelled(signal)) return reschedule();
      const message = err instanceof Error ? err.message : String(err);
      result = {
        ok: false,
        source: null,
        diagnosis: null,
        frames: 0,
        latencyMs: null,
        error: { code: 'timeout', message: `${cameraId}: picture probe cut off (${message})` },
      };
    } finally {
      this.picturesRunning--;
    }
    if (result.latencyMs !== null && result.ok) this.options.recordLatency?.('picture', result.latencyMs);
    if (result.diagnosisCpuMs !== undefined) this.options.recordLatency?.('diagnosisCpu', result.diagnosisCpuMs);
    if (this.stopped || !this.cameras.has(cameraId)) return;
    if (isCancelled(signal)) return reschedule();
    const at = this.clock.now();
    if (result.error?.code === 'ffmpeg-missing') this.warnOnce('ffmpeg-missing', result.error.message);
    this.noteBasicRefusal(entry, [result.error]);
    if (result.thumbnail) {
      try {
        this.store.saveThumbnail(cameraId, result.thumbnail, new Date(at));
      } catch (err) {
        this.options.logger?.warn({ err, camera: cameraId }, 'health: thumbnail not saved');
      }
    }
    let reference = stored.reference;
    const taken = referenceFromProbe(result, at, { hasReference: reference !== null, renewRequested });
    if (taken) {
      try {
        this.store.saveReference(cameraId, taken, result.thumbnail ?? null, stored.renewRequestedAt);
        reference = taken;
        this.options.logger?.info({ camera: cameraId, origin: taken.origin }, `health: ${cameraId}: picture reference taken (${taken.origin})`);
      } catch (err) {
        this.options.logger?.warn({ err, camera: cameraId }, 'health: picture reference not saved; taken again at the next probe');
      }
    }
    this.publish(entry, entry.health.onPicture(result, at, referenceInfo(reference)), at);
    reschedule();
  }

  /** The camera's stored reference; one that cannot be used is dropped, with one log line saying why. */
  private readReference(cameraId: string): ReferenceRecord {
    const record = this.store.reference(cameraId);
    if (record.refused === undefined) return record;
    this.options.logger?.warn(
      { camera: cameraId, problem: 'picture-reference-refused' },
      `health: ${cameraId}: stored picture reference dropped (${record.refused}); a new one is taken from the next good probe`,
    );
    this.store.dropRefusedReference(cameraId);
    return { reference: null, thumbnail: null, renewRequestedAt: record.renewRequestedAt };
  }

  // --- picture references (the picture-reference command) -------------------------------------

  referenceOf(cameraId: string): ReferenceView {
    const { reference, thumbnail, renewRequestedAt } = this.readReference(cameraId);
    return { reference, thumbnail, renewRequestedAt };
  }

  /**
   * Asks for the camera's next picture to become its reference and runs that probe now; resolves
   * after it (or when `signal` aborts: the renewal then waits for the next probe with a picture).
   */
  async renewReference(cameraId: string, signal?: AbortSignal): Promise<ReferenceView & { renewed: boolean }> {
    const requestedAt = new Date(this.clock.now());
    this.store.requestRenewal(cameraId, requestedAt);
    // Its probe runs here: the inventory re-read does not schedule another one for it.
    this.renewalsScheduled.set(cameraId, requestedAt.toISOString());
    await this.sweepNow([cameraId], { picture: true, ...(signal ? { signal } : {}) });
    const view = this.referenceOf(cameraId);
    return { ...view, renewed: view.renewRequestedAt === null && view.reference?.origin === 'command' };
  }

  /** Forgets the camera's reference (and a renewal asked for); false when it had neither. */
  clearReference(cameraId: string): boolean {
    const cleared = this.store.clearReference(cameraId);
    this.renewalsScheduled.delete(cameraId);
    const entry = this.cameras.get(cameraId);
    if (entry) {
      const at = this.clock.now();
      this.publish(entry, entry.health.onReference(null, at), at);
    }
    return cleared;
  }

  private async syncClock(device: DeviceEntry, offsetMs: number | null): Promise<void> {
    const controller = new AbortController();
    const timer = this.clock.setTimeout(() => controller.abort(), this.options.config.requestTimeoutMs * 3, BACKGROUND);
    const camera = device.cameras[0];
    try {
      await this.options.syncClock!(device.record, controller.signal);
      await this.options.sink.event(
        {
          type: 'clock-synced',
          severity: 'info',
          camera,
          message: `${device.record.host}: clock set from the box (it was ${offsetMs === null ? 'off' : `${Math.round(offsetMs / 1000)} s off`})`,
          detail: { device: device.record.id, offsetMs, ok: true },
        },
        new Date(this.clock.now()),
      );
    } catch (err) {
      const message = err instanceof Error ? err.message : String(err);
      this.options.logger?.warn({ device: device.record.id, err: message }, 'health: automatic clock sync failed');
      await this.options.sink
        .event(
          {
            type: 'clock-synced',
            severity: 'warning',
            camera,
            message: `${device.record.host}: automatic clock sync failed: ${message}`,
            detail: { device: device.record.id, offsetMs, ok: false, error: message },
          },
          new Date(this.clock.now()),
        )
        .catch(() => undefined);
    } finally {
      this.clock.clearTimeout(timer);
    }
  }

  // --- output --------------------------------------------------------------------------------

  private publish(entry: CameraEntry, out: HealthOutput, at: number): void {
    if (!out.changed && out.events.length === 0) return;
    const observedAt = new Date(at);
    for (const body of out.events) {
      this.options.sink
        .event(body, observedAt)
        .catch((err) => this.options.logger?.error({ err, camera: entry.record.id, event: body.type }, 'health: event not recorded'));
    }
    const status = entry.health.status();
    this.options.sink
      .status(status, { observedAt })
      .catch((err) => this.options.logger?.error({ err, camera: entry.record.id }, 'health: status not recorded'));
    try {
      this.store.saveStatuses([status], observedAt);
    } catch (err) {
      this.options.logger?.warn({ err, camera: entry.record.id }, 'health: status not saved');
    }
  }

  /** Every camera's status as a periodic (droppable) status; also saved. */
  async publishAll(periodic: boolean): Promise<void> {
    const observedAt = new Date(this.clock.now());
    const statuses = this.statuses();
    try {
      this.store.saveStatuses(statuses, observedAt);
    } catch (err) {
      this.options.logger?.warn({ err }, 'health: statuses not saved');
    }
    await Promise.all(
      statuses.map((s) =>
        this.options.sink
          .status(s, { periodic, observedAt })
          .catch((err) => this.options.logger?.warn({ err, camera: s.camera }, 'health: periodic status not recorded')),
      ),
    );
  }

  private rememberSeen(device: DeviceEntry, at: number, offsetMs: number | null): void {
    const offsetMoved = offsetMs !== null && (device.lastSavedOffset === null || Math.abs(offsetMs - device.lastSavedOffset) > 1000);
    if (at - device.lastSavedAt < SEEN_WRITE_EVERY_MS && !offsetMoved) return;
    try {
      recordDeviceSeen(this.options.db, device.record.id, { at: new Date(at), ...(offsetMs !== null ? { clockOffsetMs: offsetMs } : {}) });
      device.lastSavedAt = at;
      if (offsetMs !== null) device.lastSavedOffset = offsetMs;
    } catch (err) {
      this.options.logger?.warn({ err, device: device.record.id }, 'health: last-seen not saved');
    }
  }

  /**
   * A camera that asks for Basic auth got no password (drivers/auth.ts): one warning per camera
   * until its checks stop being refused (the status reason says it at every check).
   */
  private noteBasicRefusal(entry: CameraEntry, errors: Array<ProbeError | undefined>): void {
    const key = `basic-auth-refused:${entry.record.id}`;
    // The probes do not know the camera's id; their advice names it as <camera>.
    for (const e of errors) if (e?.code === 'basic-auth-refused') e.message = e.message.split('<camera>').join(entry.record.id);
    const refused = errors.find((e) => e?.code === 'basic-auth-refused');
    if (!refused) {
      if (errors.some((e) => e === undefined)) this.warned.delete(key);
      return;
    }
    if (this.warned.has(key)) return;
    this.warned.add(key);
    const d = entry.record.device;
    this.options.logger?.warn(
      { camera: entry.record.id, device: `${d.host}:${d.port}`, problem: 'basic-auth-refused' },
      `${entry.record.id}: ${refused.message}`,
    );
  }

  private readonly warned = new Set<string>();
  private warnOnce(key: string, message: string): void {
    if (this.warned.has(key)) return;
    this.warned.add(key);
    this.options.logger?.warn({ problem: key }, message);
  }
}

/** Main and sub stream URIs of a camera. */
export function streamTargets(camera: CameraRecord): Array<{ stream: 'main' | 'sub'; url: string }> {
  const out: Array<{ stream: 'main' | 'sub'; url: string }> = [];
  const { main, sub } = camera.streams;
  if (main?.streamUri) out.push({ stream: 'main', url: main.streamUri });
  if (sub?.streamUri) out.push({ stream: 'sub', url: sub.streamUri });
  return out;
}

/** Where the picture comes from: the sub stream (cheapest to decode), the main stream, a snapshot URI. */
export function pictureSource(camera: CameraRecord, mode: 'auto' | 'stream' | 'snapshot'): { streamUrl?: string; snapshotUrl?: string } {
  const { main, sub } = camera.streams;
  const streamUrl = sub?.streamUri ?? main?.streamUri;
  const snapshotUrl = camera.profiles.find((p) => p.snapshotUri)?.snapshotUri;
  if (mode === 'stream') return streamUrl ? { streamUrl } : {};
  if (mode === 'snapshot') return snapshotUrl ? { snapshotUrl } : {};
  return { ...(streamUrl ? { streamUrl } : {}), ...(snapshotUrl ? { snapshotUrl } : {}) };
}

export type { PictureFault };

function referenceInfo(reference: PictureReference | null): ReferenceInfo | null {
  return reference ? { takenAt: reference.takenAt, origin: reference.origin } : null;
}
