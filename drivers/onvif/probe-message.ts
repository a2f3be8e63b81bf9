// WS-Discovery (2005/04, the version ONVIF uses) Probe construction and ProbeMatches parsing.
import { randomUUID } from 'node:crypto';
import { DriverError } from '../types';
import { parseXml, soapBody, child, childrenNamed, descendant, textOf } from '../xml';
import { normalizeEndpointUuid } from '../ids';

export interface ProbeMatch {
  /** "urn:uuid:<lower-case>", normalised from "uuid:..." / "urn:uuid:..." / a bare uuid. */
  endpointUuid: string;
  /** Every XAddr the device listed (it may list several, including IPv6 link-local). */
  xaddrs: string[];
  /** Scopes, %-decoded. */
  scopes: string[];
  types: string[];
  /** The IP address the answer came from: the one to talk to. */
  from: string;
  /** Interface the answer arrived on, when the probe was sent on a specific interface. */
  via?: string;
}

// ONVIF Core 7.3: devices must match tds:Device; cameras also match dn:NetworkVideoTransmitter.
// Some firmwares answer only one of the two, so we probe for both (dedup folds the doubles).
export const PROBE_TYPES: readonly string[] = ['dn:NetworkVideoTransmitter', 'tds:Device'];

/** A Probe message. The namespace prefix used in Types must be declared on the Probe. */
export function buildProbe(type: string, messageId = `urn:uuid:${randomUUID()}`): Buffer {
  return Buffer.from(
    '<?xml version="1.0" encoding="UTF-8"?>' +
      '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"' +
      ' xmlns:a="http://schemas.xmlsoap.org/ws/2004/08/addressing"' +
      ' xmlns:d="http://schemas.xmlsoap.org/ws/2005/04/discovery"' +
      ' xmlns:dn="http://www.onvif.org/ver10/network/wsdl"' +
      ' xmlns:tds="http://www.onvif.org/ver10/device/wsdl">' +
      '<s:Header>' +
      `<a:MessageID>${messageId}</a:MessageID>` +
      '<a:To s:mustUnderstand="1">urn:schemas-xmlsoap-org:ws:2005:04:discovery</a:To>' +
      '<a:Action s:mustUnderstand="1">http://schemas.xmlsoap.org/ws/2005/04/discovery/Probe</a:Action>' +
      '<a:ReplyTo><a:Address>http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</a:Address></a:ReplyTo>' +
      '</s:Header>' +
      `<s:Body><d:Probe><d:Types>${type}</d:Types></d:Probe></s:Body>` +
      '</s:Envelope>',
    'utf8',
  );
}

function splitList(text: string | undefined): string[] {
  return text ? text.split(/\s+/).filter((s) => s !== '') : [];
}

function percentDecode(s: string): string {
  try {
    return decodeURIComponent(s);
  } catch {
    return s; // a stray "%" in a vendor scope: keep it as sent rather than drop the scope
  }
}

export type ProbeAnswer =
  { ok: true; matches: ProbeMatch[] } | { ok: false; reason: 'oversized' | 'unsafe-xml' | 'malformed' | 'not-probe-match' | 'no-endpoint' };

/** Parse one UDP answer. Never throws: junk is reported as a reason for the debug counters. */
export function parseProbeAnswer(payload: Buffer, from: string, maxBytes: number, via?: string): ProbeAnswer {
  if (payload.length > maxBytes) return { ok: false, reason: 'oversized' };
  let root;
  try {
    root = parseXml(payload.toString('utf8'), { maxBytes, source: from });
  } catch (err) {
    if (err instanceof DriverError && err.code === 'unsafe-xml') return { ok: false, reason: 'unsafe-xml' };
    if (err instanceof DriverError && err.code === 'too-large') return { ok: false, reason: 'oversized' };
    return { ok: false, reason: 'malformed' };
  }
  const container = child(soapBody(root), 'ProbeMatches');
  if (!container) return { ok: false, reason: 'not-probe-match' };
  const matches: ProbeMatch[] = [];
  for (const pm of childrenNamed(container, 'ProbeMatch')) {
    const address = textOf(descendant(child(pm, 'EndpointReference'), 'Address'));
    if (!address) continue;
    matches.push({
      // A device that sends the all-zero uuid is still listed; it is matched by address instead.
      endpointUuid: normalizeEndpointUuid(address) ?? address.trim().toLowerCase(),
      xaddrs: splitList(textOf(child(pm, 'XAddrs'))),
      scopes: splitList(textOf(child(pm, 'Scopes'))).map(percentDecode),
      types: splitList(textOf(child(pm, 'Types'))),
      from,
      ...(via ? { via } : {}),
    });
  }
  if (matches.length === 0) return { ok: false, reason: 'no-endpoint' };
  return { ok: true, matches };
}
