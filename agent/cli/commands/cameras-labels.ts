// camgate cameras set | import | export: installer labels.
import { readFileSync, writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { applyLabelUpdates, listCameras, resolveCamera } from '../../inventory/cameras';
import { clearDeviceCredentials, setBasicAuthAllowed, setDeviceCredentials } from '../../credentials/store';
import { FILE_COLUMN } from '../../labels/fields';
import { exportLabels, LabelFileFormat, parseLabelFileBytes } from '../../labels/files';
import { planImport, planSet, CameraState } from '../../labels/validate';
import { labelsOf } from '../../labels/merge';
import type { CameraRecord, LabelField } from '../../inventory/types';
import type { Wrap } from '../action';
import { deviceLoginFlags } from '../device-login';
import { CamgateError, UsageError, ValidationError } from '../../../lib/errors';

function states(cameras: CameraRecord[]): CameraState[] {
  return cameras.map((c) => ({ id: c.id, labels: labelsOf(c) }));
}

/** "--install-date <d>" → "installDate", as commander names option values. */
function attributeOf(flags: string): string {
  return flags
    .split(' ')[0]
    .slice(2)
    .replace(/-([a-z])/g, (_m, c: string) => c.toUpperCase());
}

const SET_OPTIONS: Array<[LabelField, string, string]> = [
  ['name', '--name <name>', 'unique name, e.g. "长坞村口 北向" ("" clears)'],
  ['class', '--class <1|2|3>', 'point class: 1 key public areas, 2 important industry sites, 3 social units/residential'],
  ['latitude', '--lat <degrees>', 'latitude in decimal degrees, -90..90 (with --lon)'],
  ['longitude', '--lon <degrees>', 'longitude in decimal degrees, -180..180 (with --lat)'],
  ['region', '--region <path>', 'province/city/county/township/village'],
  ['owner', '--owner <text>', 'owning unit (police, township, school, residential committee...)'],
  ['notes', '--notes <text>', 'free text'],
  ['installDate', '--install-date <YYYY-MM-DD>', 'installation date'],
];

export function registerCameraLabels(cameras: Command, wrap: Wrap): void {
  const set = cameras
    .command('set')
    .description('set labels of one camera (by id or name); --username/--password store the device login, encrypted')
    .argument('<camera>', 'camera id or name')
    .option('--clear-credentials', "forget the device's own login (the site default applies again)")
    .option(
      '--allow-basic-auth',
      'send its login as Basic (the password in cleartext) when the camera asks for nothing better; only for a camera that cannot do Digest, on a trusted network',
    )
    .option('--no-allow-basic-auth', 'refuse Basic again for this device (the default: Digest only)');
  for (const [, flags, help] of SET_OPTIONS) set.option(flags, help);
  set.action(
    wrap(async (ctx, cmd) => {
      const opts = cmd.opts<Record<string, string | boolean | undefined>>();
      const camera = resolveCamera(ctx.inventory, cmd.processedArgs[0] as string);
      const raw: Partial<Record<LabelField, string>> = {};
      for (const [field, flags] of SET_OPTIONS) {
        const value = opts[attributeOf(flags)];
        if (typeof value === 'string') raw[field] = value;
      }
      const login = deviceLoginFlags(ctx);
      const wantsLogin = login !== undefined;
      const basic = opts.allowBasicAuth as boolean | undefined;
      if (Object.keys(raw).length === 0 && !wantsLogin && !opts.clearCredentials && basic === undefined) {
        throw new UsageError(
          `nothing to set: give at least one of ${SET_OPTIONS.map(([, f]) => f.split(' ')[0]).join(', ')}, --username/--password, --[no-]allow-basic-auth`,
        );
      }
      if (wantsLogin && opts.clearCredentials) throw new UsageError('--clear-credentials cannot be combined with --username/--password');
      const plan = planSet(camera.id, raw, states(listCameras(ctx.inventory)));
      if (plan.problems.length > 0) throw new ValidationError(plan.problems);
      const changed = plan.update ? applyLabelUpdates(ctx.inventory, [plan.update], new Date()) : [];
      const done: string[] = [];
      if (changed.length > 0)
        done.push(
          `labels ${Object.keys(plan.update!.patch)
            .map((f) => FILE_COLUMN[f as LabelField])
            .join(', ')}`,
        );
      if (wantsLogin) {
        setDeviceCredentials(ctx.inventory, camera.deviceId, login, ctx.keyProvider);
        done.push(`login of device ${camera.deviceId} (encrypted)`);
      }
      if (opts.clearCredentials) {
        clearDeviceCredentials(ctx.inventory, camera.deviceId);
        done.push(`login of device ${camera.deviceId} cleared`);
      }
      if (basic !== undefined) {
        setBasicAuthAllowed(ctx.inventory, camera.deviceId, basic);
        done.push(
          basic
            ? `Basic auth allowed for device ${camera.deviceId} (its password goes in cleartext to it when it asks for Basic)`
            : `Basic auth refused for device ${camera.deviceId} (Digest only)`,
        );
      }
      ctx.out(done.length > 0 ? `updated ${camera.id}: ${done.join('; ')}\n` : `${camera.id}: no change\n`);
      return 0;
    }),
  );

  cameras
    .command('import')
    .description('load labels from a CSV or YAML file (as written by export); all rows or none')
    .argument('<file>', 'CSV or YAML file')
    .action(
      wrap(async (ctx, cmd) => {
        const file = cmd.processedArgs[0] as string;
        let bytes: Buffer;
        try {
          bytes = readFileSync(file);
        } catch (err) {
          throw new CamgateError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`, 2);
        }
        const parsed = parseLabelFileBytes(bytes, file);
        const headline = (n: number) => `${file}: ${n} problem${n === 1 ? '' : 's'}; nothing was imported:`;
        if (parsed.problems.length > 0)
          throw new ValidationError(
            parsed.problems.map((p) => `  ${p}`),
            headline(parsed.problems.length),
          );
        const plan = planImport(parsed.rows, states(listCameras(ctx.inventory)));
        if (plan.problems.length > 0)
          throw new ValidationError(
            plan.problems.map((p) => `  ${p}`),
            headline(plan.problems.length),
          );
        const changed = applyLabelUpdates(ctx.inventory, plan.updates, new Date());
        ctx.out(`imported ${file} (${parsed.format}): ${parsed.rows.length} rows, ${changed.length} camera${changed.length === 1 ? '' : 's'} changed\n`);
        return 0;
      }),
    );

  cameras
    .command('export')
    .description('write labels (and reference columns) as CSV or YAML, for editing and `cameras import`')
    .option('--format <csv|yaml>', 'file format (default: from the -o extension, else csv)')
    .option('-o, --output <file>', 'write to FILE instead of stdout (CSV files get a BOM so spreadsheets read UTF-8)')
    .action(
      wrap(async (ctx, cmd) => {
        const opts = cmd.opts<{ format?: string; output?: string }>();
        let format: LabelFileFormat;
        if (opts.format !== undefined) {
          if (opts.format !== 'csv' && opts.format !== 'yaml') throw new UsageError(`--format ${JSON.stringify(opts.format)}: expected csv or yaml`);
          format = opts.format;
        } else format = opts.output && /\.ya?ml$/i.test(opts.output) ? 'yaml' : 'csv';
        const site = ctx.config.site;
        const header = `camgate cameras export${site.id ? ` of site ${site.id}${site.name ? ` (${site.name})` : ''}` : ''}, ${new Date().toISOString()}`;
        const text = exportLabels(listCameras(ctx.inventory), format, header);
        if (opts.output) {
          writeFileSync(opts.output, format === 'csv' ? '\uFEFF' + text : text);
          ctx.note(`wrote ${opts.output}`);
        } else ctx.out(text);
        return 0;
      }),
    );
}
