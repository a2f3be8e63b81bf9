// The bridge between commander actions and command bodies: every body gets a fresh
// CommandContext and returns an exit code; resources are closed whatever happens.
import type { Command } from 'commander';
import type { CommandContext } from './context';

export type CommandBody = (ctx: CommandContext, cmd: Command) => Promise<number>;
export type Wrap = (body: CommandBody) => (...args: unknown[]) => Promise<void>;
