// camgate cameras add onvif HOST[:PORT] | rtsp URL: identify a device by address and save it.
// Devices added this way are re-identified by every discover, even if they ignore probes.
import type { Command } from 'commander';
import type { Credentials, DeviceReport } from '../../../drivers/types';
import { applyLabelUpdates, listCameras } from '../../inventory/cameras';
import { setPendingMoveCredential, upsertDeviceReport, UpsertResult } from '../../inventory/upsert';
import { setBasicAuthAllowed, setDeviceCredentials, storeCredentials } from '../../credentials/store';
import { planSet } from '../../labels/validate';
import { labelsOf } from '../../labels/merge';
import type { DriverTarget } from '../../../drivers/api';
import { formatAddress } from '../../discovery/targets';
import type { SweepOutcome } from '../../discovery/sweep';
import type { Wrap } from '../action';
import type { CommandContext } from '../context';
import { deviceLoginFlags } from '../device-login';
import { errorHint, publicOutcome, sweepOutcomeText } from '../format';
import { json } from '../output';
import { CamgateError, UsageError, ValidationError } from '../../../lib/errors';
import { redactText } from '../../../lib/redact';
import { withDeadline } from '../../../lib/deadline';

interface AddPlan {
  target: DriverTarget;
  /** Login to store with the device (given explicitly or inside the RTSP URL). */
  ownLogin?: Credentials;
  address: string;
}

async function planTarget(ctx: CommandContext, kind: string, spec: string): Promise<AddPlan> {
  const login = deviceLoginFlags(ctx);
  // Loaded here, not at the top: a drivers build problem must not break every other command.
  const { parseDeviceTarget, parseRtspUrl } = await import('../../../drivers/target');
  try {
    if (kind === 'onvif') {
      const t = parseDeviceTarget(spec);
      return { target: t, ownLogin: login, address: formatAddress(t.host, t.port) };
    }
    if (kind === 'rtsp') {
      const parsed = parseRtspUrl(spec);
      return { target: { kind: 'rtsp', url: parsed.url }, ownLogin: login ?? parsed.credentials, address: formatAddress(parsed.host, parsed.port) };
    }
  } catch (err) {
    throw new UsageError(redactText((err as Error).message, ctx.scrubber));
  }
  throw new UsageError(`unknown kind ${JSON.stringify(kind)}: use \`cameras add onvif HOST[:PORT]\` or \`cameras add rtsp URL\``);
}

async function identify(ctx: CommandContext, plan: AddPlan, allowBasic: boolean): Promise<DeviceReport> {
  const timeoutMs = ctx.config.onvif.timeoutMs;
  const login = plan.ownLogin ?? ctx.siteCredentials();
  const credentials = login && allowBasic ? { ...login, allowBasic: true } : login;
  ctx.logger.debug({ address: plan.address, kind: plan.target.kind, credentials }, 'identifying device');
  const driver = ctx.io.drivers().openDriver(plan.target, credentials, { timeoutMs });
  try {
    return await withDeadline(driver.report(), timeoutMs, `${plan.address} did not answer within ${timeoutMs} ms (onvif.timeoutMs)`, () => driver.close());
  } catch (err) {
    const e = err as { code?: string; message?: string };
    const outcome = {
      address: plan.address,
      error: { code: e.code ?? 'error', message: e.message ?? String(err) },
    } as SweepOutcome;
    const hint = plan.target.kind === 'onvif' ? errorHint(outcome) : '';
    throw new CamgateError(`${redactText(outcome.error!.message, ctx.scrubber)}${hint}; nothing was saved`, 1, { cause: err });
  } finally {
    driver.close();
  }
}

export function registerCameraAdd(cameras: Command, wrap: Wrap): void {
  cameras
    .command('add')
    .description('add a device by address: onvif HOST[:PORT] or rtsp URL (with --username/--password: its own login, stored encrypted)')
    .argument('<kind>', 'onvif or rtsp')
    .argument('<address>', 'HOST[:PORT] for onvif, rtsp://host[:port]/path for rtsp')
    .option('--name <name>', 'name of the camera (single cameras only; name NVR channels with `cameras set`)')
    .option(
      '--allow-basic-auth',
      'send its login as Basic (the password in cleartext) if it asks for nothing better; only for a camera that cannot do Digest, on a trusted network',
    )
    .option('--json', 'print JSON')
    .action(
      wrap(async (ctx, cmd) => {
        const [kind, spec] = cmd.processedArgs as [string, string];
        const opts = cmd.opts<{ name?: string; json?: boolean; allowBasicAuth?: boolean }>();
        const plan = await planTarget(ctx, kind, spec);
        const db = ctx.inventory;
        const report = await identify(ctx, plan, opts.allowBasicAuth === true);
        const saved = db.transaction((): UpsertResult => {
          const result = upsertDeviceReport(db, report, { now: new Date(), source: 'added' });
          if (result.pendingMove) {
            // A claim on a known camera's identity: the login typed for the new address waits with it.
            if (plan.ownLogin) setPendingMoveCredential(db, result.deviceId, storeCredentials(db, plan.ownLogin, ctx.keyProvider));
            return result;
          }
          if (plan.ownLogin) setDeviceCredentials(db, result.deviceId, plan.ownLogin, ctx.keyProvider);
          if (opts.allowBasicAuth) setBasicAuthAllowed(db, result.deviceId, true);
          if (opts.name !== undefined) {
            if (result.cameras.length !== 1) {
              throw new UsageError(
                `--name names one camera, but ${plan.address} has ${result.cameras.length} channels; add it without --name, then: camgate cameras set <id> --name ...`,
              );
            }
            const states = listCameras(db).map((c) => ({ id: c.id, labels: labelsOf(c) }));
            const set = planSet(result.cameras[0].id, { name: opts.name }, states);
            if (set.problems.length > 0) throw new ValidationError(set.problems);
            applyLabelUpdates(db, [set.update!], new Date());
          }
          return result;
        })();
        const outcome: SweepOutcome = {
          target: { host: report.host, port: report.port, path: '', source: 'added', deviceId: saved.deviceId },
          address: formatAddress(report.host, report.port),
          report,
          durationMs: 0,
        };
        if (opts.json) ctx.out(json(publicOutcome(outcome, saved)));
        else if (saved.pendingMove) {
          const m = saved.pendingMove;
          const notApplied = [opts.name !== undefined ? '--name' : '', opts.allowBasicAuth ? '--allow-basic-auth' : ''].filter(Boolean);
          ctx.out(sweepOutcomeText(outcome, saved));
          ctx.out(
            `${plan.address} claims to be ${m.deviceId} (same ${m.matched.join(', ')}), which is recorded at ${m.from}: saved as a pending move, nothing else changed` +
              `${plan.ownLogin ? '; the login given waits with it (encrypted)' : ''}. ` +
              `If the camera really moved: camgate cameras confirm-move ${m.deviceId}` +
              `${notApplied.length > 0 ? `, then camgate cameras set ${m.deviceId} with ${notApplied.join(' ')} (not applied to a pending move)` : ''}\n`,
          );
        } else {
          ctx.out(sweepOutcomeText(outcome, saved));
          ctx.out(`${saved.created ? 'added' : 'updated'} ${saved.cameras.map((c) => c.id).join(', ')}${plan.ownLogin ? '; login stored encrypted' : ''}\n`);
        }
        return 0;
      }),
    );
}
