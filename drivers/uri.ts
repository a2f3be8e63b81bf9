// Device-reported URIs: cleaned of what devices do to them inside XML, and pointed at the
// address that actually answered.
import { formatUrl, splitUrl } from '../lib/url';

/** Undo what devices do to URIs inside XML: surrounding/embedded whitespace and newlines
 * (Dahua "formatted"), and extra levels of &amp; escaping (the XML parser already removed one;
 * a literal "&amp;" never belongs in a stream URL). */
export function cleanUri(raw: string): string {
  let s = raw.replace(/\s+/g, '');
  for (let i = 0; i < 4 && /&amp;/i.test(s); i++) s = s.replace(/&amp;/gi, '&');
  return s;
}

/** Rewrite a device-reported URI to point at the address that actually answered: host replaced,
 * port and path kept, credentials removed. Undefined when the URI cannot be parsed: we neither
 * follow the device's host blindly nor invent a URI. */
export function rewriteDeviceUri(raw: string, answeringHost: string): string | undefined {
  const cleaned = cleanUri(raw);
  if (cleaned === '') return undefined;
  const parts = splitUrl(cleaned);
  if (!parts) return undefined;
  return formatUrl({ ...parts, userinfo: undefined, host: answeringHost.replace(/^\[|\]$/g, '') });
}
