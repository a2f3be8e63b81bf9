// Dispatches one SOAP operation (already authenticated) to its template, by namespace URI and
// local name of the Body's first element. Unknown operations get ter:ActionNotSupported.
import type { DeviceClock } from './clock';
import { GOV_LENGTH_MAX, GOV_LENGTH_MIN, type DeviceModel, type StreamProfile } from './model';
import { FAULTS, NS, type SoapFault } from './soap';
import * as dev from './templates-device';
import * as media from './templates-media';
import { attr, child, type XmlElement } from './xml';

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
  /** An accepted SetVideoEncoderConfiguration: count it and set the profile's GovLength now (later
   * reads see it); returns what to do once the response went out (restart the RTSP encoder). */
  changeEncoder(profile: StreamProfile, govLength: number): () => void;
}

export type SoapOutcome = { kind: 'body'; body: string; afterResponse?: () => void } | { kind: 'fault'; fault: SoapFault };

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

/** Media SetSynchronizationPoint: the profile's encoder emits a keyframe now; the answer is empty.
 * A device configured without it (keyframeRequests: false) refuses it before looking at the token,
 * as a camera that does not implement the operation does. */
function setSynchronizationPoint(state: DeviceState, op: XmlElement): SoapOutcome {
  if (!state.model.keyframeRequests) return fail(FAULTS.actionNotSupported(op.local));
  const p = findProfile(state, op);
  if (!('token' in p)) return fail(p);
  state.requestKeyframe(p);
  return ok(media.setSynchronizationPoint());
}

/** The profile whose video encoder configuration has this token (one encoder per profile). */
function findEncoder(state: DeviceState, token: string | undefined): StreamProfile | SoapFault {
  const profile = state.model.profiles.find((p) => media.encoderToken(p) === token);
  return profile ?? FAULTS.invalidArg('ter:NoConfig', `Video encoder configuration token "${token ?? ''}" does not exist`);
}

function getVideoEncoderConfiguration(state: DeviceState, op: XmlElement): SoapOutcome {
  const p = findEncoder(state, child(op, NS.trt, 'ConfigurationToken')?.text);
  return 'token' in p ? ok(media.getVideoEncoderConfiguration(state.model, p)) : fail(p);
}

const configModify = (why: string): SoapFault => FAULTS.invalidArg('ter:ConfigModify', why);

/** Every element with this local name below `el`, whatever its namespace. */
function allNamed(el: XmlElement, local: string): XmlElement[] {
  return el.children.flatMap((c) => [...(c.local === local ? [c] : []), ...allNamed(c, local)]);
}

/**
 * Media1 SetVideoEncoderConfiguration. Only the keyframe interval is applied (GovLength, under
 * H264 or any other codec block); resolution, rate, quality and the rest are accepted and left as
 * they are, since the RTSP mounts and their SDP cache are built for fixed sizes and rates. The
 * value changes at once; the stream's encoder restarts after the response went out, as a real
 * camera's does (its RTSP viewers are dropped).
 */
function setVideoEncoderConfiguration(state: DeviceState, op: XmlElement): SoapOutcome {
  const config = child(op, NS.trt, 'Configuration');
  if (!config) return fail(configModify('SetVideoEncoderConfiguration needs a trt:Configuration element'));
  const p = findEncoder(state, attr(config, 'token'));
  if (!('token' in p)) return fail(p);
  const persistence = child(op, NS.trt, 'ForcePersistence')?.text;
  if (persistence === undefined) return fail(configModify('ForcePersistence is missing (required by Media1 SetVideoEncoderConfiguration)'));
  if (!['true', 'false', '1', '0'].includes(persistence)) return fail(configModify(`ForcePersistence must be a boolean, got "${persistence}"`));
  // A GovLength outside tt: would be silently ignored by a strict camera; say so instead, so a
  // client with a namespace bug learns it here and not from a stream that never changes.
  const govs = allNamed(config, 'GovLength');
  const misplaced = govs.find((g) => g.ns !== NS.tt);
  if (misplaced) return fail(configModify(`GovLength must be in the ${NS.tt} namespace, got "${misplaced.ns}"`));
  const text = govs[0]?.text;
  let govLength = p.govLength;
  if (text !== undefined) {
    govLength = /^\d{1,6}$/.test(text) ? Number(text) : NaN;
    if (!(govLength >= GOV_LENGTH_MIN && govLength <= GOV_LENGTH_MAX)) {
      return fail(configModify(`GovLength must be an integer ${GOV_LENGTH_MIN}..${GOV_LENGTH_MAX}, got "${text}"`));
    }
  }
  return ok(media.setVideoEncoderConfiguration(), state.changeEncoder(p, govLength));
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
  [`${NS.trt} GetVideoEncoderConfiguration`, getVideoEncoderConfiguration],
  [`${NS.trt} GetVideoEncoderConfigurations`, (s) => ok(media.getVideoEncoderConfigurations(s.model))],
  [`${NS.trt} SetVideoEncoderConfiguration`, setVideoEncoderConfiguration],
]);

export function routeOperation(state: DeviceState, op: XmlElement): SoapOutcome {
  const handler = HANDLERS.get(`${op.ns} ${op.local}`);
  return handler ? handler(state, op) : fail(FAULTS.actionNotSupported(op.local));
}
