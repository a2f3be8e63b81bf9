// Device-reported URIs: cleaned of what devices do to them inside XML, checked (a camera decides
// what it answers to GetStreamUri: file:///etc/passwd is as easy to send as rtsp://), and pointed
// at the address that actually answered.
import { formatUrl, redactUrl, splitUrl } from '../lib/url';
import { printableLine } from '../lib/text';

/** What a URI is for: a stream is pulled by ffmpeg over RTSP, a snapshot fetched over HTTP. */
export type DeviceUriKind = 'stream' | 'snapshot';

/** The schemes the agent uses for each kind; anything else a device reports is refused. */
export const DEVICE_URI_SCHEMES: Record<DeviceUriKind, readonly string[]> = {
  stream: ['rtsp', 'rtsps'],
  snapshot: ['http', 'https'],
};

/** Longer URIs are refused: honest ones are a few hundred characters. */
export const DEVICE_URI_MAX_CHARS = 4096;

/** The URI to use, or why the device's answer cannot be used (one line, for people). */
export type CheckedDeviceUri = { uri: string; problem?: undefined } | { uri?: undefined; problem: string };

/** Undo what devices do to URIs inside XML: surrounding/embedded whitespace and newlines
 * (Dahua "formatted"), and extra levels of &amp; escaping (the XML parser already removed one;
 * a literal "&amp;" never belongs in a stream URL). */
export function cleanUri(raw: string): string {
  let s = raw.replace(/\s+/g, '');
  for (let i = 0; i < 4 && /&amp;/i.test(s); i++) s = s.replace(/&amp;/gi, '&');
  return s;
}

/**
 * A device-reported URI checked and rewritten to point at the address that actually answered:
 * host replaced, port and path kept, credentials removed. Refused, with the reason, when it is
 * empty, too long, not an absolute URL, or of a scheme the agent does not use for this kind
 * (rtsp/rtsps streams, http/https snapshots): we neither follow the device's host blindly nor
 * invent a URI, nor hand ffmpeg a file:// or any other protocol a camera names.
 */
export function checkDeviceUri(raw: string, answeringHost: string, kind: DeviceUriKind): CheckedDeviceUri {
  const what = `${kind} URI`;
  if (raw.length > DEVICE_URI_MAX_CHARS * 2)
    return { problem: `the device reported a ${what} of ${raw.length} characters; at most ${DEVICE_URI_MAX_CHARS} are used` };
  const cleaned = cleanUri(raw);
  if (cleaned === '') return { problem: `the device reported an empty ${what}` };
  if (cleaned.length > DEVICE_URI_MAX_CHARS) {
    return { problem: `the device reported a ${what} of ${cleaned.length} characters; at most ${DEVICE_URI_MAX_CHARS} are used` };
  }
  const shown = JSON.stringify(printableLine(redactUrl(cleaned), 160));
  const parts = splitUrl(cleaned);
  if (!parts) return { problem: `the device reported ${what} ${shown}, which is not an absolute URL (scheme://host/...)` };
  const schemes = DEVICE_URI_SCHEMES[kind];
  if (!schemes.includes(parts.scheme)) {
    return { problem: `the device reported ${what} ${shown}: refused, only ${schemes.map((s) => `${s}://`).join(' and ')} ${what}s are used` };
  }
  return { uri: formatUrl({ ...parts, userinfo: undefined, host: answeringHost.replace(/^\[|\]$/g, '') }) };
}

/** checkDeviceUri's URI, or undefined when refused. Without a kind, any of the schemes a device
 * URI may have (rtsp, rtsps, http, https) is accepted. */
export function rewriteDeviceUri(raw: string, answeringHost: string, kind?: DeviceUriKind): string | undefined {
  if (kind) return checkDeviceUri(raw, answeringHost, kind).uri;
  const asStream = checkDeviceUri(raw, answeringHost, 'stream');
  return asStream.uri ?? checkDeviceUri(raw, answeringHost, 'snapshot').uri;
}
