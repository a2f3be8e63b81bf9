// camgate discover: probe, identify, show, save. Progress goes to stderr so --json stays clean.
// Devices are identified as soon as they answer, while the probe keeps listening. --timeout
// (discovery.overallTimeoutMs) bounds the whole command: the probe listens for
// min(discovery.timeoutMs, three quarters of it), and identification goes on until it runs out;
// devices still unidentified then are reported as 'timeout' and everything identified before is saved.
import type { Command } from 'commander';
import { splitList } from '../../../lib/config';
import { getDevice, listDevices } from '../../inventory/cameras';
import { findDevice, upsertDeviceReport, UpsertResult } from '../../inventory/upsert';
import { sweep, SweepOutcome, SweepProgress, SweepTarget, KnownDevice } from '../../discovery/sweep';
import type { Wrap } from '../action';
import type { CommandContext } from '../context';
import { publicOutcome, sweepOutcomeText } from '../format';
import { json } from '../output';
import { UsageError } from '../../../lib/errors';
import { DEFAULT_DEVICE_PATH } from '../../../drivers/onvif/driver';

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

function progressLine(ev: Exclude<SweepProgress, { type: 'warning' }>): string {
  switch (ev.type) {
    case 'probe-start': {
      const how = [ev.multicast ? 'multicast on every interface' : '', ev.unicastTargets > 0 ? `unicast to ${ev.unicastTargets} address(es)` : '']
        .filter(Boolean)
        .join(' + ');
      return `probing: ${how}, waiting ${ev.timeoutMs} ms for answers (devices are identified as they answer)...`;
    }
    case 'probe-done': {
      const junk = ev.ignored > 0 ? `; ignored ${ev.ignored} answer(s) that were not ONVIF probe matches, from ${ev.ignoredFrom.join(', ') || 'unknown'}` : '';
      return `probe: ${ev.matches} answer(s)${junk}`;
    }
    case 'identify-start': {
      if (ev.total === 0) return 'no devices to identify';
      const left = ev.remainingMs !== undefined ? ` (${(ev.remainingMs / 1000).toFixed(1)} s left of --timeout)` : '';
      if (ev.done === ev.total) return `all ${ev.total} device(s) done while probing`;
      const already = ev.done > 0 ? `, ${ev.done} already done` : '';
      return `identifying ${ev.total} device(s)${already}${left}...`;
    }
    case 'identified':
      // "3/17+": 17 devices so far, the probe is still listening for more.
      return `  [${ev.done}/${ev.total}${ev.probing ? '+' : ''}] ${ev.address} ${ev.ok ? 'ok' : `failed: ${ev.error}`}`;
  }
}

