// camgate config show | check | keys
import { existsSync, accessSync, constants } from 'node:fs';
import type { Command } from 'commander';
import { describeSource, getPath } from '../../../lib/config';
import { agentConfig } from '../../config/spec';
import { keyFilePath } from '../../credentials/key';
import { statSync } from 'node:fs';
import type { Wrap } from '../action';
import { json, table } from '../output';
import { ValidationError } from '../../../lib/errors';
import { textOf } from '../../../lib/redact';

function show(value: unknown): string {
  if (value === undefined) return '-';
  if (Array.isArray(value)) return value.join(', ') || '[]';
  return textOf(value);
}

export function registerConfig(program: Command, wrap: Wrap): void {
  const config = program.command('config').description('show and check the effective configuration');

  config
    .command('show')
    .description('effective configuration (defaults < file < CAMGATE_* < flags), secrets masked')
    .option('--json', 'print JSON')
    .action(
      wrap(async (ctx, cmd) => {
        const loaded = ctx.loadedConfig;
        const masked = agentConfig.masked(loaded.config);
        if (cmd.opts().json) {
          ctx.out(json(masked));
          return 0;
        }
        const rows = agentConfig.keys.map((k) => {
          const source = loaded.sources.get(k.path);
          return [k.path, show(getPath(masked, k.segments)), source ? describeSource(source) : '-'];
        });
        ctx.out(table(['KEY', 'VALUE', 'FROM'], rows));
        return 0;
      }),
    );

  config
    .command('check')
    .description('validate the configuration and the files it points to; exit 2 when something is wrong')
    .action(
      wrap(async (ctx) => {
        const c = ctx.config;
        const problems: string[] = [];
        for (const path of ['broker.ca', 'broker.cert', 'broker.key'] as const) {
          const file = getPath(c, path.split('.')) as string | undefined;
          if (!file) continue;
          if (!existsSync(file)) problems.push(`${path} = ${JSON.stringify(file)}: no such file`);
          else {
            try {
              accessSync(file, constants.R_OK);
            } catch {
              problems.push(`${path} = ${JSON.stringify(file)}: not readable by this user`);
            }
          }
        }
        if ((c.broker.cert === undefined) !== (c.broker.key === undefined)) {
          problems.push('broker.cert and broker.key go together: give both, or neither');
        }
        if (c.discovery.ranges.length > 0) {
          try {
            ctx.io.drivers().expandTargets(c.discovery.ranges, { force: false });
          } catch (err) {
            problems.push(`discovery.ranges: ${(err as Error).message}`);
          }
        }
        const keyFile = keyFilePath(c.dataDir);
        if (existsSync(keyFile) && process.platform !== 'win32' && (statSync(keyFile).mode & 0o077) !== 0) {
          problems.push(`${keyFile} is readable by group or others; run: chmod 600 ${keyFile}`);
        }
        if (problems.length > 0) throw new ValidationError(problems.map((p) => `config error: ${p}`));
        ctx.out(`config ok${ctx.configFile() ? `: ${ctx.configFile()}` : ' (no config file; defaults, environment and flags)'}\n`);
        return 0;
      }),
    );

  config
    .command('keys')
    .description('every config key with its flag, environment variable, default and meaning')
    .option('--json', 'print JSON')
    .action(
      wrap(async (ctx, cmd) => {
        const keys = agentConfig.keys.map((k) => ({
          key: k.path,
          flag: k.flag,
          env: k.env,
          aliases: [k.flagAlias, k.envAlias].filter(Boolean),
          type: k.type,
          default: k.default ?? null,
          secret: k.secret,
          description: k.description,
        }));
        if (cmd.opts().json) ctx.out(json(keys));
        else {
          ctx.out(
            table(
              ['KEY', 'FLAG / ENV', 'DEFAULT', 'DESCRIPTION'],
              keys.map((k) => [k.key, [k.flag, k.env, ...k.aliases].join('\n'), k.default === null ? '-' : JSON.stringify(k.default), k.description]),
              [null, null, null, 64],
            ),
          );
        }
        return 0;
      }),
    );
}
