// Payload builders of the uplink contract (docs/mqtt.md; one JSON Schema per payload in
// schemas/). Pure: ids and clocks come in as arguments or from the two small helpers below.
//
// Every payload is an envelope: schemaVersion, kind, messageId (unique, for idempotent
// consumers), site, seq, observedAt (when the fact was observed, not when it is sent) and
// `historical: true` when it is replayed from the outbox after an outage. `seq` is assigned by
// the outbox: builders for outbox messages return the payload without it (OutboxInput), the
// outbox adds it (and markHistorical in outbox.ts adds `historical` at replay time). Messages published directly (birth, state, connect-time meta/status,
// command replies) carry `seq: null`.
import { randomUUID } from 'node:crypto';
import type { CameraRecord, StoredProfile } from '../inventory/types';
import { redactUrl } from '../../drivers/uri';
import { DropClass, DropReport } from './types';

export const SCHEMA_VERSION = 1;

export type PayloadKind = 'state' | 'birth' | 'meta' | 'status' | 'event' | 'metrics' | 'reply';

export interface Envelope {
  schemaVersion: typeof SCHEMA_VERSION;
  kind: PayloadKind;
  messageId: string;
  site: string;
  /** Outbox sequence; null for messages that do not go through the outbox. */
  seq?: number | null;
  observedAt: string;
  historical?: true;
}

export function newMessageId(): string {
  return randomUUID();
}

export function isoTime(at: Date | number | string): string {
  if (typeof at === 'string') return at;
  return (typeof at === 'number' ? new Date(at) : at).toISOString();
}

function envelope<K extends PayloadKind, B extends object>(kind: K, site: string, observedAt: Date | number | string, body: B, messageId = newMessageId()) {
  return { schemaVersion: SCHEMA_VERSION, kind, messageId, site, observedAt: isoTime(observedAt), ...body };
}

/** For a direct publish (not through the outbox): seq is null. */
export function direct<T extends object>(payload: T): T & { seq: null } {
  return { ...payload, seq: null };
}

// --- state ---------------------------------------------------------------------------------

export type AgentState = 'online' | 'offline';

/** `camgate/v1/{site}/state`, retained. The offline form is also the MQTT Will. */
export function statePayload(site: string, state: AgentState, opts: { bdSeq: number; observedAt: Date | number | string; reason?: 'will' | 'shutdown' }) {
  return direct(envelope('state', site, opts.observedAt, { state, bdSeq: opts.bdSeq, ...(opts.reason ? { reason: opts.reason } : {}) }));
}

// --- birth ---------------------------------------------------------------------------------

export interface CameraSummary {
  id: string;
  name: string | null;
  class: 1 | 2 | 3 | null;
  /** Latitude and longitude both set. */
  geo: boolean;
}

export interface BirthInfo {
  bdSeq: number;
  bootId: string;
  version: string;
  siteName?: string;
  protocolVersion: 4 | 5;
  observedAt: Date | number | string;
  cameras: CameraSummary[];
  /** Why this birth was sent: a new connection, or a rebirth command. */
  reason: 'connect' | 'rebirth';
}

export function summarizeCamera(camera: CameraRecord): CameraSummary {
  return { id: camera.id, name: camera.name, class: camera.class, geo: camera.latitude !== null && camera.longitude !== null };
}

/** `camgate/v1/{site}/birth`, sent first on every connect (and on rebirth). */
export function birthPayload(site: string, info: BirthInfo) {
  return direct(
    envelope('birth', site, info.observedAt, {
      bdSeq: info.bdSeq,
      bootId: info.bootId,
      version: info.version,
      ...(info.siteName ? { siteName: info.siteName } : {}),
      protocolVersion: info.protocolVersion,
      reason: info.reason,
      cameras: { count: info.cameras.length, items: info.cameras },
    }),
  );
}

// --- meta ----------------------------------------------------------------------------------

function cleanUri(uri: string | undefined): string | undefined {
  return uri === undefined ? undefined : redactUrl(uri);
}

