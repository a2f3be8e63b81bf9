// SOAP 1.2 envelopes and faults as template strings. The envelope prefix follows the vendor
// (env:, s:, SOAP-ENV:) so clients that match by prefix break here as they would in the field.
import { escapeXml } from './xml';

export const NS = {
  soap12: 'http://www.w3.org/2003/05/soap-envelope',
  soap11: 'http://schemas.xmlsoap.org/soap/envelope/',
  tds: 'http://www.onvif.org/ver10/device/wsdl',
  trt: 'http://www.onvif.org/ver10/media/wsdl',
  tt: 'http://www.onvif.org/ver10/schema',
  ter: 'http://www.onvif.org/ver10/error',
  wsse: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-secext-1.0.xsd',
  wsu: 'http://docs.oasis-open.org/wss/2004/01/oasis-200401-wss-wssecurity-utility-1.0.xsd',
  wsa: 'http://schemas.xmlsoap.org/ws/2004/08/addressing',
  wsdd: 'http://schemas.xmlsoap.org/ws/2005/04/discovery',
  /** WS-Discovery 1.1 (2009): some clients probe with it; answers stay 2005/04 like cameras do. */
  wsdd11: 'http://docs.oasis-open.org/ws-dd/ns/discovery/2009/01',
  dn: 'http://www.onvif.org/ver10/network/wsdl',
} as const;

export interface EnvelopeStyle {
  prefix: string;
  /** Dahua-like: no whitespace between elements and standalone="yes". */
  compact: boolean;
}

export function envelope(style: EnvelopeStyle, body: string): string {
  const p = style.prefix;
  const decl = style.compact ? '<?xml version="1.0" encoding="utf-8" standalone="yes" ?>' : '<?xml version="1.0" encoding="UTF-8"?>\n';
  const xml =
    `${decl}<${p}:Envelope xmlns:${p}="${NS.soap12}" xmlns:tt="${NS.tt}" xmlns:tds="${NS.tds}" ` +
    `xmlns:trt="${NS.trt}" xmlns:ter="${NS.ter}">\n<${p}:Header/>\n<${p}:Body>\n${body}\n</${p}:Body>\n</${p}:Envelope>\n`;
  return style.compact ? compact(xml) : xml;
}

/** Drops whitespace between tags (Dahua sends one long line), but keeps text content. */
export function compact(xml: string): string {
  return xml.replace(/>\s+</g, '><').trim();
}

export type FaultCode = 'Sender' | 'Receiver' | 'VersionMismatch' | 'MustUnderstand';

export interface SoapFault {
  /** HTTP status: 400 for sender faults (and NotAuthorized), 500 for receiver faults. */
  status: number;
  code: FaultCode;
  /** Qualified ter: subcodes, outermost first, e.g. ['ter:ActionNotSupported']. */
  subcodes: string[];
  reason: string;
}

export function faultBody(style: EnvelopeStyle, fault: SoapFault): string {
  const p = style.prefix;
  let sub = '';
  for (const code of [...fault.subcodes].reverse()) {
    sub = `<${p}:Subcode><${p}:Value>${escapeXml(code)}</${p}:Value>${sub}</${p}:Subcode>`;
  }
  return (
    `<${p}:Fault><${p}:Code><${p}:Value>${p}:${fault.code}</${p}:Value>${sub}</${p}:Code>` +
    `<${p}:Reason><${p}:Text xml:lang="en">${escapeXml(fault.reason)}</${p}:Text></${p}:Reason></${p}:Fault>`
  );
}

export function faultEnvelope(style: EnvelopeStyle, fault: SoapFault): string {
  return envelope(style, faultBody(style, fault));
}

export const FAULTS = {
  notAuthorized: (): SoapFault => ({ status: 400, code: 'Sender', subcodes: ['ter:NotAuthorized'], reason: 'Sender not Authorized' }),
  actionNotSupported: (op: string): SoapFault => ({
    status: 500,
    code: 'Receiver',
    subcodes: ['ter:ActionNotSupported'],
    reason: `Optional Action Not Implemented: ${op}`,
  }),
  wellFormed: (why: string): SoapFault => ({ status: 400, code: 'Sender', subcodes: ['ter:WellFormed'], reason: why }),
  invalidArg: (subcode: string, why: string): SoapFault => ({ status: 400, code: 'Sender', subcodes: ['ter:InvalidArgVal', subcode], reason: why }),
  versionMismatch: (): SoapFault => ({ status: 400, code: 'VersionMismatch', subcodes: [], reason: 'SOAP 1.2 envelope expected' }),
};
