// Safe XML parsing for everything a device sends us (SOAP responses, WS-Discovery answers).
// Devices are untrusted: refuse DTDs outright (XXE, billion laughs), cap the size, and turn any
// parser failure into a DriverError so callers never see a foreign exception type.
import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { DriverError } from '../types';
import { printableLine } from '../../lib/text';

/** The parser's own words about a document quote the document (a tag name can be megabytes). */
const PARSER_MESSAGE_MAX_CHARS = 256;

/** One element, addressed by its local name: `s:Body`, `env:Body` and `SOAP-ENV:Body` all become `Body`. */
export interface XmlElement {
  name: string;
  /** Attributes by local name, values exactly as sent (never coerced to numbers/booleans). */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Direct text content (entities decoded, not trimmed). */
  text: string;
}

export interface ParseXmlOptions {
  /** Refuse documents larger than this many bytes (UTF-8). Default 2 MB. */
  maxBytes?: number;
  /** Names the sender in error messages, e.g. "127.0.0.5:80". */
  source?: string;
}

export const DEFAULT_MAX_XML_BYTES = 2 * 1024 * 1024;

// XML names are case-sensitive, but we refuse case-insensitively: a lower-case "<!doctype" is
// never legitimate in SOAP, and refusing costs nothing.
const DTD_MARKER = /<!\s*(?:DOCTYPE|ENTITY)/i;

/** True when the text declares a DTD or entities, i.e. something we never let a parser see. */
export function hasUnsafeDeclaration(text: string): boolean {
  return DTD_MARKER.test(text);
}

const parser = new XMLParser({
  preserveOrder: true, // keeps repeated elements in document order and uniform
  ignoreAttributes: false,
  attributeNamePrefix: '',
  removeNSPrefix: true, // match by local name regardless of prefix
  parseTagValue: false, // "1.00" stays "1.00"
  parseAttributeValue: false,
  trimValues: false,
  processEntities: true,
  htmlEntities: true, // needed for numeric character references (&#38;); decodes once, in order
});

function from(source?: string): string {
  return source ? ` from ${source}` : '';
}

/** Parse untrusted XML into a prefix-free element tree, or throw DriverError
 *  ('too-large' | 'unsafe-xml' | 'malformed'). Returns the document (root) element. */
export function parseXml(text: string, options: ParseXmlOptions = {}): XmlElement {
  const maxBytes = options.maxBytes ?? DEFAULT_MAX_XML_BYTES;
  // Cheap length check first: a UTF-8 string is never shorter in bytes than in UTF-16 units.
  if (text.length > maxBytes || Buffer.byteLength(text, 'utf8') > maxBytes) {
    throw new DriverError('too-large', `XML${from(options.source)} is larger than ${maxBytes} bytes`, options.source);
  }
  if (hasUnsafeDeclaration(text)) {
    throw new DriverError('unsafe-xml', `XML${from(options.source)} declares a DOCTYPE/ENTITY: refused`, options.source);
  }
  let raw: unknown;
  try {
    const valid = XMLValidator.validate(text);
    if (valid !== true) {
      const e = valid.err;
      const what = printableLine(e.msg, PARSER_MESSAGE_MAX_CHARS);
      throw new DriverError('malformed', `XML${from(options.source)} is not well-formed (line ${e.line}: ${what})`, options.source);
    }
    raw = parser.parse(text);
  } catch (err) {
    if (err instanceof DriverError) throw err;
    const msg = printableLine(err instanceof Error ? err.message : String(err), PARSER_MESSAGE_MAX_CHARS);
    throw new DriverError('malformed', `XML${from(options.source)} could not be parsed: ${msg}`, options.source, { cause: err });
  }
  const roots = convert(raw).filter((el) => !el.name.startsWith('?'));
  if (roots.length !== 1) {
    throw new DriverError('malformed', `XML${from(options.source)} has ${roots.length} root elements`, options.source);
  }
  return roots[0];
}

// fast-xml-parser's preserveOrder shape: [{ tagName: [...children], ':@': {attrs} }, { '#text': '...' }]
function convert(nodes: unknown): XmlElement[] {
  const out: XmlElement[] = [];
  if (!Array.isArray(nodes)) return out;
  for (const node of nodes) {
    if (node === null || typeof node !== 'object') continue;
    const record = node as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      if (key === ':@' || key === '#text' || key === '#comment') continue;
      const kids = record[key];
      const el: XmlElement = { name: key, attrs: {}, children: [], text: '' };
      const attrs = record[':@'];
      if (attrs && typeof attrs === 'object') {
        for (const [k, v] of Object.entries(attrs as Record<string, unknown>)) el.attrs[k] = String(v);
      }
      if (Array.isArray(kids)) {
        for (const kid of kids) {
          if (kid && typeof kid === 'object' && '#text' in kid) el.text += String((kid as Record<string, unknown>)['#text']);
        }
        el.children = convert(kids);
      }
      out.push(el);
    }
  }
  return out;
}
