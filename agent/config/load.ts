// Produces the effective configuration: defaults < file < CAMGATE_* environment < flags,
// validated as a whole so every problem is reported at once.
import { ConfigError } from '../errors';
import { configKeys } from './keys';
import { defaultsLayer, envLayer, fileLayer, FlagValue, flagLayer, Layer, mergeLayers } from './layers';
import { validateConfig } from './validate';
import { readYamlConfig } from './yaml-file';
import type { AgentConfig, ConfigSource } from './types';

export interface LoadConfigOptions {
  /** --config FILE (or CAMGATE_CONFIG; the caller decides). */
  file?: string;
  env: Record<string, string | undefined>;
  flags?: FlagValue[];
}

export interface LoadedConfig {
  config: AgentConfig;
  /** Dotted key → where its effective value came from. */
  sources: Map<string, ConfigSource>;
  file?: string;
  /** Non-fatal findings (unknown CAMGATE_* variables) for the caller to log. */
  warnings: string[];
}

export function loadConfig(options: LoadConfigOptions): LoadedConfig {
  const keys = configKeys();
  const layers: Layer[] = [defaultsLayer(keys)];
  if (options.file) {
    let parsed;
    try {
      parsed = readYamlConfig(options.file);
    } catch (err) {
      throw new ConfigError((err as Error).message.split('\n'));
    }
    layers.push(fileLayer(parsed.values, options.file, parsed.lineOf));
  }
  const env = envLayer(options.env, keys);
  layers.push(env.layer);
  layers.push(flagLayer(options.flags ?? []));
  const merged = mergeLayers(layers);
  const issues = validateConfig(merged.values, merged.sources);
  if (issues.length > 0) throw new ConfigError(issues);
  return { config: merged.values as unknown as AgentConfig, sources: merged.sources, file: options.file, warnings: env.warnings };
}
