// Simulated sites' telemetry without agents: the messages a site publishes (state, birth, meta,
// status, events, metrics) built with the contract's own builders, at any observedAt. For the
// central's tests (ground truth the test knows exactly) and the ingest benchmarks (thousands of
// sites' worth of messages a second, which no set of real agents on one box could produce).
import { randomUUID } from 'node:crypto';
import {
  birthPayload,
  eventPayload,
  metaPayload,
  metricsPayload,
  siteTopics,
  statePayload,
  statusPayload,
  type CameraMeta,
  type CameraState,
  type EventBody,
} from '../../contract';

export interface TelemetryMessage {
  topic: string;
  payload: string;
  retain: boolean;
}

export interface SimCameraLabel {
  camera: string;
  name?: string | null;
  class?: 1 | 2 | 3 | null;
  region?: string | null;
  owner?: string | null;
  latitude?: number | null;
  longitude?: number | null;
  /** Lines of the main stream (1080 = HD). */
  mainHeight?: number;
  /** A real inventory's ledger record of this camera, sent as is instead of one made up from these labels. */
  meta?: CameraMeta;
}

export interface SimPicture {
  ok: boolean;
  faults?: string[];
}

let sequence = 0;

/** Outbox payloads carry a seq; these come from no outbox, so a process-wide counter stands in. */
function withSeq<T extends object>(payload: T, historical = false): T & { seq: number } {
  return { ...payload, seq: ++sequence, ...(historical ? { historical: true as const } : {}) };
}

function message(topic: string, payload: object, retain: boolean): TelemetryMessage {
  return { topic, payload: JSON.stringify(payload), retain };
}

export function cameraMeta(label: SimCameraLabel): CameraMeta {
  if (label.meta) return label.meta;
  const height = label.mainHeight ?? 1080;
  return {
    camera: label.camera,
    deviceId: `dev-${label.camera}`,
    channel: 1,
    name: label.name ?? label.camera,
    class: label.class ?? null,
    latitude: label.latitude ?? null,
    longitude: label.longitude ?? null,
    region: label.region ?? null,
    owner: label.owner ?? null,
    profiles: [
      { token: 'main', codec: 'H264', width: Math.round((height * 16) / 9), height, fps: 25 },
      { token: 'sub', codec: 'H264', width: 640, height: 360, fps: 10 },
    ],
    device: {
      id: `dev-${label.camera}`,
      driver: 'onvif',
      host: '192.0.2.10',
      port: 80,
      url: 'http://192.0.2.10/onvif/device_service',
      manufacturer: 'SimVision',
      model: 'SV-2000',
      firmware: '1.0.0',
      serial: `SN-${label.camera}`,
      hasCredentials: true,
    },
  };
}

/** One simulated site: builds its messages at the times a test gives. */
export class SimulatedSite {
  readonly topics;
  private bdSeq = 0;
  private readonly bootId = randomUUID();

  constructor(
    readonly site: string,
    readonly cameras: SimCameraLabel[],
  ) {
    this.topics = siteTopics(site);
  }

  /** What an agent sends at each connect: state online, birth, every meta and every status. */
  connect(at: number, statuses: Record<string, { state: CameraState; picture?: SimPicture | null }> = {}): TelemetryMessage[] {
    this.bdSeq++;
    const out = [
      message(this.topics.state, statePayload(this.site, 'online', { bdSeq: this.bdSeq, observedAt: at }), true),
      message(
        this.topics.birth,
        birthPayload(this.site, {
          bdSeq: this.bdSeq,
          bootId: this.bootId,
          version: 'sim',
          protocolVersion: 5,
          observedAt: at,
          reason: 'connect',
          cameras: this.cameras.map((c) => ({
            id: c.camera,
            name: c.name ?? c.camera,
            class: c.class ?? null,
            geo: c.latitude != null && c.longitude != null,
          })),
        }),
        false,
      ),
    ];
    for (const c of this.cameras) out.push(this.meta(c, at));
    for (const c of this.cameras) {
      const s = statuses[c.camera];
      if (s) out.push(this.status(c.camera, s.state, at, s.picture ?? null, { direct: true }));
    }
    return out;
  }

  /** Direct and retained, as at a connect; historical: replayed from the outbox, neither. */
  meta(label: SimCameraLabel, at: number, options: { historical?: boolean } = {}): TelemetryMessage {
    const body = metaPayload(this.site, cameraMeta(label), at);
    if (options.historical) return message(this.topics.cameraMeta(label.camera), withSeq(body, true), false);
    return message(this.topics.cameraMeta(label.camera), { ...body, seq: null }, true);
  }

  /** A removed camera: its retained meta cleared. */
  metaCleared(camera: string): TelemetryMessage {
    return { topic: this.topics.cameraMeta(camera), payload: '', retain: true };
  }

  status(
    camera: string,
    state: CameraState,
    at: number,
    picture: SimPicture | null = null,
    options: { historical?: boolean; direct?: boolean } = {},
  ): TelemetryMessage {
    const iso = new Date(at).toISOString();
    const body = statusPayload(
      this.site,
      {
        camera,
        state,
        since: iso,
        lastSeen: state === 'offline' ? null : iso,
        clockOffsetMs: null,
        picture: picture ? { ok: picture.ok, faults: picture.faults ?? [], checkedAt: iso } : null,
        ...(state === 'offline' ? { reason: 'no answer' } : {}),
      },
      at,
    );
    const payload = options.direct ? { ...body, seq: null } : withSeq(body, options.historical);
    return message(this.topics.cameraStatus(camera), payload, !options.historical);
  }

  event(body: EventBody, at: number, historical = false): TelemetryMessage {
    return message(this.topics.events, withSeq(eventPayload(this.site, body, at), historical), false);
  }

  /** A metrics sample, as the agent sends every minute: the steady evidence that the site lives. */
  metrics(
    at: number,
    options: { historical?: boolean; diskFreePercent?: number; outboxDropped?: number; loadAvg1?: number; uptimeSec?: number } = {},
  ): TelemetryMessage {
    const body = metricsPayload(
      this.site,
      {
        host: {
          loadAvg1: options.loadAvg1 ?? 0.3,
          memTotalBytes: 2 ** 31,
          memFreeBytes: 2 ** 30,
          uptimeSec: options.uptimeSec ?? 3600,
          cpus: 2,
          ...(options.diskFreePercent !== undefined
            ? {
                disk: {
                  path: '/var/lib/camgate',
                  mount: '/',
                  sizeBytes: 64 * 2 ** 30,
                  freeBytes: Math.round((64 * 2 ** 30 * options.diskFreePercent) / 100),
                  freePercent: options.diskFreePercent,
                },
              }
            : {}),
        },
        agent: { rssBytes: 90 * 2 ** 20, heapUsedBytes: 30 * 2 ** 20, uptimeSec: options.uptimeSec ?? 3600, cameras: this.cameras.length },
        outbox: { depth: 0, bytes: 0, oldestSeq: null, newestSeq: null, droppedTotal: options.outboxDropped ?? 0 },
        uplink: { connected: true, bdSeq: this.bdSeq, connects: 1, url: null },
      },
      at,
    );
    return message(this.topics.metrics, withSeq(body, options.historical), false);
  }

  /** The Will the broker publishes when the box goes silent. */
  will(connectedAt: number): TelemetryMessage {
    return message(this.topics.state, statePayload(this.site, 'offline', { bdSeq: this.bdSeq, observedAt: connectedAt, reason: 'will' }), true);
  }
}
