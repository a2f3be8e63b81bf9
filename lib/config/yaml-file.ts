// Reads a YAML config file, keeping line numbers so errors can point at the line to fix.
import { readFileSync } from 'node:fs';
import { isMap, isScalar, LineCounter, parseDocument, Node as YamlNode } from 'yaml';
import type { PlainObject } from './layers';

export interface ParsedYaml {
  values: PlainObject;
  lineOf: (segments: string[]) => number | undefined;
}

/** Parses YAML text; throws Error(lines) with "FILE:LINE: problem" for syntax errors. */
export function parseYamlConfig(text: string, file: string): ParsedYaml {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter });
  if (doc.errors.length > 0) {
    const lines = doc.errors.map((e) => {
      const pos = e.linePos?.[0];
      return `${file}${pos ? `:${pos.line}` : ''}: ${e.message.split('\n')[0].replace(/ at line \d+, column \d+:?$/, '')}`;
    });
    throw new Error(lines.join('\n'));
  }
  const values: unknown = doc.toJS() ?? {};
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

export function readYamlConfig(file: string): ParsedYaml {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    const why = code === 'ENOENT' ? 'no such file' : code === 'EACCES' ? 'permission denied' : (err as Error).message;
    throw new Error(`cannot read config file ${file}: ${why}`, { cause: err });
  }
  return parseYamlConfig(text, file);
}
