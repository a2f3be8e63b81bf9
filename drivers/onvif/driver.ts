// DeviceDriver for ONVIF cameras and NVRs. Transport and auth come from the onvif package (via
// SoapClient); parsing, host rewriting and error mapping are ours.
import type { ChannelReport, ClockReading, Credentials, DeviceDriver, DeviceIdentity, DeviceReport, KeyframeInterval, MediaProfile } from '../types';
import { DriverError } from '../types';
import { escapeXml, type XmlElement } from '../xml';
import { checkDeviceUri } from '../uri';
import { SoapClient, NS, type OnvifService } from './soap-client';
import { normalizeEndpointUuid } from '../ids';
import { encoderConfigurationOf, readKeyframeInterval, setKeyframeIntervalBody, type MediaVersion } from './encoder';
import {
  clockReading,
  parseCapabilities,
  parseDeviceInformation,
  parseDeviceUtc,
  parseEndpointReference,
  parseMac,
  parseMediaUri,
  parseProfiles,
  parseScopes,
  parseServices,
  parseVideoSources,
} from './parse';
import { bracketHost } from '../../lib/url';
import { deviceField, printableLine } from '../../lib/text';

export const DEFAULT_TIMEOUT_MS = 5000;
export const DEFAULT_MAX_RESPONSE_BYTES = 2 * 1024 * 1024;
export const DEFAULT_DEVICE_PATH = '/onvif/device_service';
// Tried when the default path answers 404 and the caller gave no path (Tapo: port 2020, /onvif/service).
const ALTERNATIVE_PATHS = ['/onvif/service'];

export interface OnvifDriverOptions {
  host: string;
  port?: number;
  /** Device service path; default /onvif/device_service. */
  path?: string;
  credentials?: Credentials;
  /** Hard deadline per SOAP call. Default 5000 ms (the onvif package's default is 120 s). */
  timeoutMs?: number;
  /** Responses over this size are refused. Default 2 MB. */
  maxResponseBytes?: number;
  /** What WS-Discovery already told us, so report() need not ask again. */
  discovered?: { endpointUuid?: string; scopes?: string[] };
}

const OPTIONAL_CODES = new Set(['unsupported', 'device-fault', 'malformed']);

/** True for failures that mean "this call is not available here", not "the device is gone /
 * is not ONVIF / refused us". */
function isOptionalFailure(err: unknown): boolean {
  return err instanceof DriverError && OPTIONAL_CODES.has(err.code);
}

function pixels(p: MediaProfile): number {
  return (p.width ?? 0) * (p.height ?? 0);
}

/** A profile as notes name it: `"Main Stream" (token main)`. */
function profileLabel(p: MediaProfile): string {
  const token = printableLine(p.token, 64);
  return p.name ? `${JSON.stringify(printableLine(p.name, 64))} (token ${token})` : `token ${token}`;
}

/** What fetchUri found: the URI, or why there is none (undefined: the device has none to give). */
interface FetchedUri {
  uri?: string;
  problem?: string;
}

export class OnvifDriver implements DeviceDriver {
  readonly kind = 'onvif' as const;
  readonly host: string;
  readonly port: number;
  private readonly client: SoapClient;
  private readonly explicitPath: boolean;
  private connecting?: Promise<void>;
  private lastClock?: ClockReading;

  constructor(private readonly options: OnvifDriverOptions) {
    this.host = options.host.replace(/^\[|\]$/g, '');
    this.port = options.port ?? 80;
    this.explicitPath = options.path !== undefined;
    this.client = new SoapClient({
      host: this.host,
      port: this.port,
      path: options.path ?? DEFAULT_DEVICE_PATH,
      credentials: options.credentials,
      timeoutMs: options.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      maxResponseBytes: options.maxResponseBytes ?? DEFAULT_MAX_RESPONSE_BYTES,
    });
  }

  /** "host:port", as used in error messages. */
  get device(): string {
    return this.client.device;
  }

  /** Whether the device accepted WS-Security (false after falling back to Digest only). */
  get usingWsSecurity(): boolean {
    return this.client.usingWsSecurity;
  }

  /** The Created timestamp our next WS-Security header would carry (device clock). */
  wsSecurityCreated(): string | undefined {
    return this.client.wsSecurityCreated();
  }

