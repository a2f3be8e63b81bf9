// Readers for ONVIF response elements (the child of the SOAP Body), from our safe XML tree.
// Every identity value stays the string the device sent, cut to DEVICE_FIELD_MAX_CHARS.
import type { ClockReading, DeviceIdentity, MediaProfile } from '../types';
import { type XmlElement, attr, child, childText, childrenNamed, descendant, descendants, textOf } from '../xml';
import { normalizeCodec, normalizeMac } from '../ids';
import { deviceField } from '../../lib/text';

export function parseDeviceInformation(resp: XmlElement): DeviceIdentity {
  const id: DeviceIdentity = {};
  const set = (key: keyof DeviceIdentity, element: string) => {
    const v = childText(resp, element);
    if (v !== undefined) id[key] = deviceField(v);
  };
  set('manufacturer', 'Manufacturer');
  set('model', 'Model');
  set('firmware', 'FirmwareVersion');
  set('serial', 'SerialNumber');
  set('hardwareId', 'HardwareId');
  return id;
}

/** MAC of the first enabled interface (or the first one at all) from GetNetworkInterfacesResponse. */
export function parseMac(resp: XmlElement): string | undefined {
  const ifaces = childrenNamed(resp, 'NetworkInterfaces');
  const enabled = ifaces.filter((i) => childText(i, 'Enabled') !== 'false');
  for (const i of [...enabled, ...ifaces]) {
    const hw = textOf(descendant(i, 'HwAddress'));
    const mac = hw ? normalizeMac(hw) : undefined;
    if (mac) return mac;
  }
  return undefined;
}

/** Device UTC time from GetSystemDateAndTimeResponse, ms since epoch. UTCDateTime only: the
 * TimeZone and LocalDateTime fields are free text and often contradictory. */
export function parseDeviceUtc(resp: XmlElement): { utcMs?: number; timeZone?: string } {
  const sdt = child(resp, 'SystemDateAndTime');
  const timeZone = textOf(descendant(child(sdt, 'TimeZone'), 'TZ'));
  const utc = child(sdt, 'UTCDateTime');
  const date = child(utc, 'Date');
  const time = child(utc, 'Time');
  const num = (el: XmlElement | undefined, name: string) => {
    const t = childText(el, name);
    return t !== undefined && /^\d+$/.test(t) ? Number(t) : NaN;
  };
  const parts = [num(date, 'Year'), num(date, 'Month'), num(date, 'Day'), num(time, 'Hour'), num(time, 'Minute'), num(time, 'Second')];
  if (parts.some((n) => Number.isNaN(n))) return { timeZone };
  const [y, mo, d, h, mi, s] = parts;
  const utcMs = Date.UTC(y, mo - 1, d, h, mi, s);
  return Number.isNaN(utcMs) ? { timeZone } : { utcMs, timeZone };
}

export function clockReading(deviceUtcMs: number, boxMs: number, timeZone?: string): ClockReading {
  return { deviceUtc: new Date(deviceUtcMs).toISOString(), offsetMs: deviceUtcMs - boxMs, ...(timeZone ? { timeZone } : {}) };
}

/** Service namespace → our service name, from GetServicesResponse. */
export function parseServices(resp: XmlElement): Record<string, string> {
  const out: Record<string, string> = {};
  for (const s of childrenNamed(resp, 'Service')) {
    const ns = childText(s, 'Namespace');
    const xaddr = childText(s, 'XAddr');
    if (!ns || !xaddr) continue;
    const m = /^https?:\/\/www\.onvif\.org\/(ver\d+)\/([^/]+)\/wsdl\/?$/.exec(ns);
    if (!m) continue;
    const name = m[2] === 'media' && m[1] === 'ver20' ? 'media2' : m[2];
    out[name] ??= xaddr;
  }
  return out;
}

