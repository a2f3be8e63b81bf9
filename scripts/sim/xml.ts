// XML helpers for the simulator: escaping for the response templates, and a namespace-aware
// reader for requests (real clients use any prefix, so elements are matched by namespace URI
// and local name, never by prefix).
import { XMLParser, XMLValidator } from 'fast-xml-parser';

export function escapeXml(value: string | number | boolean): string {
  return String(value).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;').replace(/'/g, '&apos;');
}

export interface XmlElement {
  /** Qualified name as written, e.g. "s:Envelope". */
  name: string;
  /** Namespace URI ('' when none is in scope). */
  ns: string;
  local: string;
  /** Attributes by qualified name as written. */
  attrs: Record<string, string>;
  children: XmlElement[];
  /** Concatenated, trimmed text content of this element (not of its descendants). */
  text: string;
}

export class XmlRejected extends Error {
  constructor(
    message: string,
    /** 'doctype': the document declares a DTD (entity expansion attacks); 'malformed': not well-formed. */
    readonly reason: 'doctype' | 'malformed',
  ) {
    super(message);
    this.name = 'XmlRejected';
  }
}

// fast-xml-parser's preserveOrder output: each node is { tagName: children[], ':@'?: attrs } or { '#text': string }.
type OrderedNode = Record<string, unknown>;

const parser = new XMLParser({
  preserveOrder: true,
  ignoreAttributes: false,
  attributeNamePrefix: '',
  parseTagValue: false,
  parseAttributeValue: false,
  trimValues: true,
  processEntities: true, // only the predefined entities: documents with a DTD never get here
});

/** Parses a request document; refuses any DOCTYPE (no DTDs in SOAP, and billion-laughs protection). */
export function parseXml(text: string): XmlElement {
  if (/<!DOCTYPE/i.test(text) || /<!ENTITY/i.test(text)) {
    throw new XmlRejected('DTD/DOCTYPE is not allowed in SOAP messages', 'doctype');
  }
  const valid = XMLValidator.validate(text);
  if (valid !== true) {
    throw new XmlRejected(`not well-formed XML: ${valid.err.msg} (line ${valid.err.line})`, 'malformed');
  }
  const nodes = parser.parse(text) as OrderedNode[];
  const root = nodes.map((n) => toElement(n, new Map())).find((e): e is XmlElement => e !== null);
  if (!root) throw new XmlRejected('no root element', 'malformed');
  return root;
}

function toElement(node: OrderedNode, parentScope: ReadonlyMap<string, string>): XmlElement | null {
  const name = Object.keys(node).find((k) => k !== ':@' && k !== '#text' && !k.startsWith('?'));
  if (name === undefined) return null;
  const attrs = readAttrs(node[':@']);
  const scope = new Map(parentScope);
  for (const [attr, value] of Object.entries(attrs)) {
    if (attr === 'xmlns') scope.set('', value);
    else if (attr.startsWith('xmlns:')) scope.set(attr.slice(6), value);
  }
  const colon = name.indexOf(':');
  const prefix = colon >= 0 ? name.slice(0, colon) : '';
  const local = colon >= 0 ? name.slice(colon + 1) : name;
  const rawChildren = node[name];
  const children: XmlElement[] = [];
  const texts: string[] = [];
  if (Array.isArray(rawChildren)) {
    for (const child of rawChildren as OrderedNode[]) {
      if (typeof child['#text'] === 'string' || typeof child['#text'] === 'number') texts.push(String(child['#text']));
      else {
        const el = toElement(child, scope);
        if (el) children.push(el);
      }
    }
  }
  return { name, ns: scope.get(prefix) ?? '', local, attrs, children, text: texts.join('').trim() };
}

function readAttrs(raw: unknown): Record<string, string> {
  const out: Record<string, string> = {};
  if (raw && typeof raw === 'object') {
    for (const [k, v] of Object.entries(raw as Record<string, unknown>)) out[k] = String(v);
  }
  return out;
}

export function child(el: XmlElement | undefined, ns: string, local: string): XmlElement | undefined {
  return el?.children.find((c) => c.local === local && c.ns === ns);
}

/** First descendant (depth-first) with this namespace and local name. */
export function descendant(el: XmlElement | undefined, ns: string, local: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) {
    if (c.local === local && c.ns === ns) return c;
    const found = descendant(c, ns, local);
    if (found) return found;
  }
  return undefined;
}

/** Attribute by local name, whatever its prefix. */
export function attr(el: XmlElement | undefined, local: string): string | undefined {
  if (!el) return undefined;
  for (const [k, v] of Object.entries(el.attrs)) {
    if (k === local || k.endsWith(`:${local}`)) return v;
  }
  return undefined;
}
