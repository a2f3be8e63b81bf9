// WS-Discovery responder. Unicast: each device binds <host>:3702 and answers Probes sent to it.
// Multicast (only inside a test network namespace): one shared socket bound to 0.0.0.0:3702 joins
// 239.255.255.250 and makes every device answer from its own socket, so the answer's source
// address is the device's address, as on a real network. Node cannot read a datagram's
// destination address, so the shared socket cannot tell which device a unicast it happens to
// receive was meant for; that is why unicast stays on the per-device sockets (the kernel prefers
// the specific bind) and the shared socket only acts on multicast Probes.
import { createSocket, type RemoteInfo, type Socket } from 'node:dgram';
import { randomUUID } from 'node:crypto';
import { NOT_ONVIF_UDP_REPLY } from './faults';
import { httpUrl, isLoopbackIpv4, type DeviceModel } from './model';
import { NS } from './soap';
import { scopeUris } from './templates-device';
import { child, escapeXml as x, parseXml, XmlRejected } from './xml';

export const WS_DISCOVERY_PORT = 3702;
export const WS_DISCOVERY_GROUP = '239.255.255.250';

export interface ProbeRequest {
  /** The Probe's wsa:MessageID, echoed in RelatesTo ('' when the Probe had none). */
  messageId: string;
}

/**
 * Peers we may answer: loopback, or 0.0.0.0, which is what a prober's source address is in a
 * namespace where lo is the only interface (no address fits the multicast route's scope) and
 * which Linux delivers locally. Anything else would mean sending off the box: never.
 */
export function isLocalPeer(address: string): boolean {
  return address === '0.0.0.0' || isLoopbackIpv4(address);
}

/** Returns the Probe in a datagram, or null for anything else (Hello, Bye, junk, DTDs). */
export function parseProbe(datagram: Buffer): ProbeRequest | null {
  let root;
  try {
    root = parseXml(datagram.toString('utf8'));
  } catch (err) {
    if (err instanceof XmlRejected) return null;
    throw err;
  }
  if (root.local !== 'Envelope' || (root.ns !== NS.soap12 && root.ns !== NS.soap11)) return null;
  const body = child(root, root.ns, 'Body');
  const probe = body?.children.find((c) => c.local === 'Probe' && (c.ns === NS.wsdd || c.ns === NS.wsdd11));
  if (!probe) return null;
  const header = child(root, root.ns, 'Header');
  const messageId = header?.children.find((c) => c.local === 'MessageID')?.text ?? '';
  return { messageId };
}

/** EUI-64 link-local address from the MAC, as the camera would have on its NIC. */
function linkLocalFromMac(mac: string): string {
  const b = mac.split(':').map((h) => parseInt(h, 16));
  const [b0 = 0, b1 = 0, b2 = 0, b3 = 0, b4 = 0, b5 = 0] = b;
  const hex = (hi: number, lo: number): string => ((hi << 8) | lo).toString(16);
  return `fe80::${hex(b0 ^ 0x02, b1)}:${hex(b2, 0xff)}:${hex(0xfe, b3)}:${hex(b4, b5)}`;
}

export function probeMatchXml(m: DeviceModel, relatesTo: string, messageNumber: number, instanceId: number): string {
  const { env, wsa, wsdd } = m.vendor.discoveryPrefixes;
  const xaddrs = [httpUrl(m.reportedHost, m.spec.httpPort, m.vendor.devicePath)];
  if (m.vendor.ipv6XAddr) xaddrs.push(`http://[${linkLocalFromMac(m.spec.mac)}]/onvif/device_service`);
  const scopes = scopeUris(m);
  // Scopes span several lines as on real devices; XML escaping keeps %20 etc. as they are.
  const scopeText = [...scopes.fixed, ...scopes.configurable].map(x).join('\n                    ');
  return `<?xml version="1.0" encoding="UTF-8"?>
<${env}:Envelope xmlns:${env}="${NS.soap12}" xmlns:${wsa}="${NS.wsa}" xmlns:${wsdd}="${NS.wsdd}" xmlns:dn="${NS.dn}" xmlns:tds="${NS.tds}">
  <${env}:Header>
    <${wsa}:MessageID>urn:uuid:${randomUUID()}</${wsa}:MessageID>
    <${wsa}:RelatesTo>${x(relatesTo)}</${wsa}:RelatesTo>
    <${wsa}:To ${env}:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2004/08/addressing/role/anonymous</${wsa}:To>
    <${wsa}:Action ${env}:mustUnderstand="true">http://schemas.xmlsoap.org/ws/2005/04/discovery/ProbeMatches</${wsa}:Action>
    <${wsdd}:AppSequence MessageNumber="${messageNumber}" InstanceId="${instanceId}"/>
  </${env}:Header>
  <${env}:Body>
    <${wsdd}:ProbeMatches>
      <${wsdd}:ProbeMatch>
        <${wsa}:EndpointReference><${wsa}:Address>${m.vendor.addressPrefix}${x(m.spec.uuid)}</${wsa}:Address></${wsa}:EndpointReference>
        <${wsdd}:Types>${m.vendor.discoveryTypes}</${wsdd}:Types>
        <${wsdd}:Scopes>${scopeText}</${wsdd}:Scopes>
        <${wsdd}:XAddrs>${x(xaddrs.join(' '))}</${wsdd}:XAddrs>
        <${wsdd}:MetadataVersion>1</${wsdd}:MetadataVersion>
      </${wsdd}:ProbeMatch>
    </${wsdd}:ProbeMatches>
  </${env}:Body>
</${env}:Envelope>
`;
}