/** Service XAddrs from GetCapabilitiesResponse (devices without GetServices). */
export function parseCapabilities(resp: XmlElement): Record<string, string> {
  const caps = child(resp, 'Capabilities');
  const out: Record<string, string> = {};
  for (const [name, path] of [
    ['device', ['Device']],
    ['media', ['Media']],
    ['events', ['Events']],
    ['imaging', ['Imaging']],
    ['ptz', ['PTZ']],
    ['deviceIO', ['Extension', 'DeviceIO']],
  ] as const) {
    let el: XmlElement | undefined = caps;
    for (const p of path) el = child(el, p);
    const x = childText(el, 'XAddr');
    if (x) out[name] = x;
  }
  return out;
}

/** A positive whole number from device text ("15", "3.000000"), rounded; undefined otherwise. */
export function positiveInt(text: string | undefined): number | undefined {
  if (text === undefined || !/^\d+(?:\.\d+)?$/.test(text)) return undefined;
  const n = Math.round(Number(text));
  return n > 0 ? n : undefined;
}

function encoderFields(enc: XmlElement | undefined): Pick<MediaProfile, 'codec' | 'width' | 'height' | 'fps' | 'bitrateKbps'> {
  if (!enc) return {};
  // Hikvision Media1: <VideoEncoderConfiguration encoding="H265"> beside <Encoding>H264</Encoding>.
  // The attribute carries the real codec (Media1's enum has no H265), so it wins.
  const codec = normalizeCodec(attr(enc, 'encoding')) ?? normalizeCodec(childText(enc, 'Encoding'));
  const res = child(enc, 'Resolution');
  const rate = child(enc, 'RateControl');
  const out: Pick<MediaProfile, 'codec' | 'width' | 'height' | 'fps' | 'bitrateKbps'> = {};
  if (codec) out.codec = codec;
  const width = positiveInt(childText(res, 'Width'));
  const height = positiveInt(childText(res, 'Height'));
  const fps = positiveInt(childText(rate, 'FrameRateLimit'));
  const bitrate = positiveInt(childText(rate, 'BitrateLimit'));
  if (width) out.width = width;
  if (height) out.height = height;
  if (fps) out.fps = fps;
  if (bitrate) out.bitrateKbps = bitrate;
  return out;
}

/** Video profiles from a Media1 or Media2 GetProfilesResponse. Profiles with neither a video
 * source nor a video encoder (audio/metadata only) are dropped. */
export function parseProfiles(resp: XmlElement): MediaProfile[] {
  const out: MediaProfile[] = [];
  for (const p of childrenNamed(resp, 'Profiles')) {
    const token = attr(p, 'token');
    if (!token) continue;
    const configs = child(p, 'Configurations'); // Media2 nests configurations one level down
    const vsc = configs ? child(configs, 'VideoSource') : child(p, 'VideoSourceConfiguration');
    const enc = configs ? child(configs, 'VideoEncoder') : child(p, 'VideoEncoderConfiguration');
    if (!vsc && !enc) continue;
    const profile: MediaProfile = { token };
    const name = childText(p, 'Name');
    if (name) profile.name = deviceField(name);
    const source = childText(vsc, 'SourceToken');
    if (source) profile.videoSourceToken = source;
    Object.assign(profile, encoderFields(enc));
    out.push(profile);
  }
  return out;
}

/** Video source tokens, in device order, from GetVideoSourcesResponse. */
export function parseVideoSources(resp: XmlElement): string[] {
  return childrenNamed(resp, 'VideoSources')
    .map((v) => attr(v, 'token'))
    .filter((t): t is string => !!t);
}

/** The raw URI from GetStreamUri/GetSnapshotUri (Media1 MediaUri/Uri, Media2 Uri). */
export function parseMediaUri(resp: XmlElement): string | undefined {
  const media1 = child(child(resp, 'MediaUri'), 'Uri');
  const el = media1 ?? child(resp, 'Uri') ?? descendants(resp, 'Uri')[0];
  // Not textOf(): cleaning (whitespace inside, &amp;) is the URI rewriter's job.
  return el && el.text.trim() !== '' ? el.text : undefined;
}

export function parseScopes(resp: XmlElement): string[] {
  return childrenNamed(resp, 'Scopes')
    .map((s) => childText(s, 'ScopeItem'))
    .filter((s): s is string => !!s);
}

export function parseEndpointReference(resp: XmlElement): string | undefined {
  return childText(resp, 'GUID');
}