  /** Read the device clock (so WS-Security uses it) and find the service endpoints.
   * Done once; a failed attempt is forgotten so the next call retries. */
  connect(): Promise<void> {
    this.connecting ??= this.doConnect().catch((err) => {
      this.connecting = undefined;
      throw err;
    });
    return this.connecting;
  }

  private async doConnect(): Promise<void> {
    try {
      await this.readClock();
    } catch (err) {
      if (!this.explicitPath && this.client.lastStatus === 404 && (await this.tryAlternativePaths())) {
        // found the service elsewhere; readClock already ran there
      } else if (!isOptionalFailure(err)) {
        throw err;
      }
      // No usable clock (e.g. no UTCDateTime): carry on with ours; WS-Security may then fail
      // on a skewed device, and the Digest fallback covers most of those.
    }
    await this.discoverServices();
  }

  private async tryAlternativePaths(): Promise<boolean> {
    for (const p of ALTERNATIVE_PATHS) {
      this.client.setDevicePath(p);
      try {
        await this.readClock();
        return true;
      } catch (err) {
        if (!isOptionalFailure(err) && !(err instanceof DriverError && err.code === 'not-onvif')) throw err;
      }
    }
    this.client.setDevicePath(this.options.path ?? DEFAULT_DEVICE_PATH);
    return false;
  }

  private async discoverServices(): Promise<void> {
    let xaddrs: Record<string, string>;
    try {
      const resp = await this.client.call(
        'device',
        NS.device,
        'GetServices',
        `<GetServices xmlns="${NS.device}"><IncludeCapability>false</IncludeCapability></GetServices>`,
      );
      xaddrs = parseServices(resp);
    } catch (err) {
      if (!isOptionalFailure(err)) throw err;
      // GetServices arrived in ONVIF 2.0; older devices only have GetCapabilities.
      const resp = await this.client.call(
        'device',
        NS.device,
        'GetCapabilities',
        `<GetCapabilities xmlns="${NS.device}"><Category>All</Category></GetCapabilities>`,
      );
      xaddrs = parseCapabilities(resp);
    }
    for (const [service, xaddr] of Object.entries(xaddrs)) this.client.setServiceUrl(service, xaddr);
  }

  /** GetSystemDateAndTime, unauthenticated first (the spec requires it to work without
   * credentials; some Panasonic and Hikvision firmwares refuse that, then we authenticate). */
  private async getSystemDateAndTime(): Promise<ClockReading> {
    const inner = `<GetSystemDateAndTime xmlns="${NS.device}"/>`;
    const before = Date.now();
    let resp: XmlElement;
    try {
      resp = await this.client.callAnonymous('device', NS.device, 'GetSystemDateAndTime', inner);
    } catch (err) {
      if (!(err instanceof DriverError && err.code === 'auth') || !this.options.credentials) throw err;
      resp = await this.client.call('device', NS.device, 'GetSystemDateAndTime', inner);
    }
    const after = Date.now();
    const { utcMs, timeZone } = parseDeviceUtc(resp);
    if (utcMs === undefined) {
      throw new DriverError('malformed', `${this.device} reports no UTCDateTime (cannot tell its clock offset)`, this.device);
    }
    // The answer was produced somewhere between sending and receiving: take the midpoint. The
    // device sends whole seconds (truncated), so its true clock lies in [t, t + 1 s): add half.
    const mid = Math.round((before + after) / 2);
    const deviceMs = utcMs + 500;
    this.client.setDeviceClock(deviceMs, mid);
    return { ...clockReading(deviceMs, mid, timeZone), deviceUtc: new Date(utcMs).toISOString() };
  }

  private async readClock(): Promise<ClockReading> {
    this.lastClock = await this.getSystemDateAndTime();
    return this.lastClock;
  }

  async identify(): Promise<DeviceIdentity> {
    await this.connect();
    const info = await this.client.call('device', NS.device, 'GetDeviceInformation', `<GetDeviceInformation xmlns="${NS.device}"/>`);
    const identity = parseDeviceInformation(info);
    try {
      const nics = await this.client.call('device', NS.device, 'GetNetworkInterfaces', `<GetNetworkInterfaces xmlns="${NS.device}"/>`);
      const mac = parseMac(nics);
      if (mac) identity.mac = mac;
    } catch (err) {
      // Some firmwares restrict GetNetworkInterfaces to administrators; the MAC is optional.
      if (!isOptionalFailure(err) && !this.client.isAuthError(err)) throw err;
    }
    return identity;
  }

