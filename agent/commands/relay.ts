// cmd/stream-start, cmd/stream-stop, cmd/stream-list → the RelayManager. The dispatcher
// (agent/uplink/commands.ts) has validated the args against cmd-stream-*.json already; the
// manager's CommandErrors (invalid-args, not-available, busy, over-budget) become error replies.
import type { CommandHandler } from '../uplink/commands';
import type { RelayManager, StreamName } from '../video/relay/relays';
import { CommandError } from '../../contract';

export type RelayHandlers = Record<'stream-start' | 'stream-stop' | 'stream-list', CommandHandler>;

/** The three relay commands, for the lead to merge into agentHandlers(). */
export function relayHandlers(manager: Pick<RelayManager, 'start' | 'stop' | 'list' | 'usage'>): RelayHandlers {
  const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
  const streamArg = (v: unknown): StreamName | undefined => {
    if (v === undefined) return undefined;
    if (v === 'main' || v === 'sub') return v;
    throw new CommandError('invalid-args', `stream must be main or sub, not ${JSON.stringify(v)}`);
  };
  return {
    'stream-start': async (args) => {
      const camera = str(args.camera);
      const target = str(args.target);
      if (!camera) throw new CommandError('invalid-args', 'camera is required');
      if (!target) throw new CommandError('invalid-args', 'target is required (rtsp://, rtmp://, rtmps:// or srt://)');
      const stream = streamArg(args.stream);
      const profile = str(args.profile);
      const maxBitrateKbps = typeof args.maxBitrateKbps === 'number' ? args.maxBitrateKbps : undefined;
      const result = await manager.start({
        camera,
        target,
        ...(stream ? { stream } : {}),
        ...(profile ? { profile } : {}),
        ...(maxBitrateKbps !== undefined ? { maxBitrateKbps } : {}),
      });
      return { ...result };
    },
    'stream-stop': async (args) => {
      const streamId = str(args.streamId);
      const camera = str(args.camera);
      const stream = streamArg(args.stream);
      if (!streamId && !camera) throw new CommandError('invalid-args', 'give streamId or camera');
      const stopped = streamId ? await manager.stop({ streamId }) : await manager.stop({ camera: camera as string, ...(stream ? { stream } : {}) });
      return { stopped, count: stopped.length };
    },
    'stream-list': async (args) => {
      const camera = str(args.camera);
      const relays = manager.list(camera ? { camera } : {});
      const u = manager.usage();
      return { relays, count: relays.length, usedKbps: u.usedKbps, budgetKbps: u.budgetKbps, maxRelays: u.maxRelays };
    },
  };
}
