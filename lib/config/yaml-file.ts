// Reads a YAML config file, keeping line numbers so errors can point at the line to fix.
// The file is outside input too (a copied example, a file edited over a remote shell, a path
// pointed at the wrong thing): its size is capped before it is read, it must be UTF-8, and the
// document's shape is checked before it becomes objects — no key that would reach
// Object.prototype, no alias that contains itself, no alias bomb, no absurd nesting.
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import type { Document, LineCounter, Node as YamlNode } from 'yaml';
import { UNSAFE_KEYS, type PlainObject } from './layers';
import { decodeUtf8, describeUtf8Problem } from '../text';

export interface ParsedYaml {
  values: PlainObject;
  lineOf: (segments: string[]) => number | undefined;
}

/** Largest configuration file read: real ones are a few KiB. */
export const CONFIG_MAX_BYTES = 1024 * 1024;
/** Aliases (*name) resolved per document at most, counting what they expand to (the yaml package's measure). */
const MAX_ALIAS_COUNT = 100;
/** Deepest nesting of mappings and lists (the schema needs four levels). */
const MAX_DEPTH = 32;

// The yaml package (~0.6 MB of heap) is loaded with the first file read: `camgate run` without
// --config never needs it.
const yaml = () => require('yaml') as typeof import('yaml');

const size = (bytes: number) => (bytes >= 1024 * 1024 ? `${Number((bytes / (1024 * 1024)).toFixed(1))} MiB` : `${Math.ceil(bytes / 1024)} KiB`);

/** Problems of the document's shape, as "FILE:LINE: problem" lines. */
function shapeProblems(doc: Document.Parsed, lineCounter: LineCounter, file: string): string[] {
  const { isAlias, isMap, isPair, isScalar, isSeq } = yaml();
  const problems: string[] = [];
  const at = (node: { range?: [number, number, number] | null } | null | undefined) =>
    node?.range ? `${file}:${lineCounter.linePos(node.range[0]).line}` : file;
  const walk = (node: unknown, path: string[], ancestors: unknown[]): void => {
    if (problems.length >= 20) return;
    if (isAlias(node)) {
      const target = node.resolve(doc);
      if (target && ancestors.includes(target)) {
        problems.push(`${at(node)}: alias *${node.source} refers to a node that contains it (a loop); repeat the values instead`);
      }
      return;
    }
    if (!isMap(node) && !isSeq(node)) return;
    if (ancestors.length >= MAX_DEPTH) {
      problems.push(`${at(node)}: nested more than ${MAX_DEPTH} levels deep; a camgate config has a few levels (like "site:" then "id:")`);
      return;
    }
    const inside = [...ancestors, node];
    for (const item of node.items) {
      if (isPair(item)) {
        const key = isScalar(item.key) ? String(item.key.value) : undefined;
        if (key !== undefined && UNSAFE_KEYS.has(key)) {
          problems.push(
            `${at(item.key as YamlNode)}: key ${JSON.stringify([...path, key].join('.'))} is not allowed (it is not a setting, and such a key could change how every object behaves)`,
          );
          continue;
        }
        walk(item.key, path, inside);
        walk(item.value, key === undefined ? path : [...path, key], inside);
      } else {
        walk(item, path, inside);
      }
    }
  };
  walk(doc.contents, [], []);
  return problems;
}

/** Parses YAML text; throws Error(lines) with "FILE:LINE: problem" for syntax errors. */
export function parseYamlConfig(text: string, file: string): ParsedYaml {
  const { isMap, isScalar, LineCounter, parseDocument } = yaml();
  const lineCounter = new LineCounter();
  // merge: false: `<<` is an ordinary (unknown) key, not a way to splice aliases in.
  const doc = parseDocument(text, { lineCounter, merge: false });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `${file}${pos ? `:${pos.line}` : ''}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new Error(lines.join('\n'));
  }
  const problems = shapeProblems(doc, lineCounter, file);
  if (problems.length > 0) throw new Error(problems.join('\n'));
  let values: unknown;
  try {
    values = doc.toJS({ maxAliasCount: MAX_ALIAS_COUNT }) ?? {};
  } catch (err) {
    const why = /alias count/i.test((err as Error).message)
      ? `its aliases (*name) expand to too much data (more than ${MAX_ALIAS_COUNT} copies); write the values out instead`
      : (err as Error).message;
    throw new Error(`${file}: ${why}`, { cause: err });
  }
  if (typeof values !== 'object' || Array.isArray(values)) {
    throw new Error(`${file}: expected a mapping of keys at the top level (like "site:" and "discovery:")`);
  }
  const lineOf = (segments: string[]): number | undefined => {
    let node: unknown = doc.contents;
    let keyNode: YamlNode | undefined;
    for (const segment of segments) {
      if (!isMap(node)) return undefined;
      const pair = node.items.find((p) => isScalar(p.key) && String(p.key.value) === segment);
      if (!pair) return undefined;
      keyNode = pair.key as YamlNode;
      node = pair.value;
    }
    const offset = keyNode?.range?.[0];
    return offset === undefined ? undefined : lineCounter.linePos(offset).line;
  };
  return { values: values as PlainObject, lineOf };
}

/** At most `max` + 1 bytes of the file: enough to tell it is too large without reading it all. */
function readCapped(file: string, max: number): { bytes: Buffer; size: number } {
  const fd = openSync(file, 'r');
  try {
    const stat = fstatSync(fd);
    if (stat.isFile() && stat.size > max) return { bytes: Buffer.alloc(0), size: stat.size };
    const buf = Buffer.alloc(max + 1);
    let length = 0;
    while (length < buf.length) {
      const n = readSync(fd, buf, length, buf.length - length, null);
      if (n === 0) break;
      length += n;
    }
    return { bytes: buf.subarray(0, length), size: length };
  } finally {
    closeSync(fd);
  }
}

export function readYamlConfig(file: string): ParsedYaml {
  let read: { bytes: Buffer; size: number };
  try {
    read = readCapped(file, CONFIG_MAX_BYTES);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : code === 'EISDIR' ? 'is a directory' : (err as Error).message;
    throw new Error(`cannot read config file ${file}: ${why}`, { cause: err });
  }
  if (read.size > CONFIG_MAX_BYTES) {
    const shown = read.bytes.length > CONFIG_MAX_BYTES ? `more than ${size(CONFIG_MAX_BYTES)}` : size(read.size);
    throw new Error(`${file}: is ${shown}; a config file is at most ${size(CONFIG_MAX_BYTES)} (is --config pointing at the right file?)`);
  }
  const decoded = decodeUtf8(read.bytes);
  if (!decoded.ok) {
    throw new Error(`${file}:${decoded.problem.line}: ${describeUtf8Problem(decoded.problem)}; save the file as UTF-8 (other encodings are not read)`);
  }
  return parseYamlConfig(decoded.text, file);
}
