// On `cameras add` and `cameras set`, --username/--password name the device's own login (stored
// encrypted), not the site default they mean on other commands.
import type { Credentials } from '../../drivers/types';
import { flagGiven } from '../../lib/config/flags';
import type { CommandContext } from './context';
import { UsageError } from '../../lib/errors';

export function deviceLoginFlags(ctx: CommandContext): Credentials | undefined {
  const user = flagGiven(ctx.program, 'cameras.username');
  const pass = flagGiven(ctx.program, 'cameras.password');
  if (!user && !pass) return undefined;
  if (!user || !pass) throw new UsageError('give both --username and --password for the device login (--password - reads it from stdin)');
  const password = pass.raw === '-' ? ctx.io.readStdin().replace(/\r?\n$/, '') : String(pass.raw);
  ctx.scrubber.add(password);
  return { username: String(user.raw), password };
}
