// One simulated device: its state (clock, time settings), HTTP side, discovery responder, the
// reboot cycle and the on/off-line switch, plus the public RunningSimCamera view of it.
import { DeviceClock } from './clock';
import { DiscoveryResponder } from './discovery';
import { HangListener, RtspGarbageListener } from './faults';
import { DeviceHttpService } from './http-device';
import { httpUrl, rtspFaultOf, type DeviceModel, type StreamKind, type StreamProfile } from './model';
import { rtspServerOnPort } from './rtsp-manager';
import type { DeviceState } from './soap-router';
import { serviceUrls, type TimeSettings } from './templates-device';
import { snapshotPath } from './templates-media';
import type { RunningSimCamera, SimPicture } from './types';

/** Reported in stream URIs when RTSP is off: nothing listens there, which is the point. */
const NO_RTSP_PORT = 554;

export interface DeviceContext {
  rtspPort(): number;
  snapshot(picture: SimPicture): Buffer;
  /** Multicast mode: the per-device UDP socket shares port 3702 with the multicast socket. */
  reuseDiscoveryAddr: boolean;
}

export class SimDevice implements DeviceState {
  readonly clock: DeviceClock;
  time: TimeSettings;
  readonly discovery: DiscoveryResponder;
  private readonly http?: DeviceHttpService;
  private readonly hang?: HangListener;
  /** 'rtsp-garbage' / 'rtsp-hang': the device's own "RTSP" port its stream URIs point to. */
  private readonly rtspFault?: RtspGarbageListener | HangListener;
  private rtspFaultPort = 0;
  private rebootTimer?: NodeJS.Timeout;
  private stopped = false;
  private offline = false;
  /** SetSynchronizationPoint requests answered (keyframeRequests()). */
  private keyframes = 0;
  /** SetVideoEncoderConfiguration calls accepted (encoderChanges()). */
  private encoderSets = 0;
  /** setOnline calls run one after the other. */
  private switching: Promise<void> = Promise.resolve();

  constructor(
    readonly model: DeviceModel,
    private readonly ctx: DeviceContext,
  ) {
    this.clock = new DeviceClock(model.spec.clockSkewMs ?? 0);
    this.time = { dateTimeType: 'Manual', timeZone: model.vendor.timeZone };
    this.discovery = new DiscoveryResponder(model, { reuseAddr: ctx.reuseDiscoveryAddr, notOnvif: model.spec.fault === 'not-onvif' });
    if (model.spec.fault === 'hang') this.hang = new HangListener();
    else {
      const picture = model.spec.picture ?? 'moving';
      this.http = new DeviceHttpService(this, () => ctx.snapshot(picture));
    }
    const rtspFault = rtspFaultOf(model.spec.fault);
    if (rtspFault === 'rtsp-garbage') this.rtspFault = new RtspGarbageListener();
    else if (rtspFault === 'rtsp-hang') this.rtspFault = new HangListener();
  }

  rtspPort(): number {
    if (this.rtspFault) return this.rtspFaultPort;
    return this.ctx.rtspPort() || NO_RTSP_PORT;
  }

  async start(): Promise<void> {
    const { host, httpPort } = this.model.spec;
    try {
      const listenRtspFault = async () => {
        if (this.rtspFault) this.rtspFaultPort = await this.rtspFault.listen(host, 0);
      };
      await Promise.all([this.http?.listen(), this.hang?.listen(host, httpPort), listenRtspFault(), this.discovery.start()]);
    } catch (err) {
      await this.stop();
      const e = err as NodeJS.ErrnoException;
      const hint =
        e.code === 'EACCES' ? ' (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : e.code === 'EADDRINUSE' ? ' (another simulator on this address?)' : '';
      throw new Error(`simulated camera ${this.model.id} on ${host}: ${e.message}${hint}`, { cause: err });
    }
  }

  /** SetSynchronizationPoint: counted, and passed to the shared RTSP server as "KEYFRAME <mount>"
   * (it forces a keyframe on that mount's encoder while someone watches it). A device whose
   * streams are broken (a fault) has no mount: only the count changes. */
  requestKeyframe(p: StreamProfile): void {
    this.keyframes++;
    if (this.rtspFault) return;
    const port = this.ctx.rtspPort();
    if (port > 0) rtspServerOnPort(port)?.requestKeyframe(this.mountPath(p));
  }

