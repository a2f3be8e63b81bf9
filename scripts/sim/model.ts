// Turns a SimCameraSpec into the full description of one simulated device: defaults from the
// vendor profile, identity derived from the host, and its media profiles. Everything is fixed
// except a profile's govLength (SetVideoEncoderConfiguration changes it).
import { createHash } from 'node:crypto';
import type { RunningSimCamera, SimCameraSpec, SimFault, SimPicture } from './types';
import { VENDORS, type VendorProfile } from './vendors';

export type ResolvedSpec = RunningSimCamera['spec'];

export const SIM_PICTURES: readonly SimPicture[] = ['moving', 'black', 'frozen', 'blue', 'clock'];
export const SIM_FAULTS: readonly SimFault[] = [
  'garbage',
  'truncated',
  'hang',
  'huge',
  'doctype',
  'not-onvif',
  'rtsp-garbage',
  'rtsp-hang',
  'snapshot-huge',
  'snapshot-not-image',
];

/** Faults that leave the device's streams on the shared RTSP server working. */
export function streamsWork(fault: SimFault | undefined): boolean {
  return fault === undefined || fault === 'snapshot-huge' || fault === 'snapshot-not-image';
}

/** Faults served on a TCP port of the device's own (instead of the shared RTSP server). */
export function rtspFaultOf(fault: SimFault | undefined): 'rtsp-garbage' | 'rtsp-hang' | undefined {
  return fault === 'rtsp-garbage' || fault === 'rtsp-hang' ? fault : undefined;
}
export type StreamKind = 'main' | 'sub';

export interface StreamProfile {
  token: string;
  channel: number;
  stream: StreamKind;
  width: number;
  height: number;
  fps: number;
  codec: 'H264' | 'H265';
  bitrateKbps: number;
  /** Keyframe interval in frames (ONVIF GovLength). Mutable: SetVideoEncoderConfiguration sets it,
   * and the RTSP mount's encoder follows. Default fps * 2 (a keyframe every 2 s). */
  govLength: number;
}

/** Bounds SetVideoEncoderConfiguration accepts for GovLength (a camera's GovLengthRange). */
export const GOV_LENGTH_MIN = 1;
export const GOV_LENGTH_MAX = 400;

export interface DeviceModel {
  spec: ResolvedSpec;
  id: string;
  vendor: VendorProfile;
  /** Host written into XAddrs and URIs (may differ from spec.host: NAT quirk). */
  reportedHost: string;
  name: string;
  hostname: string;
  rebootDowntimeMs: number;
  /** false: SetSynchronizationPoint is answered with ter:ActionNotSupported (spec.keyframeRequests). */
  keyframeRequests: boolean;
  profiles: StreamProfile[];
}

export function parseIpv4(text: string): [number, number, number, number] | null {
  const m = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/.exec(text);
  if (!m) return null;
  const octets = m.slice(1).map(Number) as [number, number, number, number];
  return octets.every((o) => o <= 255) ? octets : null;
}

export function isLoopbackIpv4(text: string): boolean {
  const o = parseIpv4(text);
  return o !== null && o[0] === 127;
}