function metaProfile(p: StoredProfile) {
  const out: Record<string, unknown> = { token: p.token };
  for (const key of ['name', 'codec', 'width', 'height', 'fps', 'bitrateKbps', 'videoSourceToken'] as const) {
    if (p[key] !== undefined) out[key] = p[key];
  }
  if (p.streamUri !== undefined) out.streamUri = cleanUri(p.streamUri);
  if (p.snapshotUri !== undefined) out.snapshotUri = cleanUri(p.snapshotUri);
  return out;
}

/** The ledger record of one camera: everything in the inventory except secrets (stored
 * credentials are only reported as `hasCredentials`; URIs never carry userinfo). */
export function cameraMetaRecord(camera: CameraRecord) {
  const d = camera.device;
  return {
    camera: camera.id,
    deviceId: camera.deviceId,
    channel: camera.channel,
    name: camera.name,
    class: camera.class,
    latitude: camera.latitude,
    longitude: camera.longitude,
    region: camera.region,
    owner: camera.owner,
    notes: camera.notes,
    installDate: camera.installDate,
    videoSourceToken: camera.videoSourceToken,
    profiles: camera.profiles.map(metaProfile),
    createdAt: camera.createdAt,
    updatedAt: camera.updatedAt,
    device: {
      id: d.id,
      driver: d.driver,
      source: d.source,
      host: d.host,
      port: d.port,
      url: redactUrl(d.url),
      endpointUuid: d.endpointUuid,
      manufacturer: d.manufacturer,
      model: d.model,
      firmware: d.firmware,
      serial: d.serial,
      hardwareId: d.hardwareId,
      mac: d.mac,
      isNvr: d.isNvr,
      clockOffsetMs: d.clockOffsetMs,
      scopes: d.scopes,
      firstSeen: d.firstSeen,
      lastSeen: d.lastSeen,
      hasCredentials: d.hasCredentials,
    },
  };
}

/** `camgate/v1/{site}/cameras/{camera}/meta`, retained. */
export function metaPayload(site: string, camera: CameraRecord, observedAt: Date | number | string) {
  return envelope('meta', site, observedAt, cameraMetaRecord(camera));
}

// --- status --------------------------------------------------------------------------------

/** Health of one camera, as the health monitor (agent/health) sees it; docs/health.md. */
export type CameraState = 'unknown' | 'online' | 'offline' | 'degraded';

/** Why one check failed: a short code and one line for people (never a password). */
export interface CheckError {
  code: string;
  message: string;
}

/** The last result of one kind of check. */
export interface CheckStatus {
  ok: boolean;
  latencyMs: number | null;
  checkedAt: string;
  error?: CheckError;
}

export interface StreamStatus extends CheckStatus {
  stream: 'main' | 'sub';
  codec: string | null;
  width: number | null;
  height: number | null;
}

export interface PictureStatus {
  /** True when a picture was obtained and no fault was found. */
  ok: boolean;
  /** Diagnosed faults (black, frozen, blurred, occluded, colour-cast, no-video), or
   * no-picture when none could be obtained (error says why). */
  faults: string[];
  checkedAt: string;
  /** One score per fault (scale per fault in docs/health.md), for tuning at the central. */
  scores?: Record<string, number>;
  source?: 'stream' | 'snapshot' | null;
  error?: CheckError;
  /** The latest thumbnail (fetch it with the thumbnail command). */
  thumbnail?: { bytes: number; takenAt: string } | null;
}

export interface CameraStatus {
  camera: string;
  state: CameraState;
  /** Since when the camera is in this state (ISO time), when known. */
  since: string | null;
  /** Last time the agent heard from the device (ISO time), when known. */
  lastSeen: string | null;
  /** Device clock minus box clock, ms, when measured. */
  clockOffsetMs: number | null;
  /** Picture check result; null until the first picture probe. */
  picture: PictureStatus | null;
  /** Why the camera is offline or degraded, one line; null when online or unknown. */
  reason?: string | null;
  /** Changing state too often: transition events are held back (docs/health.md). */
  flapping?: boolean;
  /** TCP reachability of the device. */
  reach?: CheckStatus | null;
  /** ONVIF answers (GetSystemDateAndTime); absent for RTSP-only devices. */
  onvif?: CheckStatus | null;
  /** RTSP DESCRIBE of the main and sub stream. */
  streams?: StreamStatus[];
}

