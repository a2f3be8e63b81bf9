// DeviceDriver for cameras added by RTSP URL only (no ONVIF): identification is what OPTIONS
// and DESCRIBE reveal. One channel, one profile whose stream URI is the URL without credentials.
import type { ChannelReport, ClockReading, Credentials, DeviceDriver, DeviceIdentity, DeviceReport, MediaProfile } from '../types';
import { DriverError } from '../types';
import { parseRtspUrl, type ParsedRtspUrl } from '../target';
import { Authenticator, basicRefusedMessage, pickChallenge } from '../auth';
import { header, rtspRequest, type RtspResponse } from './client';
import { parseSdpVideo, type SdpVideo } from './sdp';
import { bracketHost } from '../../lib/url';
import { printableLine } from '../../lib/text';

export const RTSP_PROFILE_TOKEN = 'rtsp';

export interface RtspDriverOptions {
  url: string;
  /** Overrides credentials embedded in the URL. */
  credentials?: Credentials;
  timeoutMs?: number;
  /** Cap on one RTSP answer body (the SDP). Default 256 KiB. */
  maxResponseBytes?: number;
}

/** The state of RTSP requests to one stream URL: CSeq, and the Authenticator once a 401 was
 * answered. Shared by RtspDriver and the health probe (agent/health/probes/describe.ts). */
export interface RtspExchange {
  target: Pick<ParsedRtspUrl, 'host' | 'port' | 'url'>;
  /** "host:port" for messages. */
  device: string;
  credentials?: Credentials;
  /** Timeout of the next request, ms (a caller can spread one budget over all requests). */
  timeoutMs: () => number;
  /** Cap on one RTSP answer body (the SDP). */
  maxResponseBytes: number;
  cseq: number;
  auth?: Authenticator;
  /** True once nothing more may be sent. */
  isClosed?: () => boolean;
  /** Aborting ends the request in flight and closes its connection. */
  signal?: AbortSignal;
}

/** One RTSP request, authenticating on a 401 when credentials are known: Digest, or Basic only
 * when the login allows it (drivers/auth.ts). */
export async function rtspExchange(ex: RtspExchange, method: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
  const send = () => {
    if (ex.isClosed?.()) throw new DriverError('unreachable', `driver for ${ex.device} is closed`, ex.device);
    return rtspRequest({
      host: ex.target.host,
      port: ex.target.port,
      method,
      url: ex.target.url,
      headers: ex.auth ? { ...headers, Authorization: ex.auth.header(method, ex.target.url) } : headers,
      cseq: ++ex.cseq,
      timeoutMs: ex.timeoutMs(),
      maxResponseBytes: ex.maxResponseBytes,
      device: ex.device,
      ...(ex.signal ? { signal: ex.signal } : {}),
    });
  };
  let res = await send();
  if (res.status === 401) {
    const who = ex.credentials ? ` (${ex.credentials.username})` : '';
    const authFailed = () =>
      new DriverError(
        'auth',
        ex.credentials ? `authentication failed for ${ex.device}${who}: check the camera's username/password` : `${ex.device} requires a username and password`,
        ex.device,
      );
    if (!ex.credentials) throw authFailed();
    const challenge = pickChallenge(res.headers['www-authenticate'] ?? [], ex.credentials);
    if (challenge === 'basic-refused') throw new DriverError('basic-auth-refused', basicRefusedMessage(ex.device), ex.device);
    if (challenge === 'unsupported') throw new DriverError('auth', `${ex.device} asks for an authentication scheme we do not support`, ex.device);
    // A 401 with a fresh challenge after we already authenticated means a stale nonce once,
    // a wrong password otherwise: retry exactly once with the new challenge.
    ex.auth = new Authenticator(ex.credentials, challenge);
    res = await send();
    if (res.status === 401) throw authFailed();
  }
  return res;
}

/** OPTIONS (unless `sendOptions` is false) then DESCRIBE: the first video stream's codec, size
 * and rate from the SDP. */