/** Name-based (v5-style) UUID so a device keeps its identity across runs. */
function stableUuid(seed: string): string {
  const h = createHash('sha1').update(`camgate-sim:${seed}`).digest('hex');
  const variant = ((parseInt(h[16] ?? '0', 16) & 0x3) | 0x8).toString(16);
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-5${h.slice(13, 16)}-${variant}${h.slice(17, 20)}-${h.slice(20, 32)}`;
}

const hex2 = (n: number): string => n.toString(16).padStart(2, '0');

/** Frame rates a simulated stream may have: what cameras send (1 fps time-lapse to 60 fps). */
export const SIM_FPS_MIN = 1;
export const SIM_FPS_MAX = 60;

function checkedFps(name: string, value: unknown, fallback: number): number {
  if (value === undefined) return fallback;
  if (typeof value !== 'number' || !Number.isFinite(value) || value < SIM_FPS_MIN || value > SIM_FPS_MAX) {
    throw new Error(
      `${name} must be a number of frames per second from ${SIM_FPS_MIN} to ${SIM_FPS_MAX} (fractions such as 12.5 allowed), got ${JSON.stringify(value)}`,
    );
  }
  return value;
}

/** A keyframe every 2 s, in whole frames (12.5 fps: 25). */
function twoSecondsOf(fps: number): number {
  return Math.max(1, Math.round(fps * 2));
}

export function resolveCamera(input: SimCameraSpec): DeviceModel {
  const octets = parseIpv4(input.host);
  if (!octets || octets[0] !== 127) {
    // Loopback only: a simulated camera must never make the box answer on a real network.
    throw new Error(`simulated camera host must be an IPv4 loopback address (127.x.y.z), got "${input.host}"`);
  }
  const [, b, c, d] = octets;
  const vendorName = input.vendor ?? 'generic';
  const vendor = VENDORS[vendorName];
  if (!vendor) throw new Error(`unknown simulated vendor "${String(vendorName)}"`);
  if (input.picture !== undefined && !SIM_PICTURES.includes(input.picture)) {
    throw new Error(`unknown picture "${String(input.picture)}" (expected ${SIM_PICTURES.join(', ')})`);
  }
  if (input.fault !== undefined && !SIM_FAULTS.includes(input.fault)) {
    throw new Error(`unknown fault "${String(input.fault)}" (expected ${SIM_FAULTS.join(', ')})`);
  }
  if (input.keyframeRequests !== undefined && typeof input.keyframeRequests !== 'boolean') {
    throw new Error(`keyframeRequests must be a boolean, got ${JSON.stringify(input.keyframeRequests)}`);
  }
  const mainFps = checkedFps('mainFps', input.mainFps, 25);
  const subFps = checkedFps('subFps', input.subFps, 15);
  const channels = input.channels ?? vendor.channels;
  if (!Number.isInteger(channels) || channels < 1 || channels > 64) {
    throw new Error(`channels must be an integer 1..64, got ${channels}`);
  }
  const spec: ResolvedSpec = {
    ...input,
    host: input.host,
    vendor: vendorName,
    httpPort: input.httpPort ?? vendor.httpPort,
    username: input.username ?? 'admin',
    password: input.password ?? 'admin123',
    auth: input.auth ?? vendor.auth,
    channels,
    codec: input.codec ?? vendor.codec,
    uuid: input.uuid ?? stableUuid(input.host),
    serial: input.serial ?? vendor.serial(b, c, d),
    mac: input.mac ?? `${vendor.macPrefix}:${hex2(b)}:${hex2(c)}:${hex2(d)}`,
    model: input.model ?? vendor.model,
    firmware: input.firmware ?? vendor.firmware,
  };
  const id = input.id ?? `cam-${input.host.replace(/\./g, '-')}`;
  if (!/^[A-Za-z0-9._-]+$/.test(id)) throw new Error(`camera id "${id}" must match [A-Za-z0-9._-]+ (it is an RTSP path segment)`);
  const reportedHost = input.reportedHost ?? input.host;
  const profiles: StreamProfile[] = [];
  for (let ch = 1; ch <= channels; ch++) {
    profiles.push({
      token: vendor.profileToken(ch, 'main'),
      channel: ch,
      stream: 'main',
      width: 1920,
      height: 1080,
      fps: mainFps,
      codec: spec.codec,
      bitrateKbps: 4096,
      govLength: twoSecondsOf(mainFps),
    });
    // Sub streams are H.264 on every vendor, as on most real cameras.
    profiles.push({
      token: vendor.profileToken(ch, 'sub'),
      channel: ch,
      stream: 'sub',
      width: 640,
      height: 360,
      fps: subFps,
      codec: 'H264',
      bitrateKbps: 512,
      govLength: twoSecondsOf(subFps),
    });
  }
  return {
    spec,
    id,
    vendor,
    reportedHost,
    name: input.name ?? vendor.scopeName,
    hostname: `${vendor.manufacturer.toLowerCase().replace(/[^a-z0-9]+/g, '-')}-${b}-${c}-${d}`,
    rebootDowntimeMs: input.rebootDowntimeMs ?? 2000,
    keyframeRequests: input.keyframeRequests !== false,
    profiles,
  };
}

/** "http://host:port/path" (port always written, as in the contract's example xaddr). */
export function httpUrl(host: string, port: number, path: string): string {
  return `http://${host}:${port}${path}`;
}

/** `count` loopback addresses after `subnet` (e.g. 127.20.0.0 -> 127.20.0.1, ...), skipping .0 and .255. */
export function loopbackHosts(subnet: string, count: number): string[] {
  const o = parseIpv4(subnet);
  if (!o || o[0] !== 127) throw new Error(`subnet must be a 127.x.y.z address, got "${subnet}"`);
  let n = ((o[1] << 16) | (o[2] << 8) | o[3]) >>> 0;
  const hosts: string[] = [];
  while (hosts.length < count) {
    n++;
    if (n > 0xffffff) throw new Error(`not enough addresses in 127.0.0.0/8 after ${subnet}`);
    const last = n & 0xff;
    if (last === 0 || last === 255) continue;
    hosts.push(`127.${(n >> 16) & 0xff}.${(n >> 8) & 0xff}.${last}`);
  }
  return hosts;
}
