// camgate cameras confirm-move | discard-move: what to do with a device that claimed a known
// camera's identity from another address (a pending move: agent/inventory/upsert.ts).
import type { Command } from 'commander';
import type { Database } from 'better-sqlite3';
import { getDevice, resolveCamera } from '../../inventory/cameras';
import { confirmMove, discardMove, pendingMoveOf } from '../../inventory/upsert';
import type { Wrap } from '../action';
import { pendingMoveText } from '../format';
import { json } from '../output';
import { UsageError } from '../../../lib/errors';

/** A device id, or the device of a camera given by id or name. */
function deviceIdOf(db: Database, idOrName: string): string {
  return getDevice(db, idOrName)?.id ?? resolveCamera(db, idOrName).deviceId;
}

export function registerCameraMoves(cameras: Command, wrap: Wrap): void {
  cameras
    .command('confirm-move')
    .description(
      "apply a pending move: the camera's record takes the new address, and its stored login is sent there from now on (only if the camera really moved)",
    )
    .argument('<camera>', 'camera id or name, or device id')
    .option('--yes', 'do not ask for confirmation')
    .option('--json', 'print JSON')
    .action(
      wrap(async (ctx, cmd) => {
        const db = ctx.inventory;
        const deviceId = deviceIdOf(db, cmd.processedArgs[0] as string);
        const move = pendingMoveOf(db, deviceId);
        if (!move) throw new UsageError(`device ${deviceId} has no pending move (camgate cameras list shows the pending ones)`);
        if (!cmd.opts().yes) {
          if (!ctx.io.stdinIsTTY) throw new UsageError(`refusing to move ${deviceId} from ${move.from} to ${move.to} without --yes`);
          if (!(await ctx.io.confirm(`${pendingMoveText(move)}\nmove ${deviceId} to ${move.to} and send its login there? [y/N] `))) {
            ctx.note('nothing changed');
            return 0;
          }
        }
        const result = confirmMove(db, deviceId, new Date());
        if (cmd.opts().json) ctx.out(json({ deviceId, from: move.from, to: move.to, cameras: result.cameras.map((c) => c.id), loginFromAdd: move.hasLogin }));
        else
          ctx.out(
            `moved ${deviceId} from ${move.from} to ${move.to} (${result.cameras.map((c) => c.id).join(', ')})${move.hasLogin ? '; the login given with it is now its own' : ''}\n`,
          );
        return 0;
      }),
    );

  cameras
    .command('discard-move')
    .description('forget a pending move: the camera keeps its recorded address (and a login given with the move is deleted)')
    .argument('<camera>', 'camera id or name, or device id')
    .action(
      wrap(async (ctx, cmd) => {
        const db = ctx.inventory;
        const deviceId = deviceIdOf(db, cmd.processedArgs[0] as string);
        const move = discardMove(db, deviceId);
        ctx.out(`discarded the claim of ${move.to} on ${deviceId}; it stays at ${move.from}\n`);
        return 0;
      }),
    );
}
