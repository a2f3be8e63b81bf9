// The effective config as shown to people: secrets replaced, so `config show` output can be
// pasted into a ticket or chat without leaking passwords.
import { configKeys } from './keys';
import { getPath, PlainObject, setPath } from './layers';
import type { AgentConfig } from './types';

export const MASK = '********';

export function maskedConfig(config: AgentConfig): PlainObject {
  const copy = structuredClone(config) as unknown as PlainObject;
  for (const key of configKeys()) {
    if (key.secret && getPath(copy, key.segments) !== undefined) setPath(copy, key.segments, MASK);
  }
  return copy;
}

/** Values of every secret key that is set, for log scrubbing. */
export function secretValues(config: AgentConfig): string[] {
  const out: string[] = [];
  for (const key of configKeys()) {
    const value = getPath(config, key.segments);
    if (key.secret && typeof value === 'string' && value !== '') out.push(value);
  }
  return out;
}
