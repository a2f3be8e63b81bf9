// Tiny query helpers over XmlElement, by local name. Devices nest the same data differently
// (Media1 vs Media2, vendor wrappers), so "first descendant named X" is usually what we want.
import type { XmlElement } from './safe-xml';

export function child(el: XmlElement | undefined, name: string): XmlElement | undefined {
  return el?.children.find((c) => c.name === name);
}

export function childrenNamed(el: XmlElement | undefined, name: string): XmlElement[] {
  return el ? el.children.filter((c) => c.name === name) : [];
}

/** Depth-first, document order; the element itself is not included. */
export function descendant(el: XmlElement | undefined, name: string): XmlElement | undefined {
  if (!el) return undefined;
  for (const c of el.children) {
    if (c.name === name) return c;
    const found = descendant(c, name);
    if (found) return found;
  }
  return undefined;
}

export function descendants(el: XmlElement | undefined, name: string, out: XmlElement[] = []): XmlElement[] {
  if (!el) return out;
  for (const c of el.children) {
    if (c.name === name) out.push(c);
    descendants(c, name, out);
  }
  return out;
}

/** Follow a path of child names: path(env, 'Body', 'GetStreamUriResponse', 'MediaUri'). */
export function path(el: XmlElement | undefined, ...names: string[]): XmlElement | undefined {
  let cur = el;
  for (const n of names) cur = child(cur, n);
  return cur;
}

/** Trimmed text of an element (direct text only); undefined when absent or empty. */
export function textOf(el: XmlElement | undefined): string | undefined {
  if (!el) return undefined;
  const t = el.text.trim();
  return t === '' ? undefined : t;
}

/** Trimmed text of the first child with that name. */
export function childText(el: XmlElement | undefined, name: string): string | undefined {
  return textOf(child(el, name));
}

/** Text or attribute value made safe inside XML we build (every markup character as a numeric reference). */
export function escapeXml(s: string): string {
  return s.replace(/[<>&'"]/g, (c) => `&#${c.charCodeAt(0)};`);
}

export function attr(el: XmlElement | undefined, name: string): string | undefined {
  return el?.attrs[name];
}
