// camgate cameras list | show | remove
import type { Command } from 'commander';
import { listCameras, resolveCamera, removeCamera } from '../../inventory/cameras';
import { pendingMoveOf, pendingMoves } from '../../inventory/upsert';
import type { Wrap } from '../action';
import { cameraListTable, deviceValue, formatOffset, pendingMoveText, profilesTable, publicCamera } from '../format';
import { json, keyValueTable } from '../output';
import { UsageError } from '../../../lib/errors';

export function registerCameraQueries(cameras: Command, wrap: Wrap): void {
  cameras
    .command('list')
    .description('list the cameras in the inventory (NVR channels are cameras of their own)')
    .option('--json', 'print JSON')
    .action(
      wrap(async (ctx, cmd) => {
        const all = listCameras(ctx.inventory);
        const moves = pendingMoves(ctx.inventory);
        const moveOf = new Map(moves.map((m) => [m.deviceId, m]));
        if (cmd.opts().json) ctx.out(json(all.map((c) => publicCamera(c, moveOf.get(c.deviceId)))));
        else if (all.length === 0) ctx.out('no cameras yet: run `camgate discover` or `camgate cameras add`\n');
        else {
          ctx.out(cameraListTable(all));
          if (moves.length > 0) ctx.out(`\npending moves (${moves.length}), not applied:\n${moves.map((m) => `  ${pendingMoveText(m)}\n`).join('')}`);
        }
        return 0;
      }),
    );

  cameras
    .command('show')
    .description('everything known about one camera (by id or name)')
    .argument('<camera>', 'camera id or name')
    .option('--json', 'print JSON')
    .action(
      wrap(async (ctx, cmd) => {
        const c = resolveCamera(ctx.inventory, cmd.processedArgs[0] as string);
        const move = pendingMoveOf(ctx.inventory, c.deviceId);
        if (cmd.opts().json) {
          ctx.out(json(publicCamera(c, move)));
          return 0;
        }
        const d = c.device;
        const credentials = d.hasCredentials ? 'stored for this device (encrypted)' : ctx.siteCredentials() ? 'site default (cameras.username)' : 'none';
        ctx.out(
          keyValueTable([
            ['id', c.id],
            ['name', c.name],
            ['class', c.class],
            ['latitude, longitude', c.latitude !== null ? `${c.latitude}, ${c.longitude}` : null],
            ['region', c.region],
            ['owner', c.owner],
            ['install date', c.installDate],
            ['notes', c.notes],
            ['channel', `${c.channel}${d.isNvr ? ` of NVR ${d.id}` : ''}`],
            ['address', `${d.host}:${d.port} (${d.driver})`],
            ['manufacturer', deviceValue(d.manufacturer)],
            ['model', deviceValue(d.model)],
            ['firmware', deviceValue(d.firmware)],
            ['serial', deviceValue(d.serial)],
            ['hardware id', deviceValue(d.hardwareId)],
            ['MAC', deviceValue(d.mac)],
            ['endpoint', deviceValue(d.endpointUuid)],
            ['clock offset', formatOffset(d.clockOffsetMs)],
            ['credentials', credentials],
            ['basic auth', d.allowBasicAuth ? 'allowed: the login goes in cleartext to a camera that asks for Basic' : 'refused (Digest only)'],
            ['pending move', move ? pendingMoveText(move) : null],
            ['id from', d.idBasis === 'address' ? 'address (the id changes if the device moves)' : d.idBasis],
            ['first seen', d.firstSeen],
            ['last seen', d.lastSeen],
            ['labels updated', c.updatedAt],
          ]),
        );
        ctx.out(profilesTable([{ channel: c.channel, profiles: c.profiles }]));
        return 0;
      }),
    );

  cameras
    .command('remove')
    .description('remove a camera and its labels (its device too, when no other channel is left)')
    .argument('<camera>', 'camera id or name')
    .option('--yes', 'do not ask for confirmation')
    .action(
      wrap(async (ctx, cmd) => {
        const c = resolveCamera(ctx.inventory, cmd.processedArgs[0] as string);
        const label = `${c.id}${c.name ? ` (${c.name})` : ''} at ${c.device.host}:${c.device.port}`;
        if (!cmd.opts().yes) {
          if (!ctx.io.stdinIsTTY) throw new UsageError(`refusing to remove ${label} without --yes`);
          if (!(await ctx.io.confirm(`remove camera ${label} and its labels? [y/N] `))) {
            ctx.note('nothing removed');
            return 0;
          }
        }
        const r = removeCamera(ctx.inventory, c.id);
        ctx.out(`removed ${label}${r.removedDevice ? ` and device ${r.removedDevice} (no channels left)` : ''}\n`);
        return 0;
      }),
    );
}