function bindUdp(socket: Socket, address: string, port: number): Promise<void> {
  return new Promise((resolve, reject) => {
    socket.once('error', reject);
    socket.bind({ address, port, exclusive: true }, () => {
      socket.off('error', reject);
      resolve();
    });
  });
}

export interface ResponderOptions {
  /** SO_REUSEADDR, needed when a shared multicast socket also binds port 3702. */
  reuseAddr: boolean;
  /** 'not-onvif' fault: answer anything with junk instead of ProbeMatches. */
  notOnvif: boolean;
}

/** One device's WS-Discovery endpoint on <host>:3702. */
export class DiscoveryResponder {
  /** While true (device rebooting) Probes go unanswered. */
  muted = false;
  private readonly socket: Socket;
  private messageNumber = 0;
  private readonly instanceId = Math.floor(Date.now() / 1000);

  constructor(
    readonly model: DeviceModel,
    private readonly opts: ResponderOptions,
  ) {
    this.socket = createSocket({ type: 'udp4', reuseAddr: opts.reuseAddr });
    this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    this.socket.on('error', () => undefined); // a failed send must not crash the simulator
  }

  start(): Promise<void> {
    return bindUdp(this.socket, this.model.spec.host, WS_DISCOVERY_PORT);
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (this.opts.notOnvif) {
      if (!this.muted && isLocalPeer(rinfo.address)) this.socket.send(NOT_ONVIF_UDP_REPLY, rinfo.port, rinfo.address);
      return;
    }
    const probe = parseProbe(msg);
    if (probe) this.answer(probe, rinfo.address, rinfo.port);
  }

  /** Sends ProbeMatches (or the junk reply) from this device's own address. */
  answer(probe: ProbeRequest, address: string, port: number): void {
    // Safety: the simulator never sends anything off the box.
    if (this.muted || !isLocalPeer(address)) return;
    const payload = this.opts.notOnvif ? NOT_ONVIF_UDP_REPLY : Buffer.from(probeMatchXml(this.model, probe.messageId, ++this.messageNumber, this.instanceId));
    this.socket.send(payload, port, address);
  }

  close(): Promise<void> {
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // never bound
      }
    });
  }
}

/** Shared multicast listener answering on behalf of every device (see the file comment). */
export class MulticastDiscoveryHub {
  private readonly socket = createSocket({ type: 'udp4', reuseAddr: true });
  private readonly timers = new Set<NodeJS.Timeout>();

  constructor(
    private readonly responders: readonly DiscoveryResponder[],
    private readonly interfaceAddress?: string,
    /** Answers are spread over this window (WS-Discovery's APP_MAX_DELAY) so 256 replies do not overflow the prober. */
    private readonly maxDelayMs = 250,
  ) {
    this.socket.on('message', (msg, rinfo) => this.onDatagram(msg, rinfo));
    this.socket.on('error', () => undefined);
  }

  async start(): Promise<void> {
    await new Promise<void>((resolve, reject) => {
      this.socket.once('error', reject);
      this.socket.bind({ address: '0.0.0.0', port: WS_DISCOVERY_PORT }, () => {
        this.socket.off('error', reject);
        resolve();
      });
    });
    this.socket.addMembership(WS_DISCOVERY_GROUP, this.interfaceAddress);
  }

  private onDatagram(msg: Buffer, rinfo: RemoteInfo): void {
    if (!isLocalPeer(rinfo.address)) return;
    const probe = parseProbe(msg);
    for (const responder of this.responders) {
      // not-onvif devices answer junk to anything; the rest only to Probes.
      if (!probe && responder.model.spec.fault !== 'not-onvif') continue;
      const timer = setTimeout(
        () => {
          this.timers.delete(timer);
          responder.answer(probe ?? { messageId: '' }, rinfo.address, rinfo.port);
        },
        Math.floor(Math.random() * this.maxDelayMs),
      );
      this.timers.add(timer);
    }
  }

  close(): Promise<void> {
    for (const t of this.timers) clearTimeout(t);
    this.timers.clear();
    return new Promise((resolve) => {
      try {
        this.socket.close(() => resolve());
      } catch {
        resolve(); // bind failed: already closed
      }
    });
  }
}
