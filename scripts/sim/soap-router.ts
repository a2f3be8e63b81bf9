// Dispatches one SOAP operation (already authenticated) to its template, by namespace URI and
// local name of the Body's first element. Unknown operations get ter:ActionNotSupported.
import type { DeviceClock } from './clock';
import type { DeviceModel, StreamProfile } from './model';
import { FAULTS, NS, type SoapFault } from './soap';
import * as dev from './templates-device';
import * as media from './templates-media';
import { child, type XmlElement } from './xml';

export interface DeviceState {
  readonly model: DeviceModel;
  readonly clock: DeviceClock;
  time: dev.TimeSettings;
  /** Port of the shared RTSP server (554 is reported when RTSP is off: nothing listens there). */
  rtspPort(): number;
  /** Called after the SystemReboot response went out. */
  reboot(): void;
  /** SetSynchronizationPoint on this profile: count it and make its RTSP mount's encoder emit a keyframe. */
  requestKeyframe(profile: StreamProfile): void;
}

export type SoapOutcome =
  | { kind: 'body'; body: string; afterResponse?: () => void }
  | { kind: 'fault'; fault: SoapFault };

type Handler = (state: DeviceState, op: XmlElement) => SoapOutcome;

const ok = (body: string, afterResponse?: () => void): SoapOutcome => ({ kind: 'body', body, afterResponse });
const fail = (fault: SoapFault): SoapOutcome => ({ kind: 'fault', fault });

/** Operations any client may call before it knows the clock offset (the ONVIF rule cameras follow). */
export function isPreAuthOperation(op: XmlElement): boolean {
  return op.ns === NS.tds && op.local === 'GetSystemDateAndTime';
}

function findProfile(state: DeviceState, op: XmlElement): StreamProfile | SoapFault {
  const token = child(op, NS.trt, 'ProfileToken')?.text;
  const profile = state.model.profiles.find((p) => p.token === token);
  return profile ?? FAULTS.invalidArg('ter:NoProfile', `Profile token "${token ?? ''}" does not exist`);
}

function withProfile(render: (state: DeviceState, p: StreamProfile) => string): Handler {
  return (state, op) => {
    const p = findProfile(state, op);
    return 'token' in p ? ok(render(state, p)) : fail(p);
  };
}

function setSystemDateAndTime(state: DeviceState, op: XmlElement): SoapOutcome {
  const type = child(op, NS.tds, 'DateTimeType')?.text;
  if (type !== 'Manual' && type !== 'NTP') return fail(FAULTS.invalidArg('ter:InvalidDateTime', 'DateTimeType must be Manual or NTP'));
  const tz = child(child(op, NS.tds, 'TimeZone'), NS.tt, 'TZ')?.text;
  if (type === 'NTP') {
    state.clock.syncWithNtp();
  } else {
    const utc = child(op, NS.tds, 'UTCDateTime');
    if (utc) {
      const date = child(utc, NS.tt, 'Date');
      const time = child(utc, NS.tt, 'Time');
      const num = (el: XmlElement | undefined, name: string): number => Number(child(el, NS.tt, name)?.text ?? NaN);
      const ms = Date.UTC(num(date, 'Year'), num(date, 'Month') - 1, num(date, 'Day'), num(time, 'Hour'), num(time, 'Minute'), num(time, 'Second'));
      if (Number.isNaN(ms)) return fail(FAULTS.invalidArg('ter:InvalidDateTime', 'UTCDateTime is incomplete'));
      state.clock.setUtc(new Date(ms));
    }
  }
  state.time = { dateTimeType: type, timeZone: tz ?? state.time.timeZone };
  return ok(dev.setSystemDateAndTime());
}

/** Media SetSynchronizationPoint: the profile's encoder emits a keyframe now; the answer is empty. */
function setSynchronizationPoint(state: DeviceState, op: XmlElement): SoapOutcome {
  const p = findProfile(state, op);
  if (!('token' in p)) return fail(p);
  state.requestKeyframe(p);
  return ok(media.setSynchronizationPoint());
}

const HANDLERS = new Map<string, Handler>([
  [`${NS.tds} GetSystemDateAndTime`, (s) => ok(dev.getSystemDateAndTime(s.model, s.clock.now(), s.time))],
  [`${NS.tds} SetSystemDateAndTime`, setSystemDateAndTime],
  [`${NS.tds} GetDeviceInformation`, (s) => ok(dev.getDeviceInformation(s.model))],
  [`${NS.tds} GetCapabilities`, (s) => ok(dev.getCapabilities(s.model))],
  [`${NS.tds} GetServices`, (s, op) => ok(dev.getServices(s.model, child(op, NS.tds, 'IncludeCapability')?.text === 'true'))],
  [`${NS.tds} GetNetworkInterfaces`, (s) => ok(dev.getNetworkInterfaces(s.model))],
  [`${NS.tds} GetScopes`, (s) => ok(dev.getScopes(s.model))],
  [`${NS.tds} GetHostname`, (s) => ok(dev.getHostname(s.model))],
  [`${NS.tds} SystemReboot`, (s) => ok(dev.systemReboot(s.model.rebootDowntimeMs), () => s.reboot())],
  [`${NS.trt} GetProfiles`, (s) => ok(media.getProfiles(s.model))],
  [`${NS.trt} GetProfile`, withProfile((s, p) => media.getProfile(s.model, p))],
  [`${NS.trt} GetVideoSources`, (s) => ok(media.getVideoSources(s.model))],
  [`${NS.trt} GetStreamUri`, withProfile((s, p) => media.getStreamUri(s.model, p, s.rtspPort()))],
  [`${NS.trt} GetSnapshotUri`, withProfile((s, p) => media.getSnapshotUri(s.model, p))],
  [`${NS.trt} SetSynchronizationPoint`, setSynchronizationPoint],
]);

export function routeOperation(state: DeviceState, op: XmlElement): SoapOutcome {
  const handler = HANDLERS.get(`${op.ns} ${op.local}`);
  return handler ? handler(state, op) : fail(FAULTS.actionNotSupported(op.local));
}
