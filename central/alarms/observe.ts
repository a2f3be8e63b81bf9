// What a site's message says about its alarms, pure: a status is evidence for the camera's
// offline, picture and stream alarms; metrics for disk-low and outbox-dropping; an outbox-drop
// event for outbox-dropping; a live message of the site for site-offline's all-clear. The site's
// connection (state messages, the Will) and removals are read from what the writer made of them
// (store.ts), not decided twice. docs/alarms.md.
import type { MetricsPayload, StatusPayload, EventPayload } from '../../contract';
import type { AlarmKind, Observation } from './rules';

/** An observation of one (site, camera, kind); site alarms have camera ''. */
export interface KeyedObservation {
  site: string;
  camera: string;
  kind: AlarmKind;
  observation: Observation;
}

export interface ObserveOptions {
  kinds: ReadonlySet<AlarmKind>;
  diskLowPercent: number;
}

/** The kinds that belong to a camera (cleared when it is removed). */
export const CAMERA_KINDS: readonly AlarmKind[] = ['camera-offline', 'picture-fault', 'stream-fault'];

/** Picture faults of the picture itself; no-picture (none could be had) is the stream's or the camera's fault. */
function pictureFaults(status: StatusPayload): string[] {
  return (status.picture?.faults ?? []).filter((f) => f !== 'no-picture');
}

function fromStatus(status: StatusPayload, at: number): Array<{ kind: AlarmKind; observation: Observation }> {
  const historical = status.historical === true;
  const out: Array<{ kind: AlarmKind; observation: Observation }> = [];
  const base = { at, historical };
  // An unknown camera (not checked yet) says nothing either way.
  if (status.state === 'unknown') return out;
  if (status.state === 'offline' || status.flapping === true) {
    out.push({
      kind: 'camera-offline',
      observation: {
        ...base,
        fault: true,
        evidence: status.state === 'offline' ? `status offline${status.reason ? `: ${status.reason}` : ''}` : `status ${status.state}, flapping`,
        detail: { state: status.state, reason: status.reason ?? null, flapping: status.flapping === true },
      },
    });
  } else {
    out.push({ kind: 'camera-offline', observation: { ...base, fault: false, evidence: `status ${status.state}` } });
  }
  // An offline camera's picture and streams are not checked: unknown, not cleared.
  if (status.state === 'offline') return out;
  if (status.picture) {
    const faults = pictureFaults(status);
    out.push({
      kind: 'picture-fault',
      observation:
        faults.length > 0
          ? { ...base, fault: true, evidence: `picture: ${faults.join(', ')}`, detail: { faults, scores: status.picture.scores ?? null } }
          : { ...base, fault: false, evidence: status.picture.ok ? 'picture ok' : 'picture without those faults' },
    });
  }
  if (status.streams && status.streams.length > 0) {
    const failing = status.streams.filter((s) => !s.ok);
    out.push({
      kind: 'stream-fault',
      observation:
        failing.length > 0
          ? {
              ...base,
              fault: true,
              evidence: `stream: ${failing.map((s) => `${s.stream}${s.error ? ` ${s.error.code}` : ''}`).join(', ')}`,
              detail: { streams: failing.map((s) => ({ stream: s.stream, error: s.error ?? null })) },
            }
          : { ...base, fault: false, evidence: 'streams ok' },
    });
  }
  return out;
}

function fromMetrics(metrics: MetricsPayload, at: number, options: ObserveOptions): Array<{ kind: AlarmKind; observation: Observation }> {
  const historical = metrics.historical === true;
  const out: Array<{ kind: AlarmKind; observation: Observation }> = [];
  const disk = metrics.host.disk;
  if (disk) {
    const low = disk.freePercent < options.diskLowPercent;
    out.push({
      kind: 'disk-low',
      observation: {
        at,
        historical,
        fault: low,
        evidence: `disk ${disk.path}: ${disk.freePercent.toFixed(1)}% free (threshold ${options.diskLowPercent}%)`,
        ...(low ? { detail: { path: disk.path, freePercent: disk.freePercent, freeBytes: disk.freeBytes, sizeBytes: disk.sizeBytes } } : {}),
      },
    });
  }
  // A sample that went through the outbox after a drop: the agent had room for it again.
  if (metrics.outbox) {
    out.push({ kind: 'outbox-dropping', observation: { at, historical, fault: false, evidence: `metrics: outbox ${metrics.outbox.depth} messages` } });
  }
  return out;
}

function fromEvent(event: EventPayload, at: number): Array<{ kind: AlarmKind; observation: Observation }> {
  if (event.type !== 'outbox-drop') return [];
  return [
    {
      kind: 'outbox-dropping',
      observation: { at, historical: event.historical === true, fault: true, evidence: `outbox-drop: ${event.message}`, detail: event.detail },
    },
  ];
}

export type ObservedMessage =
  | { kind: 'status'; site: string; camera: string; payload: StatusPayload }
  | { kind: 'metrics'; site: string; payload: MetricsPayload }
  | { kind: 'event'; site: string; payload: EventPayload };

/** What one status, metrics or event message says about the site's and its cameras' alarms. */
export function observe(m: ObservedMessage, options: ObserveOptions): KeyedObservation[] {
  const at = Date.parse(m.payload.observedAt);
  let found: Array<{ kind: AlarmKind; observation: Observation }>;
  let camera = '';
  switch (m.kind) {
    case 'status':
      found = fromStatus(m.payload, at);
      camera = m.camera;
      break;
    case 'metrics':
      found = fromMetrics(m.payload, at, options);
      break;
    case 'event':
      found = fromEvent(m.payload, at);
      break;
  }
  const out: KeyedObservation[] = found
    .filter((f) => options.kinds.has(f.kind))
    .map((f) => ({ site: m.site, camera: f.kind === 'disk-low' || f.kind === 'outbox-dropping' ? '' : camera, kind: f.kind, observation: f.observation }));
  // A live message is the site talking to us now: its connection is back (a replayed one is not).
  if (options.kinds.has('site-offline') && m.payload.historical !== true) {
    out.push({ site: m.site, camera: '', kind: 'site-offline', observation: { at, fault: false, evidence: `a live ${m.kind} message` } });
  }
  return out;
}
