// Per-command resources, created lazily and closed once: effective config, logger, inventory
// database, credential key. Also the only way commands print, so output is always scrubbed and
// never carries a raw control character (device text can hold terminal escape sequences).
import os from 'node:os';
import type { Command } from 'commander';
import type { Database } from 'better-sqlite3';
import type { Credentials } from '../../drivers/types';
import type { FlagValue, LoadedConfig } from '../../lib/config';
import { agentConfig } from '../config/spec';
import type { AgentConfig } from '../config/schema';
import { openDatabase } from '../inventory/open';
import { loadKey } from '../credentials/key';
import { deviceOrSiteCredentials, hasAnyCredentials, KeyProvider, siteDefaultCredentials } from '../credentials/store';
import { configFlagValues } from '../../lib/config/flags';
import type { CliIo } from './io';
import { SecretScrubber } from '../../lib/redact';
import { terminalSafe, trimEndChar } from '../../lib/text';
import { chooseLogFormat, createLogger, Logger } from '../../lib/log';

export class CommandContext {
  readonly scrubber = new SecretScrubber();
  private loaded?: LoadedConfig<AgentConfig>;
  private log?: Logger;
  private db?: Database;
  private key?: Buffer;

  constructor(
    readonly program: Command,
    readonly io: CliIo,
  ) {}

  /** --config, else CAMGATE_CONFIG. */
  configFile(): string | undefined {
    const flag = this.program.opts().config as string | undefined;
    return flag ?? (this.io.env.CAMGATE_CONFIG || undefined);
  }

  flagValues(): FlagValue[] {
    return configFlagValues(this.program).map((f) => {
      // "--password -" reads the secret from stdin, keeping it out of process lists.
      if (f.key.secret && f.raw === '-') return { ...f, raw: this.io.readStdin().replace(/\r?\n$/, '') };
      return f;
    });
  }

  get loadedConfig(): LoadedConfig<AgentConfig> {
    if (!this.loaded) {
      this.loaded = agentConfig.load({ file: this.configFile(), env: this.io.env, flags: this.flagValues() });
      this.scrubber.add(...agentConfig.secretValues(this.loaded.config));
      for (const w of this.loaded.warnings) this.warn(w);
    }
    return this.loaded;
  }

  get config() {
    return this.loadedConfig.config;
  }

  get logger(): Logger {
    if (!this.log) {
      const { level, format } = this.config.log;
      this.log = createLogger({
        level,
        format: chooseLogFormat(format, this.io.stderrIsTTY),
        colors: this.io.stderrHasColors,
        scrubber: this.scrubber,
        destination: this.io.stderr,
      });
    }
    return this.log;
  }

  get inventory(): Database {
    if (!this.db) this.db = openDatabase(this.config.dataDir);
    return this.db;
  }

  /** The credential key, created on first write; never created when stored credentials need the old one. */
  readonly keyProvider: KeyProvider = (purpose) => {
    if (!this.key) {
      const create = purpose === 'write' && !hasAnyCredentials(this.inventory);
      this.key = loadKey({ dataDir: this.config.dataDir, env: this.io.env, create });
    }
    return this.key;
  };

  /** The site default camera credentials from the config, if a username is set. */
  siteCredentials(): Credentials | undefined {
    return siteDefaultCredentials(this.config.cameras);
  }

  /** A device's own stored credentials, else the site default. */
  credentialsForDevice(deviceId: string | undefined): Credentials | undefined {
    const credentials = deviceOrSiteCredentials(this.inventory, deviceId, this.keyProvider, this.siteCredentials());
    if (credentials) this.scrubber.add(credentials.password);
    return credentials;
  }

  out(text: string): void {
    this.io.stdout.write(terminalSafe(this.scrubber.scrub(text)));
  }

  /** Progress and notes for people: stderr, so stdout stays clean for --json and exports. */
  note(text: string): void {
    this.io.stderr.write(terminalSafe(this.scrubber.scrub(text.endsWith('\n') ? text : text + '\n')));
  }

  warn(text: string): void {
    this.note(`camgate: warning: ${text}`);
  }

  /** The configured site id, or (embedded defaults) one derived from the host name, with a note. */
  siteId(): string {
    const configured = this.config.site.id;
    if (configured) return configured;
    const derived = siteIdFromHostname(os.hostname());
    this.note(`camgate: site.id is not set; using "${derived}" from the host name (set --site, CAMGATE_SITE_ID or site.id to choose one)`);
    this.config.site.id = derived;
    return derived;
  }

  close(): void {
    this.log?.flush();
    if (this.db?.open) this.db.close();
    this.db = undefined;
  }
}

/** Site ids go into MQTT topics: keep only letters, digits, '.', '_' and '-'. */
export function siteIdFromHostname(hostname: string): string {
  const cleaned = trimEndChar(hostname.replace(/[^\w.-]+/g, '-').replace(/^-+/, ''), '-');
  return cleaned || 'camgate-site';
}
