// camgate/v1/{site}/metrics: QoS 1 through the outbox every uplink.metricsIntervalSec; dropped first over the quota.
import { Type, type Static } from '@sinclair/typebox';
import { CameraIdField, Dictionary, envelopeFields, Nullable } from '../fields';
import { envelope, type Moment, type Unsequenced } from '../envelope';

const Count = () => Type.Integer({ minimum: 0 });
const NonNegative = () => Type.Number({ minimum: 0 });
const NullableNumber = () => Nullable(Type.Number());
const NullableString = () => Nullable(Type.String());
const PullState = () =>
  Type.Unsafe<'starting' | 'running' | 'retrying' | 'stopped' | 'failed'>({ type: 'string', enum: ['starting', 'running', 'retrying', 'stopped', 'failed'] });
const StreamRole = () => Type.Unsafe<'main' | 'sub'>({ type: 'string', enum: ['main', 'sub'] });
/** A number or null, emitted as `type: [number, null]` with a lower bound. */
const NullableNonNegative = () => Type.Unsafe<number | null>({ type: ['number', 'null'], minimum: 0 });

export const HostMetricsSchema = Type.Object(
  {
    loadAvg1: NonNegative(),
    memTotalBytes: Count(),
    memFreeBytes: Count(),
    uptimeSec: NonNegative(),
    cpus: Count(),
    cpuLoadPercent: Type.Optional(NullableNumber()),
    memAvailableBytes: Type.Optional(Count()),
    disk: Type.Optional(
      Nullable(
        Type.Object(
          {
            path: Type.String(),
            mount: NullableString(),
            sizeBytes: NonNegative(),
            freeBytes: NonNegative(),
            freePercent: Type.Number({ minimum: 0, maximum: 100 }),
          },
          { additionalProperties: false },
        ),
      ),
    ),
    temperatureC: Type.Optional(NullableNumber()),
    temperatureSensor: Type.Optional(NullableString()),
    interfaces: Type.Optional(
      Nullable(
        Type.Array(
          Type.Object(
            {
              name: Type.String(),
              ip4: NullableString(),
              mac: NullableString(),
              up: Type.Boolean(),
              speedMbps: NullableNumber(),
              rxBytes: NullableNumber(),
              txBytes: NullableNumber(),
            },
            { additionalProperties: false },
          ),
        ),
      ),
    ),
    alarms: Type.Optional(Type.Object({ diskLow: Type.Boolean(), temperatureHigh: Type.Boolean() }, { additionalProperties: false })),
  },
  { additionalProperties: false },
);

export const AgentMetricsSchema = Type.Object(
  {
    rssBytes: Count(),
    heapUsedBytes: Count(),
    externalBytes: Type.Optional(Count()),
    arrayBuffersBytes: Type.Optional(Count()),
    uptimeSec: NonNegative(),
    cameras: Count(),
    cpuPercent: Type.Optional(NonNegative()),
    ffmpegProcesses: Type.Optional(Type.Integer({ minimum: 0, description: 'ffmpeg processes running now: relays, live view pulls and picture probes.' })),
  },
  { additionalProperties: false },
);

export const RelayMetricsSchema = Type.Object(
  {
    streamId: Type.String(),
    camera: CameraIdField,
    stream: StreamRole(),
    target: Type.String({ description: 'Target URL without credentials.' }),
    mode: Type.Unsafe<'copy' | 'transcode'>({ type: 'string', enum: ['copy', 'transcode'] }),
    state: PullState(),
    fps: NullableNonNegative(),
    bitrateKbps: NullableNonNegative(),
    restarts: Count(),
    lastError: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);

export const LivePullMetricsSchema = Type.Object(
  {
    camera: CameraIdField,
    stream: StreamRole(),
    mode: Type.Unsafe<'mse' | 'jsmpeg'>({ type: 'string', enum: ['mse', 'jsmpeg'] }),
    viewers: Count(),
    state: PullState(),
    dropped: Count(),
  },
  { additionalProperties: false },
);

export const VideoMetricsSchema = Type.Object(
  {
    ffmpeg: Type.Object({ relay: Count(), live: Count(), picture: Count(), other: Count() }, { additionalProperties: false }),
    relayKbps: Type.Number({ minimum: 0, description: 'Bitrate the relays count against the budget (max of expected and measured, each).' }),
    budgetKbps: Type.Number({ minimum: 0, description: 'video.relay.budgetKbps (0 = none).' }),
    relays: Type.Array(RelayMetricsSchema),
    live: Type.Array(LivePullMetricsSchema),
  },
  { additionalProperties: false, description: 'Video, when the box has ffmpeg: processes by kind, relays to the centre with their stats, live view pulls.' },
);

export const OutboxMetricsSchema = Type.Object(
  {
    depth: Count(),
    bytes: Count(),
    oldestSeq: Nullable(Type.Integer()),
    newestSeq: Nullable(Type.Integer()),
    droppedTotal: Count(),
  },
  { additionalProperties: false },
);

export const UplinkMetricsSchema = Type.Object(
  { connected: Type.Boolean(), bdSeq: Nullable(Type.Integer()), connects: Count(), url: NullableString() },
  { additionalProperties: false },
);

const LatencySummary = Type.Object(
  { count: NonNegative(), p50: NonNegative(), p95: NonNegative(), p99: NonNegative(), max: NonNegative() },
  { additionalProperties: false },
);

export const HealthMetricsSchema = Type.Object(
  {
    cameras: Count(),
    online: Count(),
    offline: Count(),
    degraded: Count(),
    unknown: Count(),
    flapping: Count(),
    pictureFaults: Dictionary(Count(), { description: 'Cameras per current picture fault (no-picture included).' }),
    probes: Dictionary(LatencySummary, { description: 'Probe latency over the last samples, ms (diagnosisCpu: CPU ms per diagnosis).' }),
    inFlight: Dictionary(Count(), { description: 'Checks in flight now per kind.' }),
  },
  { additionalProperties: false },
);

const metricsFields = {
  host: HostMetricsSchema,
  agent: AgentMetricsSchema,
  video: Type.Optional(VideoMetricsSchema),
  outbox: Nullable(OutboxMetricsSchema),
  uplink: UplinkMetricsSchema,
  health: Type.Optional(HealthMetricsSchema),
};

/** One metrics sample (the metrics payload without its envelope). */
export const MetricsSampleSchema = Type.Object(metricsFields, { additionalProperties: false });
export type MetricsSample = Static<typeof MetricsSampleSchema>;

export const MetricsPayloadSchema = Type.Object(
  { ...envelopeFields('metrics', 'outbox'), ...metricsFields },
  {
    title: 'camgate/v1/{site}/metrics',
    description: 'QoS 1 through the outbox, every uplink.metricsIntervalSec: host and agent metrics. Dropped first when the outbox is over its quota.',
    additionalProperties: false,
  },
);
export type MetricsPayload = Static<typeof MetricsPayloadSchema>;

export function metricsPayload(site: string, sample: MetricsSample, observedAt: Moment): Unsequenced<MetricsPayload> {
  return envelope('metrics', site, observedAt, { ...sample });
}