  /** Media1 when the device has it (every Profile S device), Media2 only for Media2-only devices. */
  private mediaService(): { service: OnvifService; ns: string } {
    if (this.client.hasService('media') || !this.client.hasService('media2')) return { service: 'media', ns: NS.media };
    return { service: 'media2', ns: NS.media2 };
  }

  private async profilesAndSources(): Promise<{ profiles: MediaProfile[]; sources: string[] }> {
    const { service, ns } = this.mediaService();
    const body = service === 'media2' ? `<GetProfiles xmlns="${ns}"><Type>All</Type></GetProfiles>` : `<GetProfiles xmlns="${ns}"/>`;
    const profiles = parseProfiles(await this.client.call(service, ns, 'GetProfiles', body));
    let sources: string[] = [];
    if (service === 'media') {
      try {
        sources = parseVideoSources(await this.client.call('media', NS.media, 'GetVideoSources', `<GetVideoSources xmlns="${NS.media}"/>`));
      } catch (err) {
        if (!isOptionalFailure(err)) throw err;
      }
    }
    // Sources only referenced by profiles (or all of them on Media2) follow, in profile order.
    for (const p of profiles) {
      if (p.videoSourceToken && !sources.includes(p.videoSourceToken)) sources.push(p.videoSourceToken);
    }
    return { profiles, sources };
  }

  /** One channel per video source, numbered 1..N in the device's source order (a source with
   * no profile keeps its number so NVR channel numbers stay stable). */
  async channels(): Promise<ChannelReport[]> {
    await this.connect();
    const { profiles, sources } = await this.profilesAndSources();
    const channels: ChannelReport[] = sources.map((token, i) => ({ channel: i + 1, videoSourceToken: token, profiles: [] }));
    const orphans: MediaProfile[] = [];
    for (const p of profiles) {
      const ch = channels.find((c) => c.videoSourceToken === p.videoSourceToken);
      if (ch) ch.profiles.push(p);
      else orphans.push(p);
    }
    if (orphans.length > 0) {
      if (channels.length <= 1) {
        if (channels.length === 0) channels.push({ channel: 1, profiles: [] });
        channels[0].profiles.push(...orphans);
      } else {
        channels.push({ channel: channels.length + 1, profiles: orphans });
      }
    }
    for (const ch of channels) {
      // Main stream first: largest resolution; stable sort keeps device order for ties.
      ch.profiles.sort((a, b) => pixels(b) - pixels(a));
      for (const p of ch.profiles) {
        // Why a profile has no stream URI is kept with it (cameras show prints it); a missing
        // snapshot URI is normal and only noted when the device's answer was refused.
        const notes: string[] = [];
        const stream = await this.fetchUri('GetStreamUri', p.token, true);
        if (stream.uri) p.streamUri = stream.uri;
        else notes.push(`profile ${profileLabel(p)} has no stream URI: ${stream.problem ?? 'the device reported none'}`);
        const snapshot = await this.fetchUri('GetSnapshotUri', p.token, true);
        if (snapshot.uri) p.snapshotUri = snapshot.uri;
        else if (snapshot.problem && !snapshot.tolerated) notes.push(`profile ${profileLabel(p)} has no snapshot URI: ${snapshot.problem}`);
        if (notes.length > 0) p.notes = notes;
      }
    }
    return channels;
  }