  /** SetVideoEncoderConfiguration accepted: counted, and the profile's GovLength changes now (so
   * the next Get* reports it). The returned step, run once the response went out, passes the new
   * interval to the shared RTSP server as "GOP <mount> <frames>", which restarts that mount's
   * encoder if someone watches it (dropping its viewers, as a camera restarting its encoder does).
   * An unchanged value restarts nothing; a device without a mount (a fault) only counts. */
  changeEncoder(p: StreamProfile, govLength: number): () => void {
    this.encoderSets++;
    if (p.govLength === govLength) return () => undefined;
    p.govLength = govLength;
    return () => {
      if (this.rtspFault) return;
      const port = this.ctx.rtspPort();
      if (port > 0) rtspServerOnPort(port)?.setGop(this.mountPath(p), govLength);
    };
  }

  private mountPath(p: StreamProfile): string {
    return `/${this.model.id}/ch${p.channel}/${p.stream}`;
  }

  /** SystemReboot: HTTP and discovery go silent for rebootDowntimeMs, then come back. */
  reboot(): void {
    const downtime = this.model.rebootDowntimeMs;
    if (downtime <= 0 || this.stopped || this.offline || !this.http || this.rebootTimer) return;
    const http = this.http;
    this.discovery.muted = true;
    void http.close();
    this.rebootTimer = setTimeout(() => {
      this.rebootTimer = undefined;
      if (this.stopped || this.offline) return;
      http.listen().then(
        () => {
          this.discovery.muted = false;
          if (this.stopped) void http.close();
        },
        () => undefined, // address taken meanwhile: the device stays down, as a broken one would
      );
    }, downtime);
  }

  /** Off the network: the HTTP port (or the hang listener) and a fault's RTSP port close, so
   * connections are refused, and discovery goes silent, as during a reboot; on again: the same
   * address and ports come back. A reboot in progress is cut short. */
  setOnline(online: boolean): Promise<void> {
    const run = this.switching.then(() => this.switchTo(online));
    this.switching = run.catch(() => undefined);
    return run;
  }

  private async switchTo(online: boolean): Promise<void> {
    if (this.stopped) throw new Error(`simulated camera ${this.model.id} is stopped`);
    if (online === !this.offline) return;
    const { host, httpPort } = this.model.spec;
    if (!online) {
      this.offline = true;
      if (this.rebootTimer) clearTimeout(this.rebootTimer);
      this.rebootTimer = undefined;
      this.discovery.muted = true;
      await Promise.all([this.http?.close(), this.hang?.close(), this.rtspFault?.close()]);
      return;
    }
    await Promise.all([this.http?.listen(), this.hang?.listen(host, httpPort), this.rtspFault?.listen(host, this.rtspFaultPort)]);
    this.offline = false;
    this.discovery.muted = false;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.rebootTimer) clearTimeout(this.rebootTimer);
    await Promise.all([this.http?.close(), this.hang?.close(), this.rtspFault?.close(), this.discovery.close()]);
  }

  /** The view handed to users of the simulator. */
  running(): RunningSimCamera {
    const m = this.model;
    const profileFor = (ch: number, stream: StreamKind) => {
      const p = m.profiles.find((x) => x.channel === ch && x.stream === stream);
      if (!p) throw new RangeError(`${m.id} has channels 1..${m.spec.channels}, asked for ${ch}`);
      return p;
    };
    return {
      spec: m.spec,
      id: m.id,
      xaddr: serviceUrls(m).device,
      deviceUrl: httpUrl(m.spec.host, m.spec.httpPort, m.vendor.devicePath),
      rtspUrl: (ch, stream) => {
        profileFor(ch, stream);
        return `rtsp://${m.spec.host}:${this.rtspPort()}/${m.id}/ch${ch}/${stream}`;
      },
      snapshotUrl: (ch) => httpUrl(m.spec.host, m.spec.httpPort, snapshotPath(m, profileFor(ch, 'main'))),
      clockSkewMs: () => this.clock.skewMs,
      setOnline: (online) => this.setOnline(online),
      online: () => !this.offline,
      keyframeRequests: () => this.keyframes,
      encoderChanges: () => this.encoderSets,
      govLength: (ch, stream) => profileFor(ch, stream).govLength,
    };
  }
}