export function registerDiscover(program: Command, wrap: Wrap): void {
  program
    .command('discover')
    .description('find ONVIF devices (WS-Discovery), identify them and save them to the inventory; exit 1 when a device failed')
    .option('--range <range>', 'also probe these addresses by unicast: IP, A-B range or CIDR (repeatable, comma-separated; replaces discovery.ranges)', collect)
    .option('--force', 'allow ranges of more than 65,536 addresses (a /16)')
    .option(
      '--timeout <ms>',
      'overall time limit in milliseconds: probe and identification finish within it, devices not identified by then are reported as timeout ' +
        '(default: discovery.overallTimeoutMs, 30000). Devices are identified as soon as they answer; the probe window is ' +
        'min(discovery.timeoutMs, three quarters of it), so at least a quarter is left after the probe for late answers and added devices',
    )
    .option('--no-multicast', 'unicast only (no 239.255.255.250 probe)')
    .option('--interface <name>', 'send multicast probes on this interface only (repeatable; default: discovery.interfaces, else all)', collect)
    .option('--json', 'print JSON on stdout (progress stays on stderr)')
    .option('--no-save', 'show what is found without saving it')
    .action(
      wrap(async (ctx, cmd) => {
        // The overall budget counts from here: config, inventory and credentials are part of it.
        const startedAt = Date.now();
        const opts = cmd.opts<DiscoverOptions>();
        const cfg = ctx.config.discovery;
        let timeoutMs = cfg.overallTimeoutMs;
        let timeoutName = 'discovery.overallTimeoutMs';
        if (opts.timeout !== undefined) {
          if (!/^\d+$/.test(opts.timeout) || Number(opts.timeout) < 100) {
            throw new UsageError(`--timeout ${JSON.stringify(opts.timeout)}: expected an integer ≥ 100 (milliseconds)`);
          }
          timeoutMs = Number(opts.timeout);
          timeoutName = '--timeout';
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
            probeTimeoutMs: cfg.timeoutMs,
            identifyTimeoutMs: ctx.config.onvif.timeoutMs,
            concurrency: cfg.concurrency,
            known: knownDevices(ctx),
            timeoutMs,
            startedAt,
            timeoutLabel: timeoutName === '--timeout' ? 'overall --timeout' : 'overall timeout (discovery.overallTimeoutMs)',
            timeoutAdvice:
              'raise --timeout (or discovery.overallTimeoutMs) to give devices more time, or discovery.concurrency to identify more of them at once',
          },
          {
            ...drivers,
            probe: (o) => drivers.probe(o),
            expandTargets: (s, o) => drivers.expandTargets(s, o),
            openDriver: (t, c, o) => drivers.openDriver(t, c, o),
            credentialsFor: (target: SweepTarget) => {
              const claimed = target.deviceId
                ? getDevice(db, target.deviceId)
                : target.endpointUuid
                  ? findDevice(db, { driver: 'onvif', endpointUuid: target.endpointUuid, host: target.host, port: target.port })
                  : undefined;
              // A device's stored login goes only to the address it is recorded at: an answer that
              // claims its identity from elsewhere gets the site default, as any new device does
              // (and is saved as a pending move at most).
              const deviceId = claimed && claimed.host === target.host && claimed.port === target.port ? claimed.id : undefined;
              const credentials = ctx.credentialsForDevice(deviceId);
              // The credentials object is censored by the logger's redact paths; its presence is what matters here.
              ctx.logger.debug({ address: `${target.host}:${target.port}`, deviceId, credentials }, 'identifying device');
              return credentials;
            },
            onProgress: (ev) => (ev.type === 'warning' ? ctx.warn(ev.message) : ctx.note(progressLine(ev))),
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
          probeIgnored: result.probeIgnored,
          probeIgnoredFrom: result.probeIgnoredFrom,
          probeWindowMs: result.probeWindowMs,
          timeoutMs,
          identified: ok,
          timedOut: result.cutOff,
          failed,
          saved: saved.size,
          newDevices: [...saved.values()].filter((s) => s.created).length,
          pendingMoves: [...saved.values()].filter((s) => s.pendingMove).length,
          durationMs: result.durationMs,
          warnings: result.warnings,
        };
        if (opts.json) {
          ctx.out(json({ devices: result.outcomes.map((o) => publicOutcome(o, saved.get(o))), summary }));
        } else {
          for (const o of result.outcomes) ctx.out(sweepOutcomeText(o, saved.get(o)) + '\n');
          const moves = summary.pendingMoves > 0 ? `, ${summary.pendingMoves} pending move(s) to confirm or discard (camgate cameras list)` : '';
          const savedText = opts.save ? `; saved ${summary.saved} (${summary.newDevices} new${moves})` : '; not saved (--no-save)';
          const cutText = result.cutOff > 0 ? ` (${result.cutOff} stopped by the overall ${timeoutMs} ms timeout)` : '';
          // The warning itself went out before the device list, where it scrolls away.
          const warningText = result.warnings.some((w) => w.code === 'no-multicast-interface') ? '; no multicast probe (see the warning)' : '';
          ctx.out(`${ok} device(s) identified, ${failed} failed${cutText}${savedText}, in ${(result.durationMs / 1000).toFixed(1)} s${warningText}\n`);
        }
        return failed > 0 ? 1 : 0;
      }),
    );
}
