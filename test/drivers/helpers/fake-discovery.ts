// Minimal WS-Discovery responders for tests: answer every datagram on <host>:3702 with
// whatever `reply` returns (a ProbeMatch, junk, or nothing).
import dgram from 'node:dgram';

export function probeMatchXml(uuid: string, xaddrs: string, relatesTo = 'urn:uuid:x'): string {
  return (
    '<?xml version="1.0" encoding="UTF-8"?>' +
    '<SOAP-ENV:Envelope xmlns:SOAP-ENV="http://www.w3.org/2003/05/soap-envelope" xmlns:wsa="http://schemas.xmlsoap.org/ws/2004/08/addressing" xmlns:wsdd="http://schemas.xmlsoap.org/ws/2005/04/discovery">' +
    `<SOAP-ENV:Header><wsa:RelatesTo>${relatesTo}</wsa:RelatesTo></SOAP-ENV:Header>` +
    '<SOAP-ENV:Body><wsdd:ProbeMatches><wsdd:ProbeMatch>' +
    `<wsa:EndpointReference><wsa:Address>${uuid}</wsa:Address></wsa:EndpointReference>` +
    '<wsdd:Types>dn:NetworkVideoTransmitter</wsdd:Types>' +
    '<wsdd:Scopes>onvif://www.onvif.org/name/Test%20Cam onvif://www.onvif.org/hardware/X1</wsdd:Scopes>' +
    `<wsdd:XAddrs>${xaddrs}</wsdd:XAddrs>` +
    '<wsdd:MetadataVersion>1</wsdd:MetadataVersion>' +
    '</wsdd:ProbeMatch></wsdd:ProbeMatches></SOAP-ENV:Body></SOAP-ENV:Envelope>'
  );
}

export interface FakeResponder {
  socket: dgram.Socket;
  received: Array<{ from: string; port: number; text: string; localAddress?: string }>;
  close(): Promise<void>;
}

export function startResponder(
  host: string,
  reply: (probe: string, from: string) => Array<Buffer | string> | Buffer | string | undefined,
  opts: { port?: number; joinGroupOn?: string[] } = {},
): Promise<FakeResponder> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: true });
    const received: FakeResponder['received'] = [];
    socket.on('message', (msg, rinfo) => {
      const text = msg.toString('utf8');
      received.push({ from: rinfo.address, port: rinfo.port, text });
      const out = reply(text, rinfo.address);
      for (const r of Array.isArray(out) ? out : out === undefined ? [] : [out]) {
        socket.send(typeof r === 'string' ? Buffer.from(r) : r, rinfo.port, rinfo.address);
      }
    });
    socket.once('error', reject);
    socket.bind(opts.port ?? 3702, host, () => {
      for (const iface of opts.joinGroupOn ?? []) socket.addMembership('239.255.255.250', iface);
      resolve({
        socket,
        received,
        close: () => new Promise((r) => socket.close(() => r())),
      });
    });
  });
}
