// camgate discover: probe, identify, show, save. Progress goes to stderr so --json stays clean.
import type { Command } from 'commander';
import { splitList } from '../../config/coerce';
import { listDevices } from '../../inventory/cameras';
import { findDevice, upsertDeviceReport, UpsertResult } from '../../inventory/upsert';
import { sweep, SweepOutcome, SweepProgress, SweepTarget, KnownDevice } from '../../discovery/sweep';
import { DEFAULT_DEVICE_PATH } from '../../discovery/targets';
import { UsageError } from '../../errors';
import type { Wrap } from '../action';
import type { CommandContext } from '../context';
import { publicOutcome, sweepOutcomeText } from '../format';
import { json } from '../output';

function collect(value: string, previous: string[] | undefined): string[] {
  return [...(previous ?? []), value];
}

interface DiscoverOptions {
  range?: string[];
  force?: boolean;
  timeout?: string;
  multicast: boolean;
  interface?: string[];
  json?: boolean;
  save: boolean;
}

function pathOfUrl(url: string): string {
  const m = /^[a-z]+:\/\/[^/]+(\/.*)?$/i.exec(url);
  return m?.[1] ?? DEFAULT_DEVICE_PATH;
}

function knownDevices(ctx: CommandContext): KnownDevice[] {
  return listDevices(ctx.inventory)
    .filter((d) => d.source === 'added' && d.driver === 'onvif')
    .map((d) => ({ deviceId: d.id, host: d.host, port: d.port, path: pathOfUrl(d.url), endpointUuid: d.endpointUuid ?? undefined }));
}

function progressLine(ev: SweepProgress): string {
  switch (ev.type) {
    case 'probe-start': {
      const how = [ev.multicast ? 'multicast on every interface' : '', ev.unicastTargets > 0 ? `unicast to ${ev.unicastTargets} address(es)` : '']
        .filter(Boolean)
        .join(' + ');
      return `probing: ${how}, waiting ${ev.timeoutMs} ms for answers...`;
    }
    case 'probe-done':
      return `probe: ${ev.matches} answer(s)`;
    case 'identify-start':
      return ev.total > 0 ? `identifying ${ev.total} device(s)...` : 'no devices to identify';
    case 'identified':
      return `  [${ev.done}/${ev.total}] ${ev.address} ${ev.ok ? 'ok' : `failed: ${ev.error}`}`;
  }
}

export function registerDiscover(program: Command, wrap: Wrap): void {
  program
    .command('discover')
    .description('find ONVIF devices (WS-Discovery), identify them and save them to the inventory; exit 1 when a device failed')
    .option('--range <range>', 'also probe these addresses by unicast: IP, A-B range or CIDR (repeatable, comma-separated; replaces discovery.ranges)', collect)
    .option('--force', 'allow ranges of more than 65,536 addresses (a /16)')
    .option('--timeout <ms>', 'probe window in milliseconds (default: discovery.timeoutMs)')
    .option('--no-multicast', 'unicast only (no 239.255.255.250 probe)')
    .option('--interface <name>', 'send multicast probes on this interface only (repeatable; default: discovery.interfaces, else all)', collect)
    .option('--json', 'print JSON on stdout (progress stays on stderr)')
    .option('--no-save', 'show what is found without saving it')
    .action(
      wrap(async (ctx, cmd) => {
        const opts = cmd.opts() as DiscoverOptions;
        const cfg = ctx.config.discovery;
        let probeTimeoutMs = cfg.timeoutMs;
        if (opts.timeout !== undefined) {
          if (!/^\d+$/.test(opts.timeout) || Number(opts.timeout) < 100) {
            throw new UsageError(`--timeout ${JSON.stringify(opts.timeout)}: expected an integer ≥ 100 (milliseconds)`);
          }
          probeTimeoutMs = Number(opts.timeout);
        }
        const multicastFlag = cmd.getOptionValueSource('multicast') === 'cli';
        const db = ctx.inventory;
        const drivers = ctx.io.drivers();
        const result = await sweep(
          {
            ranges: opts.range ? splitList(opts.range) : cfg.ranges,
            force: opts.force === true,
            multicast: multicastFlag ? opts.multicast : cfg.multicast,
            interfaces: opts.interface ? splitList(opts.interface) : cfg.interfaces,
            probeTimeoutMs,
            identifyTimeoutMs: ctx.config.onvif.timeoutMs,
            concurrency: cfg.concurrency,
            known: knownDevices(ctx),
          },
          {
            ...drivers,
            probe: (o) => drivers.probe(o),
            expandTargets: (s, o) => drivers.expandTargets(s, o),
            openDriver: (t, c, o) => drivers.openDriver(t, c, o),
            credentialsFor: (target: SweepTarget) => {
              let deviceId = target.deviceId;
              if (!deviceId && target.endpointUuid) {
                deviceId = findDevice(db, { driver: 'onvif', endpointUuid: target.endpointUuid, host: target.host, port: target.port })?.id;
              }
              const credentials = ctx.credentialsForDevice(deviceId);
              // The credentials object is censored by the logger's redact paths; its presence is what matters here.
              ctx.logger.debug({ address: `${target.host}:${target.port}`, deviceId, credentials }, 'identifying device');
              return credentials;
            },
            onProgress: (ev) => ctx.note(progressLine(ev)),
          },
        );
        for (const o of result.outcomes) {
          if (o.error) ctx.logger.debug({ address: o.address, code: o.error.code, error: o.error.message }, 'identification failed');
        }
        const saved = new Map<SweepOutcome, UpsertResult>();
        if (opts.save) {
          const now = new Date();
          db.transaction(() => {
            for (const o of result.outcomes) {
              if (o.report) saved.set(o, upsertDeviceReport(db, o.report, { now, source: o.target.source === 'added' ? 'added' : 'discovered' }));
            }
          })();
        }
        const ok = result.outcomes.filter((o) => o.report).length;
        const failed = result.outcomes.length - ok;
        const summary = {
          probeMatches: result.probeMatches,
          unicastTargets: result.unicastTargets,
          identified: ok,
          failed,
          saved: saved.size,
          newDevices: [...saved.values()].filter((s) => s.created).length,
          durationMs: result.durationMs,
        };
        if (opts.json) {
          ctx.out(json({ devices: result.outcomes.map((o) => publicOutcome(o, saved.get(o))), summary }));
        } else {
          for (const o of result.outcomes) ctx.out(sweepOutcomeText(o, saved.get(o)) + '\n');
          const savedText = opts.save ? `; saved ${summary.saved} (${summary.newDevices} new)` : '; not saved (--no-save)';
          ctx.out(`${ok} device(s) identified, ${failed} failed${savedText}, in ${(result.durationMs / 1000).toFixed(1)} s\n`);
        }
        return failed > 0 ? 1 : 0;
      }),
    );
}
