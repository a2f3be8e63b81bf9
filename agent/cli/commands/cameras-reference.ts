// camgate cameras reference <camera> [--renew | --clear]: a camera's picture reference (what its
// picture looks like when it is right; docs/health.md, Reference), kept in the inventory database
// by the health monitor. The running agent (another process) reads it at every picture probe, and
// picks a renewal asked for here up when it re-reads the inventory.
import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { resolveCamera } from '../../inventory/cameras';
import { HealthStore } from '../../health/store';
import type { Wrap } from '../action';
import { json, keyValueTable } from '../output';
import { UsageError } from '../../../lib/errors';

export function registerCameraReference(cameras: Command, wrap: Wrap): void {
  cameras
    .command('reference')
    .description(
      "a camera's picture reference, which its later pictures are judged against: show it, --renew (the next picture becomes the reference, whatever it shows) or --clear (a new one is taken from the next picture without a fault)",
    )
    .argument('<camera>', 'camera id or name')
    .option('--renew', "take the camera's next picture as its reference: this is what it should show")
    .option('--clear', 'forget the reference')
    .option('-o, --output <file>', 'write the reference thumbnail (JPEG) to this file')
    .option('--json', 'print JSON')
    .action(
      wrap(async (ctx, cmd) => {
        const opts = cmd.opts<{ renew?: boolean; clear?: boolean; output?: string; json?: boolean }>();
        if (opts.renew && opts.clear) throw new UsageError('--renew and --clear together: give one of them (or neither, to show the reference)');
        const camera = resolveCamera(ctx.inventory, cmd.processedArgs[0] as string);
        const store = new HealthStore(ctx.inventory);
        if (opts.clear) {
          const cleared = store.clearReference(camera.id);
          if (opts.json) ctx.out(json({ camera: camera.id, cleared }));
          else
            ctx.out(
              cleared
                ? `cleared the picture reference of ${camera.id}; a new one is taken from its next picture without a fault\n`
                : `${camera.id} has no picture reference\n`,
            );
          return 0;
        }
        if (opts.renew) {
          store.requestRenewal(camera.id, new Date());
          const every = Math.min(ctx.config.health.reachIntervalSec, 60);
          if (opts.json) ctx.out(json({ camera: camera.id, renewRequested: true }));
          else
            ctx.out(
              `renewal asked for: the running agent probes ${camera.id}'s picture within ${every} s and keeps it as the reference (camgate cameras reference ${camera.id} shows it then)\n`,
            );
          return 0;
        }
        const { reference, thumbnail, refused, renewRequestedAt } = store.reference(camera.id);
        if (opts.output) {
          if (!reference || !thumbnail)
            throw new UsageError(`${camera.id} has no picture reference${refused ? ` usable (${refused})` : ''}: nothing written to ${opts.output}`);
          writeFileSync(opts.output, thumbnail);
        }
        if (opts.json) {
          ctx.out(
            json({
              camera: camera.id,
              reference: reference ? { takenAt: reference.takenAt, origin: reference.origin, thumbnailBytes: thumbnail?.length ?? 0 } : null,
              ...(refused ? { refused } : {}),
              renewPending: renewRequestedAt !== null,
            }),
          );
          return 0;
        }
        ctx.out(
          keyValueTable([
            ['camera', camera.id],
            [
              'reference',
              reference
                ? `taken ${reference.takenAt} ${reference.origin === 'command' ? 'by command (a person said the picture was right)' : 'from its first picture without a fault (confirm it with --renew)'}`
                : refused
                  ? `none usable (${refused}); a new one is taken from the next picture without a fault`
                  : 'none yet: taken from its next picture without a fault',
            ],
            ['thumbnail', thumbnail ? `${thumbnail.length} bytes${opts.output ? `, written to ${opts.output}` : ' (-o FILE writes it)'}` : null],
            ['renewal', renewRequestedAt ? `asked for at ${renewRequestedAt}, taken at the next picture probe` : null],
          ]),
        );
        return 0;
      }),
    );
}
