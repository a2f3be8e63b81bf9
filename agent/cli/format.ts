// How cameras, devices and discovery results look to people and scripts. Views never carry
// credentials; URIs are shown redacted. What a device said about itself (names, models,
// firmware, notes) is shown as one printable line each (lib/text.ts): no escape sequence, no
// line break that would let a device forge lines of our output.
import type { DeviceReport } from '../../drivers/types';
import type { CameraRecord, StoredProfile } from '../inventory/types';
import type { SweepOutcome } from '../discovery/sweep';
import type { PendingMove, UpsertResult } from '../inventory/upsert';
import { orDash, table } from './output';
import { redactUrl } from '../../lib/redact';
import { printableLine } from '../../lib/text';

/** A device-supplied value in a table cell or line: one printable line, at most this long. */
const DEVICE_VALUE_MAX_CHARS = 256;

/** A device-supplied value as shown; '-' when absent. */
export function deviceValue(value: string | number | null | undefined): string {
  return orDash(typeof value === 'string' ? printableLine(value, DEVICE_VALUE_MAX_CHARS) : value);
}

export function formatOffset(ms: number | null | undefined): string {
  if (ms === null || ms === undefined) return '-';
  const sign = ms > 0 ? '+' : ms < 0 ? '-' : '±';
  const abs = Math.abs(ms);
  return abs < 1000 ? `${sign}${abs} ms` : `${sign}${(abs / 1000).toFixed(1)} s`;
}

export function formatProfile(p: StoredProfile): string {
  const parts = [p.codec ? deviceValue(p.codec) : '?'];
  if (p.width && p.height) parts.push(`${p.width}x${p.height}`);
  if (p.fps) parts.push(`${p.fps}fps`);
  return parts.join(' ');
}

export function publicProfile(p: StoredProfile): StoredProfile {
  return {
    ...p,
    ...(p.streamUri ? { streamUri: redactUrl(p.streamUri) } : {}),
    ...(p.snapshotUri ? { snapshotUri: redactUrl(p.snapshotUri) } : {}),
  };
}

/** A camera as `cameras list/show --json` prints it; `pendingMove`: its device's, if any. */
export function publicCamera(c: CameraRecord, pendingMove?: PendingMove) {
  const { device, profiles, ...rest } = c;
  return {
    ...rest,
    profiles: profiles.map(publicProfile),
    device: { ...device, url: redactUrl(device.url) },
    pendingMove: pendingMove ?? null,
  };
}

/** One pending move in words, with what to do about it. */
export function pendingMoveText(m: PendingMove): string {
  const who = [m.manufacturer, m.model].filter(Boolean).join(' ');
  return (
    `device ${m.deviceId} (recorded at ${m.from}): a device at ${m.to}${who ? ` (${who})` : ''} claims its identity (same ${m.matched.join(', ') || 'identity'}), ` +
    `seen ${m.lastSeen.replace(/\.\d+Z$/, 'Z')}; nothing was changed and its login is not sent there. ` +
    `If the camera really moved: camgate cameras confirm-move ${m.deviceId}; if not: camgate cameras discard-move ${m.deviceId}`
  );
}

export function cameraListTable(cameras: CameraRecord[]): string {
  return table(
    ['ID', 'NAME', 'CLASS', 'ADDRESS', 'DEVICE', 'CH', 'LAT, LON', 'REGION', 'LAST SEEN'],
    cameras.map((c) => [
      c.id,
      orDash(c.name),
      orDash(c.class),
      `${c.device.host}:${c.device.port}`,
      deviceValue([c.device.manufacturer, c.device.model].filter(Boolean).join(' ')),
      c.channel,
      c.latitude !== null ? `${c.latitude}, ${c.longitude}` : '-',
      orDash(c.region),
      c.device.lastSeen.replace(/\.\d+Z$/, 'Z'),
    ]),
  );
}

export function profilesTable(rows: Array<{ camera?: string; channel: number; profiles: Array<StoredProfile> }>): string {
  const out: Array<Array<string | number>> = [];
  for (const r of rows) {
    for (const p of r.profiles) {
      const uris = [
        p.streamUri ? deviceValue(redactUrl(p.streamUri)) : '-',
        p.snapshotUri ? `snapshot: ${deviceValue(redactUrl(p.snapshotUri))}` : '',
        // Why a URI is missing (refused, not given, the call failed): the notes name the profile.
        ...(p.notes ?? []).map((n) => `note: ${deviceValue(n)}`),
      ]
        .filter(Boolean)
        .join('\n');
      out.push([...(r.camera !== undefined ? [r.camera] : []), r.channel, deviceValue(p.name ?? p.token), formatProfile(p), uris]);
    }
  }
  const head = [...(rows.some((r) => r.camera !== undefined) ? ['CAMERA'] : []), 'CH', 'PROFILE', 'VIDEO', 'STREAM URI'];
  return out.length > 0 ? table(head, out) : '  (no media profiles)\n';
}