export function statusFromInventory(camera: CameraRecord): CameraStatus {
  return { camera: camera.id, state: 'unknown', since: null, lastSeen: camera.device.lastSeen, clockOffsetMs: camera.device.clockOffsetMs, picture: null };
}

/** `camgate/v1/{site}/cameras/{camera}/status`, retained, QoS 1. */
export function statusPayload(site: string, status: CameraStatus, observedAt: Date | number | string) {
  return envelope('status', site, observedAt, { ...status });
}

// --- events --------------------------------------------------------------------------------

export const EVENT_TYPES = [
  'camera-offline',
  'camera-online',
  'picture-fault',
  'picture-ok',
  'clock-drift',
  'clock-ok',
  'clock-synced',
  'camera-flapping',
  'onvif-fault',
  'onvif-ok',
  'stream-fault',
  'stream-ok',
  'disk-ok',
  'temperature-high',
  'temperature-ok',
  'stream-started',
  'stream-running',
  'stream-retrying',
  'stream-stopped',
  'stream-failed',
  'camera-encoder-changed',
  'disk-low',
  'audit',
  'outbox-drop',
] as const;
export type EventType = (typeof EVENT_TYPES)[number];
export type Severity = 'info' | 'warning' | 'alarm';

export interface EventBody {
  type: EventType;
  severity: Severity;
  camera?: string;
  /** One line for people. */
  message: string;
  /** Type-specific facts (see docs/mqtt.md). */
  detail?: Record<string, unknown>;
}

/** `camgate/v1/{site}/events`, QoS 1, through the outbox. */
export function eventPayload(site: string, body: EventBody, observedAt: Date | number | string) {
  return envelope('event', site, observedAt, {
    type: body.type,
    severity: body.severity,
    ...(body.camera !== undefined ? { camera: body.camera } : {}),
    message: body.message,
    detail: body.detail ?? {},
  });
}

export const DROP_CLASS_NAMES: Record<DropClass, 'transition' | 'periodic-status' | 'metric'> = {
  [DropClass.Transition]: 'transition',
  [DropClass.PeriodicStatus]: 'periodic-status',
  [DropClass.Metric]: 'metric',
};

/** The event that reports what the outbox dropped to stay within its disk quota. */
export function dropEvent(report: DropReport): EventBody {
  const dropped = report.dropped.map((d) => ({ class: DROP_CLASS_NAMES[d.dropClass], count: d.count, fromSeq: d.fromSeq, toSeq: d.toSeq }));
  const total = dropped.reduce((n, d) => n + d.count, 0);
  const lost = report.dropped.some((d) => d.dropClass === DropClass.Transition);
  return {
    type: 'outbox-drop',
    severity: lost ? 'alarm' : 'warning',
    message: `outbox over its disk quota: dropped ${total} message(s) (${dropped.map((d) => `${d.count} ${d.class}`).join(', ')})`,
    detail: { reason: report.reason, total, dropped },
  };
}

// --- metrics -------------------------------------------------------------------------------

