// Commander options generated from a config schema: one per key (--discovery.timeout-ms), plus
// the friendly aliases its schema names (x-flag-alias: --site, --broker, --db, --log-level).
import { Command, Option } from 'commander';
import type { TSchema } from '@sinclair/typebox';
import type { ConfigKey } from './keys';
import type { FlagValue } from './layers';
import type { ConfigSpec } from './spec';

export function configFlagGroup(spec: ConfigSpec<TSchema>): string {
  return `Config keys (each also a ${spec.env.prefix}* variable; see \`camgate config keys\`):`;
}

/** Lists may be repeated (--discovery.ranges A --discovery.ranges B) or comma-separated. */
function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

function placeholder(key: ConfigKey): string {
  switch (key.type) {
    case 'boolean':
      return '[true|false]';
    case 'integer':
    case 'number':
      return '<n>';
    case 'array':
      return '<value>';
    default:
      return key.secret ? '<secret>' : '<value>';
  }
}

interface Binding {
  key: ConfigKey;
  option: Option;
}

const bindings = new WeakMap<Command, Binding[]>();

function makeOption(flag: string, key: ConfigKey, description: string): Option {
  const option = new Option(`${flag} ${placeholder(key)}`, description);
  if (key.type === 'array') option.argParser(collect);
  return option;
}

export function addConfigOptions(program: Command, spec: ConfigSpec<TSchema>): void {
  const list: Binding[] = [];
  const group = configFlagGroup(spec);
  for (const key of spec.keys) {
    if (key.flagAlias && key.flagAlias !== key.flag) {
      let text = key.description.split('. ')[0].replace(/\.$/, '');
      if (key.secret) text += ' (visible in process lists: prefer the environment; "-" reads it from stdin)';
      const alias = makeOption(key.flagAlias, key, `${text} [${key.path}]`);
      program.addOption(alias);
      list.push({ key, option: alias });
    }
    const defaultText = key.default !== undefined ? ` (default: ${JSON.stringify(key.default)})` : '';
    const generated = makeOption(key.flag, key, `${key.env}${defaultText}`).helpGroup(group);
    program.addOption(generated);
    list.push({ key, option: generated });
  }
  bindings.set(program, list);
}

/** The config flags actually given on the command line (alias first, so the specific flag wins). */
export function configFlagValues(program: Command): FlagValue[] {
  const out: FlagValue[] = [];
  for (const { key, option } of bindings.get(program) ?? []) {
    const attr = option.attributeName();
    if (program.getOptionValueSource(attr) !== 'cli') continue;
    const raw = program.getOptionValue(attr) as string | string[] | boolean;
    out.push({ key, raw, flag: option.long ?? option.flags });
  }
  return out;
}

/** Whether a config key was given as a flag (e.g. --password on `cameras add` means "this device's"). */
export function flagGiven(program: Command, path: string): FlagValue | undefined {
  return configFlagValues(program)
    .filter((f) => f.key.path === path)
    .pop();
}