  /** The URI of one profile. `optional`: a failed call or a refused answer is returned as a
   * problem (`tolerated` when the call failed in a way devices commonly do), not thrown. */
  private async fetchUri(op: 'GetStreamUri' | 'GetSnapshotUri', token: string, optional: boolean): Promise<FetchedUri & { tolerated?: boolean }> {
    const { service, ns } = this.mediaService();
    const t = escapeXml(token);
    let body: string;
    if (op === 'GetSnapshotUri') body = `<GetSnapshotUri xmlns="${ns}"><ProfileToken>${t}</ProfileToken></GetSnapshotUri>`;
    else if (service === 'media2') body = `<GetStreamUri xmlns="${ns}"><Protocol>RTSP</Protocol><ProfileToken>${t}</ProfileToken></GetStreamUri>`;
    else {
      body =
        `<GetStreamUri xmlns="${ns}"><StreamSetup><Stream xmlns="${NS.schema}">RTP-Unicast</Stream>` +
        `<Transport xmlns="${NS.schema}"><Protocol>RTSP</Protocol></Transport></StreamSetup>` +
        `<ProfileToken>${t}</ProfileToken></GetStreamUri>`;
    }
    let raw: string | undefined;
    try {
      raw = parseMediaUri(await this.client.call(service, ns, op, body));
    } catch (err) {
      // Snapshots are extra: some firmwares restrict GetSnapshotUri to administrators.
      const tolerated = isOptionalFailure(err) || (op === 'GetSnapshotUri' && this.client.isAuthError(err));
      if (optional && tolerated) return { problem: `${op} failed: ${(err as Error).message}`, tolerated: true };
      throw err;
    }
    // Never follow the host the device reports (private, NATed, 169.254.x, IPv6 link-local), nor
    // a scheme the agent does not use for this kind of URI (file://, ftp://...).
    const checked: FetchedUri & { tolerated?: boolean } =
      raw === undefined
        ? { problem: `the device answered ${op} without a URI`, tolerated: true }
        : checkDeviceUri(raw, this.host, op === 'GetStreamUri' ? 'stream' : 'snapshot');
    if (checked.uri === undefined && !optional) {
      throw new DriverError(
        'malformed',
        `${this.device} returned no usable URI for profile ${printableLine(token, 64)} (${op}): ${checked.problem}`,
        this.device,
      );
    }
    return checked;
  }

  /** Fetched anew on every call: Dahua marks URIs InvalidAfterConnect. */
  async streamUri(profileToken: string): Promise<string> {
    await this.connect();
    return (await this.fetchUri('GetStreamUri', profileToken, false)).uri!;
  }

  async snapshotUri(profileToken: string): Promise<string | undefined> {
    await this.connect();
    return (await this.fetchUri('GetSnapshotUri', profileToken, true)).uri;
  }

  /** SetSynchronizationPoint (Media1, or Media2 on a Media2-only device): the encoder of this
   * profile emits a keyframe now. Hikvision, Dahua, Uniview and Axis implement it; a device that
   * does not answers a SOAP fault, which rejects with DriverError 'unsupported' (ActionNotSupported
   * and the like) or 'device-fault'. The response is empty. */
  async requestKeyframe(profileToken: string): Promise<void> {
    await this.connect();
    const { service, ns } = this.mediaService();
    const body = `<SetSynchronizationPoint xmlns="${ns}"><ProfileToken>${escapeXml(profileToken)}</ProfileToken></SetSynchronizationPoint>`;
    await this.client.call(service, ns, 'SetSynchronizationPoint', body);
  }

  /** The profile's encoder configuration: Media1 GetProfile, Media2 GetVideoEncoderConfigurations. */
  private async encoderConfiguration(profileToken: string): Promise<{ config: XmlElement; version: MediaVersion }> {
    await this.connect();
    const { service, ns } = this.mediaService();
    const t = escapeXml(profileToken);
    const resp =
      service === 'media2'
        ? await this.client.call(
            service,
            ns,
            'GetVideoEncoderConfigurations',
            `<GetVideoEncoderConfigurations xmlns="${ns}"><ProfileToken>${t}</ProfileToken></GetVideoEncoderConfigurations>`,
          )
        : await this.client.call(service, ns, 'GetProfile', `<GetProfile xmlns="${ns}"><ProfileToken>${t}</ProfileToken></GetProfile>`);
    const version: MediaVersion = service === 'media2' ? 'media2' : 'media';
    const config = encoderConfigurationOf(resp, version);
    if (!config) throw new DriverError('unsupported', `${this.device} profile ${profileToken} has no video encoder configuration`, this.device);
    return { config, version };
  }

  async keyframeInterval(profileToken: string): Promise<KeyframeInterval> {
    const { config, version } = await this.encoderConfiguration(profileToken);
    try {
      return readKeyframeInterval(config, version);
    } catch (err) {
      if (err instanceof DriverError) throw new DriverError(err.code, `${this.device} profile ${profileToken}: ${err.message}`, this.device);
      throw err;
    }
  }

