#!/usr/bin/env node
// Demo CLI: node dist/scripts/sim/cli.js --count 16 --subnet 127.20.0.0 [--vendor mix] [--rtsp-port N]
// Prints the simulated devices (table, or JSON with --json) and runs until SIGINT/SIGTERM.
import { parseArgs } from 'node:util';
import { loopbackHosts, SIM_FAULTS, SIM_FPS_MAX, SIM_FPS_MIN, SIM_PICTURES } from './model';
import { startSimulator } from './index';
import type { SimCameraSpec, SimFault, SimPicture, SimVendor, Simulator } from './types';
import { SIM_VENDORS } from './vendors';

const USAGE = `usage: cli.js [--count N] [--subnet 127.A.B.C] [--vendor mix|${SIM_VENDORS.join('|')}]
              [--rtsp-port N] [--no-rtsp] [--rtsp-auth] [--multicast] [--http-port N]
              [--username U] [--password P] [--picture ${SIM_PICTURES.join('|')}]
              [--fault ${SIM_FAULTS.join('|')}] [--no-keyframe-requests]
              [--main-fps F] [--sub-fps F] [--json]
--picture, --fault, --no-keyframe-requests (SetSynchronizationPoint refused) and the frame rates
(--main-fps default 25, --sub-fps default 15; fractions such as 12.5 allowed) apply to every
device. --json also lists each channel's stream URLs.`;

function printTable(sim: Simulator): void {
  const rows = sim.cameras.map((c) => [
    c.id,
    c.spec.vendor,
    c.spec.host,
    c.spec.auth,
    `${c.spec.channels}`,
    c.xaddr,
    sim.rtspPort ? c.rtspUrl(1, 'main') : '-',
  ]);
  const head = ['ID', 'VENDOR', 'HOST', 'AUTH', 'CH', 'XADDR', 'RTSP (ch1 main)'];
  const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => c.padEnd(widths[i] ?? 0))
      .join('  ')
      .trimEnd();
  console.log(line(head));
  for (const r of rows) console.log(line(r));
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      count: { type: 'string', default: '16' },
      subnet: { type: 'string', default: '127.20.0.0' },
      vendor: { type: 'string', default: 'mix' },
      'rtsp-port': { type: 'string', default: '8554' },
      'no-rtsp': { type: 'boolean', default: false },
      'rtsp-auth': { type: 'boolean', default: false },
      multicast: { type: 'boolean', default: false },
      'http-port': { type: 'string' },
      username: { type: 'string' },
      password: { type: 'string' },
      picture: { type: 'string' },
      fault: { type: 'string' },
      'no-keyframe-requests': { type: 'boolean', default: false },
      'main-fps': { type: 'string' },
      'sub-fps': { type: 'string' },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', short: 'h', default: false },
    },
  });
  if (values.help) {
    console.log(USAGE);
    return;
  }
  const count = Number(values.count);
  if (!Number.isInteger(count) || count < 1) throw new Error(`--count must be a positive integer\n${USAGE}`);
  const vendor = values.vendor ?? 'mix';
  if (vendor !== 'mix' && !SIM_VENDORS.includes(vendor as SimVendor)) throw new Error(`unknown --vendor "${vendor}"\n${USAGE}`);
  const picture = values.picture as SimPicture | undefined;
  if (picture !== undefined && !SIM_PICTURES.includes(picture)) throw new Error(`unknown --picture "${picture}"\n${USAGE}`);
  const fault = values.fault as SimFault | undefined;
  if (fault !== undefined && !SIM_FAULTS.includes(fault)) throw new Error(`unknown --fault "${fault}"\n${USAGE}`);
  const fpsOption = (name: 'main-fps' | 'sub-fps'): number | undefined => {
    const text = values[name];
    if (text === undefined) return undefined;
    const fps = Number(text);
    if (text.trim() === '' || !Number.isFinite(fps) || fps < SIM_FPS_MIN || fps > SIM_FPS_MAX) {
      throw new Error(`--${name} must be frames per second from ${SIM_FPS_MIN} to ${SIM_FPS_MAX} (e.g. 10 or 12.5), got "${text}"\n${USAGE}`);
    }
    return fps;
  };
  const mainFps = fpsOption('main-fps');
  const subFps = fpsOption('sub-fps');
  const cameras: SimCameraSpec[] = loopbackHosts(values.subnet ?? '127.20.0.0', count).map((host, i) => ({
    host,
    vendor: vendor === 'mix' ? SIM_VENDORS[i % SIM_VENDORS.length] : (vendor as SimVendor),
    httpPort: values['http-port'] ? Number(values['http-port']) : undefined,
    username: values.username,
    password: values.password,
    ...(picture ? { picture } : {}),
    ...(fault ? { fault } : {}),
    ...(values['no-keyframe-requests'] ? { keyframeRequests: false } : {}),
    ...(mainFps !== undefined ? { mainFps } : {}),
    ...(subFps !== undefined ? { subFps } : {}),
  }));
  const sim = await startSimulator({
    cameras,
    rtsp: !values['no-rtsp'],
    rtspPort: Number(values['rtsp-port']),
    rtspAuth: values['rtsp-auth'],
    multicast: values.multicast,
  });
  if (values.json) {
    console.log(
      JSON.stringify(
        {
          rtspPort: sim.rtspPort,
          startupMs: sim.startupMs,
          cameras: sim.cameras.map((c) => ({
            ...c.spec,
            id: c.id,
            xaddr: c.xaddr,
            deviceUrl: c.deviceUrl,
            rtspMain: sim.rtspPort ? c.rtspUrl(1, 'main') : null,
            streams: Array.from({ length: c.spec.channels }, (_, i) => ({ channel: i + 1, main: c.rtspUrl(i + 1, 'main'), sub: c.rtspUrl(i + 1, 'sub') })),
          })),
        },
        null,
        2,
      ),
    );
  } else {
    printTable(sim);
    console.log(
      `\n${count} devices up in ${sim.startupMs.devices} ms; RTSP ${sim.rtspPort ? `on port ${sim.rtspPort} (${sim.startupMs.rtsp} ms)` : 'off'}. Ctrl-C to stop.`,
    );
  }
  const shutdown = (): void => {
    sim.stop().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.once('SIGINT', shutdown);
  process.once('SIGTERM', shutdown);
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  });
}
