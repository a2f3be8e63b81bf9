// DeviceDriver for cameras added by RTSP URL only (no ONVIF): identification is what OPTIONS
// and DESCRIBE reveal. One channel, one profile whose stream URI is the URL without credentials.
import type { ChannelReport, ClockReading, Credentials, DeviceDriver, DeviceIdentity, DeviceReport, MediaProfile } from '../types';
import { DriverError } from '../types';
import { parseRtspUrl, type ParsedRtspUrl } from '../target';
import { bracketHost } from '../uri';
import { Authenticator, chooseChallenge } from '../auth';
import { header, rtspRequest, type RtspResponse } from './client';
import { parseSdpVideo, type SdpVideo } from './sdp';

export const RTSP_PROFILE_TOKEN = 'rtsp';

export interface RtspDriverOptions {
  url: string;
  /** Overrides credentials embedded in the URL. */
  credentials?: Credentials;
  timeoutMs?: number;
  /** Cap on one RTSP answer body (the SDP). Default 256 KiB. */
  maxResponseBytes?: number;
}

export class RtspDriver implements DeviceDriver {
  readonly kind = 'rtsp' as const;
  readonly target: ParsedRtspUrl;
  readonly device: string;
  private readonly credentials?: Credentials;
  private readonly timeoutMs: number;
  private readonly maxResponseBytes: number;
  private auth?: Authenticator;
  private cseq = 0;
  private closed = false;

  /** Throws TargetSpecError when the URL is not a valid rtsp:// URL. */
  constructor(options: RtspDriverOptions) {
    this.target = parseRtspUrl(options.url);
    this.device = `${bracketHost(this.target.host)}:${this.target.port}`;
    this.credentials = options.credentials ?? this.target.credentials;
    this.timeoutMs = options.timeoutMs ?? 5000;
    this.maxResponseBytes = options.maxResponseBytes ?? 256 * 1024;
  }

  private unsupported(what: string): DriverError {
    return new DriverError('unsupported', `${this.device} was added by RTSP URL only: ${what} needs ONVIF`, this.device);
  }

  private async request(method: string, headers: Record<string, string> = {}): Promise<RtspResponse> {
    if (this.closed) throw new DriverError('unreachable', `driver for ${this.device} is closed`, this.device);
    const send = () =>
      rtspRequest({
        host: this.target.host,
        port: this.target.port,
        method,
        url: this.target.url,
        headers: this.auth ? { ...headers, Authorization: this.auth.header(method, this.target.url) } : headers,
        cseq: ++this.cseq,
        timeoutMs: this.timeoutMs,
        maxResponseBytes: this.maxResponseBytes,
        device: this.device,
      });
    let res = await send();
    if (res.status === 401) {
      const who = this.credentials ? ` (${this.credentials.username})` : '';
      const authFailed = () =>
        new DriverError(
          'auth',
          this.credentials
            ? `authentication failed for ${this.device}${who}: check the camera's username/password`
            : `${this.device} requires a username and password`,
          this.device,
        );
      if (!this.credentials) throw authFailed();
      const challenge = chooseChallenge(res.headers['www-authenticate'] ?? []);
      if (!challenge) throw new DriverError('auth', `${this.device} asks for an authentication scheme we do not support`, this.device);
      // A 401 with a fresh challenge after we already authenticated means a stale nonce once,
      // a wrong password otherwise: retry exactly once with the new challenge.
      this.auth = new Authenticator(this.credentials, challenge);
      res = await send();
      if (res.status === 401) throw authFailed();
    }
    return res;
  }

  private async describe(): Promise<SdpVideo> {
    // OPTIONS first, as players do: some servers only answer DESCRIBE after it. Its status is
    // informative only; a garbage answer still fails here.
    await this.request('OPTIONS');
    const res = await this.request('DESCRIBE', { Accept: 'application/sdp' });
    if (res.status !== 200) {
      const what = res.status === 404 ? `no stream at ${this.target.url}` : `DESCRIBE failed`;
      throw new DriverError('device-fault', `${this.device}: ${what} (RTSP ${res.status} ${res.reason})`, this.device);
    }
    const sdp = res.body.toString('utf8');
    const type = header(res, 'content-type') ?? '';
    if (!/application\/sdp/i.test(type) && !/^v=0/m.test(sdp)) {
      throw new DriverError('malformed', `${this.device} answered DESCRIBE without an SDP (Content-Type ${type || 'none'})`, this.device);
    }
    const video = parseSdpVideo(sdp);
    if (!video) throw new DriverError('unsupported', `${this.device}: the stream at ${this.target.url} has no video`, this.device);
    return video;
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
  }
}
