// Validation of what a person types to add a device: "host[:port]" for ONVIF, rtsp://... for
// RTSP-only cameras. Errors are TargetSpecError with a message fit to show as-is.
import ipaddr from 'ipaddr.js';
import type { Credentials } from './types';
import { TargetSpecError } from './onvif/targets';
import { splitUrl, formatUrl } from '../lib/url';

export interface OnvifTarget {
  kind: 'onvif';
  host: string;
  port?: number;
  path?: string;
}

export interface RtspTarget {
  kind: 'rtsp';
  url: string;
}

export type DeviceTarget = OnvifTarget | RtspTarget;

const HOSTNAME_RE = /^(?=.{1,253}$)[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?(?:\.[A-Z0-9](?:[A-Z0-9-]{0,61}[A-Z0-9])?)*\.?$/i;

function checkHost(host: string, input: string, bracketed: boolean): void {
  if (bracketed) {
    const bare = host.split('%')[0]; // zone id (fe80::1%eth0) is allowed for link-local
    if (!ipaddr.IPv6.isValid(bare)) throw new TargetSpecError(`"${input}": "${host}" is not an IPv6 address`);
    return;
  }
  if (/^[\d.]+$/.test(host)) {
    if (!ipaddr.IPv4.isValidFourPartDecimal(host)) throw new TargetSpecError(`"${input}": "${host}" is not an IPv4 address`);
    return;
  }
  if (!HOSTNAME_RE.test(host)) throw new TargetSpecError(`"${input}": "${host}" is not a valid host name or address`);
}

function checkPort(text: string, input: string): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) < 1 || Number(text) > 65535) {
    throw new TargetSpecError(`"${input}": port must be a number from 1 to 65535`);
  }
  return Number(text);
}

/** Parse "host", "host:port", "[v6]", "[v6]:port" or "http://host[:port]/path" into an ONVIF target. */
export function parseDeviceTarget(input: string): OnvifTarget {
  const text = input.trim();
  if (text === '') throw new TargetSpecError('no device address given; expected host[:port], e.g. 192.168.1.64 or [fe80::1]:80');
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(text)) {
    const parts = splitUrl(text);
    if (!parts || parts.scheme !== 'http') {
      throw new TargetSpecError(`"${input}": only http://host[:port]/path URLs (or plain host[:port]) are accepted for ONVIF devices`);
    }
    if (parts.userinfo !== undefined) throw new TargetSpecError(`"${input}": put credentials in the username/password options, not in the URL`);
    checkHost(parts.host, input, parts.host.includes(':'));
    const path = parts.rest === '' ? undefined : parts.rest;
    return { kind: 'onvif', host: parts.host, ...(parts.port ? { port: parts.port } : {}), ...(path ? { path } : {}) };
  }
  if (text.startsWith('[')) {
    const m = /^\[([^\]]+)\](?::(.*))?$/.exec(text);
    if (!m) throw new TargetSpecError(`"${input}": expected [IPv6] or [IPv6]:port`);
    checkHost(m[1], input, true);
    return { kind: 'onvif', host: m[1], ...(m[2] !== undefined ? { port: checkPort(m[2], input) } : {}) };
  }
  const colons = (text.match(/:/g) ?? []).length;
  if (colons > 1) {
    throw new TargetSpecError(`"${input}": IPv6 addresses must be in brackets, e.g. [${text}] or [${text}]:80`);
  }
  const [host, port] = text.split(':');
  checkHost(host, input, false);
  return { kind: 'onvif', host, ...(port !== undefined ? { port: checkPort(port, input) } : {}) };
}

export interface ParsedRtspUrl {
  host: string;
  port: number;
  /** Path and query as given, "/" when empty (the request target of RTSP methods is the full URL). */
  path: string;
  /** Credentials embedded in the URL (percent-decoded), if any. */
  credentials?: Credentials;
  /** The URL without credentials: what we store and show. */
  url: string;
}

function decodeUserinfo(text: string, input: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    throw new TargetSpecError(`"${redactForMessage(input)}": bad %-escape in the user name or password`);
  }
}

function redactForMessage(input: string): string {
  return input.replace(/\/\/[^/@\s]*@/g, '//');
}

/** Parse and validate an rtsp:// URL. Messages never repeat a password. */
export function parseRtspUrl(input: string): ParsedRtspUrl {
  const text = input.trim();
  const parts = splitUrl(text);
  if (!parts) throw new TargetSpecError(`"${redactForMessage(input)}" is not a URL; expected rtsp://[user:password@]host[:port]/path`);
  if (parts.scheme !== 'rtsp') {
    throw new TargetSpecError(`"${redactForMessage(input)}": only rtsp:// URLs are supported (got ${parts.scheme}://)`);
  }
  if (parts.host === '') throw new TargetSpecError(`"${redactForMessage(input)}": the URL has no host`);
  checkHost(parts.host, redactForMessage(input), parts.host.includes(':'));
  let credentials: Credentials | undefined;
  if (parts.userinfo !== undefined) {
    const colon = parts.userinfo.indexOf(':');
    const user = colon >= 0 ? parts.userinfo.slice(0, colon) : parts.userinfo;
    const pass = colon >= 0 ? parts.userinfo.slice(colon + 1) : '';
    credentials = { username: decodeUserinfo(user, input), password: decodeUserinfo(pass, input) };
  }
  const path = parts.rest === '' ? '/' : parts.rest;
  const url = formatUrl({ ...parts, userinfo: undefined, rest: path });
  return { host: parts.host, port: parts.port ?? 554, path, ...(credentials ? { credentials } : {}), url };
}
