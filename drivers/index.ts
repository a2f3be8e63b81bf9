// Entry point of the device-access layer: open a driver for a target, discover devices, and the
// helpers the CLI needs to validate what people type.
import type { Credentials, DeviceDriver } from './types';
import { OnvifDriver } from './onvif/driver';
import { RtspDriver } from './rtsp/driver';

export * from './types';
export { OnvifDriver, DEFAULT_TIMEOUT_MS, DEFAULT_MAX_RESPONSE_BYTES } from './onvif/driver';
export type { OnvifDriverOptions } from './onvif/driver';
export { RtspDriver, RTSP_PROFILE_TOKEN } from './rtsp/driver';
export type { RtspDriverOptions } from './rtsp/driver';
export { probe, probeWithStats, NoMulticastInterfaceError, WS_DISCOVERY_GROUP, WS_DISCOVERY_PORT } from './onvif/discovery';
export type { ProbeOptions, ProbeProgress, ProbeStats } from './onvif/discovery';
export type { ProbeMatch } from './onvif/probe-message';
export { expandTargets, TargetSpecError } from './onvif/targets';
export type { ExpandTargetsOptions } from './onvif/targets';
export { targetFromProbeMatch } from './onvif/probe-target';
export { parseDeviceTarget, parseRtspUrl } from './target';
export type { DeviceTarget, OnvifTarget, RtspTarget, ParsedRtspUrl } from './target';
export { rewriteDeviceUri } from './uri';

export interface DriverOptions {
  /** Hard deadline per device request; default 5000 ms. */
  timeoutMs?: number;
  /** Largest response accepted; default 2 MB (ONVIF), 256 KiB (RTSP DESCRIBE). */
  maxResponseBytes?: number;
}

export type OpenTarget =
  { kind: 'onvif'; host: string; port?: number; path?: string; endpointUuid?: string; scopes?: string[] } | { kind: 'rtsp'; url: string };

/** A driver bound to one device. Nothing is sent until a method is called. */
export function openDriver(target: OpenTarget, credentials?: Credentials, options: DriverOptions = {}): DeviceDriver {
  if (target.kind === 'rtsp') {
    return new RtspDriver({ url: target.url, credentials, timeoutMs: options.timeoutMs, maxResponseBytes: options.maxResponseBytes });
  }
  const discovered = target.endpointUuid || target.scopes ? { endpointUuid: target.endpointUuid, scopes: target.scopes } : undefined;
  return new OnvifDriver({
    host: target.host,
    port: target.port,
    path: target.path,
    credentials,
    timeoutMs: options.timeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    ...(discovered ? { discovered } : {}),
  });
}