export interface MetricsSample {
  host: {
    loadAvg1: number;
    memTotalBytes: number;
    memFreeBytes: number;
    uptimeSec: number;
    cpus: number;
    /** From the host sampler (agent/health/host) when health monitoring runs: */
    cpuLoadPercent?: number | null;
    memAvailableBytes?: number;
    disk?: { path: string; mount: string | null; sizeBytes: number; freeBytes: number; freePercent: number } | null;
    temperatureC?: number | null;
    temperatureSensor?: string | null;
    interfaces?: Array<{ name: string; ip4: string | null; mac: string | null; up: boolean; speedMbps: number | null; rxBytes: number | null; txBytes: number | null }> | null;
    alarms?: { diskLow: boolean; temperatureHigh: boolean };
  };
  agent: {
    rssBytes: number;
    heapUsedBytes: number;
    /** Memory outside the JS heap held by JS objects (process.memoryUsage().external): Buffers, ArrayBuffers, native addons' reports. */
    externalBytes?: number;
    /** The Buffer/ArrayBuffer part of externalBytes (picture frames, socket chunks). */
    arrayBuffersBytes?: number;
    uptimeSec: number;
    cameras: number;
    /** CPU share of the agent process since the previous metrics, % of one core (ffmpeg excluded). */
    cpuPercent?: number;
    /** ffmpeg processes running now (relays, live view, picture probes). */
    ffmpegProcesses?: number;
  };
  /** Video, when ffmpeg is there: processes by kind, relays to the centre and their stats, live view pulls. */
  video?: {
    ffmpeg: { relay: number; live: number; picture: number; other: number };
    relayKbps: number;
    budgetKbps: number;
    relays: Array<{
      streamId: string;
      camera: string;
      stream: 'main' | 'sub';
      target: string;
      mode: 'copy' | 'transcode';
      state: string;
      fps: number | null;
      bitrateKbps: number | null;
      restarts: number;
      lastError?: string;
    }>;
    live: Array<{ camera: string; stream: 'main' | 'sub'; mode: 'mse' | 'jsmpeg'; viewers: number; state: string; dropped: number }>;
  };
  outbox: { depth: number; bytes: number; oldestSeq: number | null; newestSeq: number | null; droppedTotal: number } | null;
  uplink: { connected: boolean; bdSeq: number | null; connects: number; url: string | null };
  /** Health monitoring figures, when it runs. */
  health?: {
    cameras: number;
    online: number;
    offline: number;
    degraded: number;
    unknown: number;
    flapping: number;
    /** Cameras per current picture fault (no-picture included). */
    pictureFaults: Record<string, number>;
    /** Probe latency over the last samples, ms (diagnosisCpu: CPU ms per diagnosis). */
    probes: Record<string, { count: number; p50: number; p95: number; p99: number; max: number }>;
    /** Checks in flight now per kind. */
    inFlight: Record<string, number>;
  };
}

/** What the agent adds to the uplink's own metrics (host sampler, process CPU, health). */
export interface MetricsExtras {
  host?: Partial<MetricsSample['host']>;
  agent?: Partial<MetricsSample['agent']>;
  health?: MetricsSample['health'];
  video?: MetricsSample['video'];
}

/** `camgate/v1/{site}/metrics`, QoS 1 through the outbox (dropped first when over quota). */
export function metricsPayload(site: string, sample: MetricsSample, observedAt: Date | number | string) {
  return envelope('metrics', site, observedAt, { ...sample });
}

// --- replies -------------------------------------------------------------------------------

export type ReplyErrorCode =
  | 'malformed'
  | 'unknown-command'
  | 'invalid-args'
  | 'not-available'
  | 'failed'
  | 'timeout'
  | 'bad-reply-topic'
  | 'auth' // the camera refused its login
  | 'unreachable' // the camera did not answer (refused, no route)
  | 'too-large' // the camera's answer was over the size cap
  | 'not-an-image' // the snapshot URI answered something that is not a JPEG
  | 'over-budget' // stream-start: the relay would exceed the site's uplink budget (video.relay.budgetKbps)
  | 'busy'; // stream-start: video.relay.maxRelays reached, or the target is taken by another relay

export interface ReplyBody {
  command: string;
  /** messageId of the request, when it had one. */
  requestId: string | null;
  /** Echo of the request's correlationId (or MQTT 5 correlation data as text). */
  correlationId: string | null;
  ok: boolean;
  result?: Record<string, unknown>;
  error?: { code: ReplyErrorCode; message: string };
}

/** Reply to a command, on the request's reply topic; published directly (seq null). */
export function replyPayload(site: string, body: ReplyBody, observedAt: Date | number | string) {
  return direct(
    envelope('reply', site, observedAt, {
      command: body.command,
      requestId: body.requestId,
      correlationId: body.correlationId,
      ok: body.ok,
      ...(body.result !== undefined ? { result: body.result } : {}),
      ...(body.error !== undefined ? { error: body.error } : {}),
    }),
  );
}