export function identityLine(r: DeviceReport): string {
  const i = r.identity;
  return [`serial: ${deviceValue(i.serial)}`, `hardware id: ${deviceValue(i.hardwareId)}`, `MAC: ${deviceValue(i.mac)}`].join('   ');
}

/** Advice for the error codes an installer can do something about. */
export function errorHint(outcome: SweepOutcome): string {
  const where = outcome.address;
  switch (outcome.error?.code) {
    case 'auth':
      return ` → store its login: camgate cameras add onvif ${where} --username USER --password -  (or set the site default cameras.username/password)`;
    case 'timeout':
      // The overall deadline's message already says how to get more time.
      if (outcome.error.deadline === 'overall') return '';
      return ' → the device accepted the connection but answered too slowly; raise --onvif.timeout-ms or check the device';
    case 'not-onvif':
      return ' → something answered, but not ONVIF; is ONVIF enabled on the device (often off by default)?';
    default:
      return '';
  }
}

export function sweepOutcomeText(o: SweepOutcome, saved?: UpsertResult): string {
  if (!o.report) return `✗ ${o.address}  ${o.error?.message ?? 'failed'}${errorHint(o)}\n`;
  const r = o.report;
  const title = deviceValue([r.identity.manufacturer, r.identity.model].filter(Boolean).join(' ') || (r.driver === 'rtsp' ? 'RTSP stream' : 'unknown model'));
  const fw = r.identity.firmware ? `, firmware ${deviceValue(r.identity.firmware)}` : '';
  const kind = r.isNvr ? `, NVR with ${r.channels.length} channels` : '';
  let savedText = '';
  if (saved?.pendingMove) {
    const m = saved.pendingMove;
    savedText = `  → NOT saved: claims the identity of ${m.deviceId} (same ${m.matched.join(', ')}), recorded at ${m.from}; pending until an installer confirms: camgate cameras confirm-move ${m.deviceId}`;
  } else if (saved) {
    savedText = `  → ${saved.deviceId}${saved.created ? ' (new)' : ''}${saved.movedFrom ? ` (moved from ${saved.movedFrom})` : ''}`;
  }
  const lines = [
    `✓ ${o.address}  ${title}${fw}${kind}${savedText}`,
    `  ${identityLine(r)}`,
    `  endpoint: ${deviceValue(r.endpointUuid)}   clock offset: ${formatOffset(r.clock?.offsetMs !== undefined ? Math.round(r.clock.offsetMs) : undefined)}`,
  ];
  const cameraIdOf = (channel: number) => saved?.cameras.find((c) => c.channel === channel)?.id;
  const rows = r.channels.map((ch) => ({ camera: saved ? orDash(cameraIdOf(ch.channel)) : undefined, channel: ch.channel, profiles: ch.profiles }));
  return lines.join('\n') + '\n' + profilesTable(rows);
}

/** A discovery outcome as `discover --json` prints it. */
export function publicOutcome(o: SweepOutcome, saved?: UpsertResult) {
  if (!o.report) return { address: o.address, source: o.target.source, ok: false, error: o.error };
  const r = o.report;
  return {
    address: o.address,
    source: o.target.source,
    ok: true,
    ...(saved ? { deviceId: saved.deviceId, created: saved.created, movedFrom: saved.movedFrom ?? null, pendingMove: saved.pendingMove ?? null } : {}),
    driver: r.driver,
    host: r.host,
    port: r.port,
    url: redactUrl(r.url),
    endpointUuid: r.endpointUuid ?? null,
    ...r.identity,
    isNvr: r.isNvr,
    clockOffsetMs: r.clock ? Math.round(r.clock.offsetMs) : null,
    scopes: r.scopes ?? [],
    channels: r.channels.map((ch) => ({
      channel: ch.channel,
      ...(saved ? { cameraId: saved.cameras.find((c) => c.channel === ch.channel)?.id ?? null } : {}),
      videoSourceToken: ch.videoSourceToken ?? null,
      profiles: ch.profiles.map(publicProfile),
    })),
    durationMs: o.durationMs,
  };
}
