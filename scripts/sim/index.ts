// Camera simulator entry point: N ONVIF devices on loopback addresses plus one shared RTSP server.
import { performance } from 'node:perf_hooks';
import { SimDevice } from './device';
import { MulticastDiscoveryHub } from './discovery';
import { resolveCamera, SIM_PICTURES, type DeviceModel } from './model';
import { DEFAULT_PYTHON, mountsFor, RtspServerProcess } from './rtsp-manager';
import { builtinJpeg, snapshotJpeg } from './snapshot';
import type { Simulator, SimulatorOptions, SimPicture } from './types';

export type * from './types';
export { SIM_VENDORS } from './vendors';
export { loopbackHosts, SIM_FAULTS, SIM_PICTURES } from './model';

function resolveAll(opts: SimulatorOptions): DeviceModel[] {
  const models = opts.cameras.map(resolveCamera);
  const seen = new Set<string>();
  for (const m of models) {
    for (const key of [`host ${m.spec.host}`, `id ${m.id}`]) {
      if (seen.has(key)) throw new Error(`two simulated cameras share the same ${key}`);
      seen.add(key);
    }
  }
  return models;
}

export async function startSimulator(opts: SimulatorOptions): Promise<Simulator> {
  const t0 = performance.now();
  const models = resolveAll(opts);
  const rtsp = new RtspServerProcess();
  const mounts = opts.rtsp === false ? [] : mountsFor(models);
  const snapshots = new Map<SimPicture, Buffer>();
  const ctx = {
    rtspPort: () => rtsp.port,
    snapshot: (picture: SimPicture) => snapshots.get(picture) ?? builtinJpeg(picture),
    reuseDiscoveryAddr: opts.multicast === true,
  };
  const devices = models.map((m) => new SimDevice(m, ctx));
  let hub: MulticastDiscoveryHub | undefined;
  let rtspMs = 0;

  const stopAll = async (): Promise<void> => {
    await Promise.all([...devices.map((d) => d.stop()), hub?.close(), rtsp.stop()]);
  };

  const startRtsp = async (): Promise<void> => {
    if (mounts.length === 0) return;
    const r0 = performance.now();
    await rtsp.start(mounts, {
      python: opts.rtspPython ?? DEFAULT_PYTHON,
      port: opts.rtspPort ?? 0,
      bind: opts.rtspBind ?? '0.0.0.0',
      auth: opts.rtspAuth === true,
      startTimeoutMs: opts.rtspStartTimeoutMs ?? 20_000,
    });
    rtspMs = performance.now() - r0;
  };
  let devicesMs = 0;
  const startDevices = async (): Promise<void> => {
    const pictures = SIM_PICTURES.filter((p) => models.some((m) => (m.spec.picture ?? 'moving') === p));
    const render = async (picture: SimPicture) => {
      snapshots.set(picture, await snapshotJpeg(picture));
    };
    await Promise.all([...pictures.map(render), ...devices.map((d) => d.start())]);
    if (opts.multicast) {
      hub = new MulticastDiscoveryHub(
        devices.map((d) => d.discovery),
        opts.multicastInterface,
      );
      await hub.start();
    }
    devicesMs = performance.now() - t0;
  };

  // allSettled, not all: on failure, nothing may be left half-started behind the rejection.
  const results = await Promise.allSettled([startDevices(), startRtsp()]);
  const failure = results.find((r): r is PromiseRejectedResult => r.status === 'rejected');
  if (failure) {
    await stopAll();
    throw failure.reason;
  }

  let stopping: Promise<void> | undefined;
  return {
    cameras: devices.map((d) => d.running()),
    rtspPort: rtsp.port,
    startupMs: { devices: Math.round(devicesMs), rtsp: Math.round(rtspMs) },
    stop: () => (stopping ??= stopAll()),
  };
}