  /** Reads the configuration afresh (it may have changed since keyframeInterval()) and sends it
   * back with the new GovLength. A device that refuses the value answers a SOAP fault
   * (DriverError 'device-fault', e.g. ter:ConfigModify outside its GovLengthRange). */
  async setKeyframeInterval(profileToken: string, govLength: number): Promise<void> {
    const { config, version } = await this.encoderConfiguration(profileToken);
    let body: string;
    try {
      body = setKeyframeIntervalBody(config, version, govLength);
    } catch (err) {
      if (err instanceof DriverError) throw new DriverError(err.code, `${this.device} profile ${profileToken}: ${err.message}`, this.device);
      throw err;
    }
    const { service, ns } = this.mediaService();
    await this.client.call(service, ns, 'SetVideoEncoderConfiguration', body);
  }

  /** Reads the clock again (and refreshes the WS-Security time shift). */
  async time(): Promise<ClockReading> {
    return this.readClock();
  }

  async setTime(now: Date): Promise<void> {
    await this.connect();
    const d = now;
    const body =
      `<SetSystemDateAndTime xmlns="${NS.device}"><DateTimeType>Manual</DateTimeType><DaylightSavings>false</DaylightSavings>` +
      `<UTCDateTime><Date xmlns="${NS.schema}"><Year>${d.getUTCFullYear()}</Year><Month>${d.getUTCMonth() + 1}</Month><Day>${d.getUTCDate()}</Day></Date>` +
      `<Time xmlns="${NS.schema}"><Hour>${d.getUTCHours()}</Hour><Minute>${d.getUTCMinutes()}</Minute><Second>${d.getUTCSeconds()}</Second></Time></UTCDateTime>` +
      '</SetSystemDateAndTime>';
    await this.client.call('device', NS.device, 'SetSystemDateAndTime', body);
    // The device clock just jumped: WS-Security must follow it or the next call is refused.
    this.client.setDeviceClock(now.getTime(), Date.now());
    try {
      await this.readClock();
    } catch (err) {
      if (!isOptionalFailure(err)) throw err;
    }
  }

  async reboot(): Promise<void> {
    await this.connect();
    await this.client.call('device', NS.device, 'SystemReboot', `<SystemReboot xmlns="${NS.device}"/>`);
    // The device goes away now; the next use must read its clock and services afresh.
    this.connecting = undefined;
  }

  private async optional<T>(fn: () => Promise<T>): Promise<T | undefined> {
    try {
      return await fn();
    } catch (err) {
      if (isOptionalFailure(err) || this.client.isAuthError(err)) return undefined;
      throw err;
    }
  }

  async report(): Promise<DeviceReport> {
    await this.connect();
    const identity = await this.identify();
    const channels = await this.channels();
    const discovered = this.options.discovered;
    let endpointUuid = normalizeEndpointUuid(discovered?.endpointUuid);
    endpointUuid ??= await this.optional(async () => {
      const guid = parseEndpointReference(await this.client.call('device', NS.device, 'GetEndpointReference', `<GetEndpointReference xmlns="${NS.device}"/>`));
      return normalizeEndpointUuid(guid);
    });
    const scopes =
      discovered?.scopes ??
      (await this.optional(async () =>
        parseScopes(await this.client.call('device', NS.device, 'GetScopes', `<GetScopes xmlns="${NS.device}"/>`)).map((s) => {
          try {
            return decodeURIComponent(s);
          } catch {
            return s;
          }
        }),
      ));
    const report: DeviceReport = {
      driver: 'onvif',
      host: this.host,
      port: this.port,
      url: `http://${bracketHost(this.host)}:${this.port}${this.client.servicePath('device')}`,
      identity,
      isNvr: channels.filter((c) => c.videoSourceToken !== undefined).length > 1,
      channels,
    };
    if (endpointUuid) report.endpointUuid = endpointUuid;
    if (this.lastClock) report.clock = this.lastClock;
    if (scopes && scopes.length > 0) report.scopes = scopes.map(deviceField);
    return report;
  }

  close(): void {
    this.client.close();
  }
}
