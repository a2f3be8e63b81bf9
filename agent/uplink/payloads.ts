// The agent's side of the contract's payloads: inventory records and outbox reports turned into
// the contract's bodies (contract/ builds the envelopes and holds the schemas).
import type { CameraMeta, CameraRemovedDetail, CameraStatus, CameraSummary, EventBody, MetricsSample, OutboxDropClass } from '../../contract';
import type { CameraRecord, StoredProfile } from '../inventory/types';
import type { CameraRemoval } from '../inventory/changes';
import { DropClass, DropReport } from './types';
import { redactUrl } from '../../lib/url';

export function summarizeCamera(camera: CameraRecord): CameraSummary {
  return { id: camera.id, name: camera.name, class: camera.class, geo: camera.latitude !== null && camera.longitude !== null };
}

function cleanUri(uri: string | undefined): string | undefined {
  return uri === undefined ? undefined : redactUrl(uri);
}

function metaProfile(p: StoredProfile): CameraMeta['profiles'][number] {
  const out: CameraMeta['profiles'][number] = { token: p.token };
  for (const key of ['name', 'codec', 'width', 'height', 'fps', 'bitrateKbps', 'videoSourceToken'] as const) {
    if (p[key] !== undefined) (out as Record<string, unknown>)[key] = p[key];
  }
  if (p.streamUri !== undefined) out.streamUri = cleanUri(p.streamUri);
  if (p.snapshotUri !== undefined) out.snapshotUri = cleanUri(p.snapshotUri);
  return out;
}

/** The ledger record of one camera: everything in the inventory except secrets (stored
 * credentials are only reported as `hasCredentials`; URIs never carry userinfo). */
export function cameraMetaRecord(camera: CameraRecord): CameraMeta {
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

/** A camera's status before its first check: unknown, with what the inventory knows. */
export function statusFromInventory(camera: CameraRecord): CameraStatus {
  return { camera: camera.id, state: 'unknown', since: null, lastSeen: camera.device.lastSeen, clockOffsetMs: camera.device.clockOffsetMs, picture: null };
}

export const DROP_CLASS_NAMES: Record<DropClass, OutboxDropClass> = {
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

/** The event that tells the centre a camera left the site's ledger (its retained meta is cleared too). */
export function cameraRemovedEvent(removal: CameraRemoval): EventBody {
  const detail: CameraRemovedDetail = { removedAt: removal.removedAt, deviceId: removal.deviceId, name: removal.name };
  return {
    type: 'camera-removed',
    severity: 'info',
    camera: removal.cameraId,
    message: `camera ${removal.cameraId}${removal.name ? ` (${removal.name})` : ''} removed from the site's ledger`,
    detail,
  };
}

/** What the agent adds to the uplink's own metrics (host sampler, process CPU, health, video). */
export interface MetricsExtras {
  host?: Partial<MetricsSample['host']>;
  agent?: Partial<MetricsSample['agent']>;
  health?: MetricsSample['health'];
  video?: MetricsSample['video'];
}