export async function describeVideo(ex: RtspExchange, sendOptions = true): Promise<SdpVideo> {
  // OPTIONS first, as players do: some servers only answer DESCRIBE after it. Its status is
  // informative only; a garbage answer still fails here.
  if (sendOptions) await rtspExchange(ex, 'OPTIONS');
  const res = await rtspExchange(ex, 'DESCRIBE', { Accept: 'application/sdp' });
  if (res.status !== 200) {
    const what = res.status === 404 ? `no stream at ${ex.target.url}` : `DESCRIBE failed`;
    throw new DriverError('device-fault', `${ex.device}: ${what} (RTSP ${res.status} ${res.reason})`, ex.device);
  }
  const sdp = res.body.toString('utf8');
  const type = header(res, 'content-type') ?? '';
  if (!/application\/sdp/i.test(type) && !/^v=0/m.test(sdp)) {
    throw new DriverError('malformed', `${ex.device} answered DESCRIBE without an SDP (Content-Type ${printableLine(type, 128) || 'none'})`, ex.device);
  }
  const video = parseSdpVideo(sdp);
  if (!video) throw new DriverError('unsupported', `${ex.device}: the stream at ${ex.target.url} has no video`, ex.device);
  return video;
}

export class RtspDriver implements DeviceDriver {
  readonly kind = 'rtsp' as const;
  readonly target: ParsedRtspUrl;
  readonly device: string;
  private readonly exchange: RtspExchange;
  private closed = false;
  /** Aborted by close(): a request in flight ends with the driver. */
  private readonly closing = new AbortController();

  /** Throws TargetSpecError when the URL is not a valid rtsp:// URL. */
  constructor(options: RtspDriverOptions) {
    this.target = parseRtspUrl(options.url);
    this.device = `${bracketHost(this.target.host)}:${this.target.port}`;
    const timeoutMs = options.timeoutMs ?? 5000;
    this.exchange = {
      target: this.target,
      device: this.device,
      credentials: options.credentials ?? this.target.credentials,
      timeoutMs: () => timeoutMs,
      maxResponseBytes: options.maxResponseBytes ?? 256 * 1024,
      cseq: 0,
      isClosed: () => this.closed,
      signal: this.closing.signal,
    };
  }

  private unsupported(what: string): DriverError {
    return new DriverError('unsupported', `${this.device} was added by RTSP URL only: ${what} needs ONVIF`, this.device);
  }

  private describe(): Promise<SdpVideo> {
    return describeVideo(this.exchange);
  }

  async identify(): Promise<DeviceIdentity> {
    await this.describe(); // proves the URL, the credentials and that it is RTSP with video
    return {};
  }

  async channels(): Promise<ChannelReport[]> {
    const video = await this.describe();
    const profile: MediaProfile = { token: RTSP_PROFILE_TOKEN, streamUri: this.target.url };
    if (video.codec) profile.codec = video.codec;
    if (video.width) profile.width = video.width;
    if (video.height) profile.height = video.height;
    if (video.fps) profile.fps = video.fps;
    return [{ channel: 1, profiles: [profile] }];
  }

  async streamUri(profileToken: string): Promise<string> {
    if (profileToken !== RTSP_PROFILE_TOKEN) {
      throw new DriverError('unsupported', `${this.device} has only the profile "${RTSP_PROFILE_TOKEN}"`, this.device);
    }
    return this.target.url;
  }

  async snapshotUri(_profileToken: string): Promise<string | undefined> {
    return undefined;
  }

  async time(): Promise<ClockReading> {
    throw this.unsupported('reading the clock');
  }

  async setTime(_now: Date): Promise<void> {
    throw this.unsupported('setting the clock');
  }

  async reboot(): Promise<void> {
    throw this.unsupported('reboot');
  }

  async report(): Promise<DeviceReport> {
    const channels = await this.channels();
    return {
      driver: 'rtsp',
      host: this.target.host,
      port: this.target.port,
      url: this.target.url,
      identity: {},
      isNvr: false,
      channels,
    };
  }

  close(): void {
    this.closed = true;
    this.closing.abort();
  }
}
