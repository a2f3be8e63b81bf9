// A deliberately small ONVIF device for driver tests that must not depend on scripts/sim:
// WS-Security with a clock-tolerance check, or Digest-only (refusing WS-Security like some
// Hikvision firmwares), a skewed clock, and a handful of operations.
import http from 'node:http';
import { createHash, randomBytes } from 'node:crypto';

export interface FakeOnvifOptions {
  host: string;
  port?: number;
  auth: 'wsse' | 'digest';
  username?: string;
  password?: string;
  clockSkewMs?: number;
  /** Host put into XAddrs and URIs (the NAT quirk). */
  reportedHost?: string;
  /** Serve SOAP only on this path (404 HTML elsewhere), like Tapo's /onvif/service. */
  onlyPath?: string;
}

export interface FakeOnvif {
  server: http.Server;
  /** Created timestamps of WS-Security headers received, with the device clock at arrival. */
  wsseSeen: Array<{ created: string; deviceNowMs: number }>;
  operations: string[];
  /** Current device clock offset (changes with SetSystemDateAndTime). */
  skewMs(): number;
  close(): Promise<void>;
}

const SOAP_NS =
  'xmlns:s="http://www.w3.org/2003/05/soap-envelope" xmlns:tt="http://www.onvif.org/ver10/schema" xmlns:tds="http://www.onvif.org/ver10/device/wsdl" xmlns:trt="http://www.onvif.org/ver10/media/wsdl" xmlns:ter="http://www.onvif.org/ver10/error"';
const envelope = (body: string) => `<?xml version="1.0" encoding="UTF-8"?><s:Envelope ${SOAP_NS}><s:Body>${body}</s:Body></s:Envelope>`;
const fault = (sub: string, reason: string) =>
  envelope(
    `<s:Fault><s:Code><s:Value>s:Sender</s:Value><s:Subcode><s:Value>${sub}</s:Value></s:Subcode></s:Code><s:Reason><s:Text xml:lang="en">${reason}</s:Text></s:Reason></s:Fault>`,
  );

function operationOf(body: string): string {
  const m = /<(?:[\w-]+:)?Body[^>]*>\s*<(?:[\w-]+:)?(\w+)/.exec(body);
  return m ? m[1] : '';
}

export function startFakeOnvif(opts: FakeOnvifOptions): Promise<FakeOnvif> {
  const username = opts.username ?? 'admin';
  const password = opts.password ?? 'admin123';
  let skew = opts.clockSkewMs ?? 0;
  const shown = opts.reportedHost ?? opts.host;
  const wsseSeen: FakeOnvif['wsseSeen'] = [];
  const operations: string[] = [];
  const nonces = new Set<string>();

  function wsseOk(body: string): boolean | 'absent' {
    const user = /<(?:\w+:)?Username>([^<]*)</.exec(body)?.[1];
    if (user === undefined) return 'absent';
    const digest = /<(?:\w+:)?Password[^>]*>([^<]*)</.exec(body)?.[1] ?? '';
    const nonce = /<(?:\w+:)?Nonce[^>]*>([^<]*)</.exec(body)?.[1] ?? '';
    const created = /<(?:\w+:)?Created[^>]*>([^<]*)</.exec(body)?.[1] ?? '';
    const deviceNowMs = Date.now() + skew;
    wsseSeen.push({ created, deviceNowMs });
    const expect = createHash('sha1')
      .update(Buffer.concat([Buffer.from(nonce, 'base64'), Buffer.from(created), Buffer.from(password)]))
      .digest('base64');
    // Real devices refuse a Created more than a few seconds off their own clock.
    return user === username && digest === expect && Math.abs(Date.parse(created) - deviceNowMs) < 5000;
  }

  function digestOk(req: http.IncomingMessage): boolean | 'absent' {
    const h = req.headers.authorization;
    if (!h) return 'absent';
    const p: Record<string, string> = {};
    for (const m of h.matchAll(/(\w+)=(?:"([^"]*)"|([^,\s]*))/g)) p[m[1]] = m[2] ?? m[3];
    if (!nonces.has(p.nonce) || p.username !== username) return false;
    const md5 = (s: string) => createHash('md5').update(s).digest('hex');
    const ha1 = md5(`${username}:${p.realm}:${password}`);
    const ha2 = md5(`${req.method}:${p.uri}`);
    const expect = p.qop ? md5(`${ha1}:${p.nonce}:${p.nc}:${p.cnonce}:${p.qop}:${ha2}`) : md5(`${ha1}:${p.nonce}:${ha2}`);
    return p.response === expect;
  }

  function answer(op: string): string {
    const now = new Date(Date.now() + skew);
    switch (op) {
      case 'GetSystemDateAndTime':
        return envelope(
          '<tds:GetSystemDateAndTimeResponse><tds:SystemDateAndTime><tt:DateTimeType>Manual</tt:DateTimeType><tt:DaylightSavings>false</tt:DaylightSavings>' +
            '<tt:TimeZone><tt:TZ>CST-8</tt:TZ></tt:TimeZone><tt:UTCDateTime>' +
            `<tt:Time><tt:Hour>${now.getUTCHours()}</tt:Hour><tt:Minute>${now.getUTCMinutes()}</tt:Minute><tt:Second>${now.getUTCSeconds()}</tt:Second></tt:Time>` +
            `<tt:Date><tt:Year>${now.getUTCFullYear()}</tt:Year><tt:Month>${now.getUTCMonth() + 1}</tt:Month><tt:Day>${now.getUTCDate()}</tt:Day></tt:Date>` +
            '</tt:UTCDateTime></tds:SystemDateAndTime></tds:GetSystemDateAndTimeResponse>',
        );
      case 'GetServices':
        return envelope(
          '<tds:GetServicesResponse>' +
            `<tds:Service><tds:Namespace>http://www.onvif.org/ver10/device/wsdl</tds:Namespace><tds:XAddr>http://${shown}${opts.onlyPath ?? '/onvif/device_service'}</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>` +
            `<tds:Service><tds:Namespace>http://www.onvif.org/ver10/media/wsdl</tds:Namespace><tds:XAddr>http://${shown}${opts.onlyPath ?? '/onvif/Media'}</tds:XAddr><tds:Version><tt:Major>2</tt:Major><tt:Minor>60</tt:Minor></tds:Version></tds:Service>` +
            '</tds:GetServicesResponse>',
        );
      case 'GetDeviceInformation':
        return envelope(
          '<tds:GetDeviceInformationResponse><tds:Manufacturer>FakeVendor</tds:Manufacturer><tds:Model>FK-1</tds:Model><tds:FirmwareVersion>1.00</tds:FirmwareVersion><tds:SerialNumber>000123</tds:SerialNumber><tds:HardwareId>1.0</tds:HardwareId></tds:GetDeviceInformationResponse>',
        );
      case 'GetProfiles':
        return envelope(
          '<trt:GetProfilesResponse>' +
            '<trt:Profiles token="sub"><tt:Name>sub</tt:Name><tt:VideoSourceConfiguration token="vsc"><tt:SourceToken>VS1</tt:SourceToken></tt:VideoSourceConfiguration>' +
            '<tt:VideoEncoderConfiguration token="e2"><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>640</tt:Width><tt:Height>360</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>' +
            '<trt:Profiles token="main"><tt:Name>main</tt:Name><tt:VideoSourceConfiguration token="vsc"><tt:SourceToken>VS1</tt:SourceToken></tt:VideoSourceConfiguration>' +
            '<tt:VideoEncoderConfiguration token="e1" encoding="H265"><tt:Encoding>H264</tt:Encoding><tt:Resolution><tt:Width>1920</tt:Width><tt:Height>1080</tt:Height></tt:Resolution></tt:VideoEncoderConfiguration></trt:Profiles>' +
            '</trt:GetProfilesResponse>',
        );
      case 'GetVideoSources':
        return envelope(
          '<trt:GetVideoSourcesResponse><trt:VideoSources token="VS1"><tt:Framerate>25</tt:Framerate></trt:VideoSources></trt:GetVideoSourcesResponse>',
        );
      case 'GetStreamUri':
        return envelope(
          `<trt:GetStreamUriResponse><trt:MediaUri><tt:Uri>\n   rtsp://admin:admin123@${shown}:554/live?ch=1&amp;sub=0\n  </tt:Uri><tt:InvalidAfterConnect>true</tt:InvalidAfterConnect><tt:InvalidAfterReboot>true</tt:InvalidAfterReboot><tt:Timeout>PT0S</tt:Timeout></trt:MediaUri></trt:GetStreamUriResponse>`,
        );
      case 'GetScopes':
        return envelope(
          '<tds:GetScopesResponse><tds:Scopes><tt:ScopeDef>Fixed</tt:ScopeDef><tt:ScopeItem>onvif://www.onvif.org/name/Fake%20Cam</tt:ScopeItem></tds:Scopes></tds:GetScopesResponse>',
        );
      case 'SetSystemDateAndTime':
        return envelope('<tds:SetSystemDateAndTimeResponse/>');
      case 'SystemReboot':
        return envelope('<tds:SystemRebootResponse><tds:Message>Rebooting</tds:Message></tds:SystemRebootResponse>');
      default:
        return fault('ter:ActionNotSupported', 'Optional Action Not Implemented');
    }
  }

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => {
      if (opts.onlyPath && req.url !== opts.onlyPath) {
        res.writeHead(404, { 'Content-Type': 'text/html' });
        return res.end('<html><body>404 Not Found</body></html>');
      }
      const body = Buffer.concat(chunks).toString('utf8');
      const op = operationOf(body);
      operations.push(op);
      const send = (status: number, xml: string, headers: Record<string, string> = {}) => {
        res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8', ...headers });
        res.end(xml);
      };
      if (op !== 'GetSystemDateAndTime') {
        if (opts.auth === 'wsse') {
          if (wsseOk(body) !== true) return send(400, fault('ter:NotAuthorized', 'Sender not Authorized'));
        } else {
          if (wsseOk(body) !== 'absent') return send(400, fault('ter:NotAuthorized', 'Sender not Authorized'));
          const d = digestOk(req);
          if (d !== true) {
            const nonce = randomBytes(8).toString('hex');
            nonces.add(nonce);
            res.writeHead(401, { 'WWW-Authenticate': `Digest qop="auth", realm="IP Camera", nonce="${nonce}", stale="FALSE"`, 'Content-Type': 'text/html' });
            return res.end(
              '<!DOCTYPE html><html><head><title>Document Error: Unauthorized</title></head><body><h2>Access Error: 401 -- Unauthorized</h2></body></html>',
            );
          }
        }
      }
      if (op === 'SetSystemDateAndTime') {
        const num = (n: string) => Number(new RegExp(`<(?:\\w+:)?${n}>(\\d+)<`).exec(body)?.[1]);
        const set = Date.UTC(num('Year'), num('Month') - 1, num('Day'), num('Hour'), num('Minute'), num('Second'));
        skew = set - Date.now();
      }
      send(200, answer(op));
    });
  });
  const fake: FakeOnvif = {
    server,
    wsseSeen,
    operations,
    skewMs: () => skew,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
  return new Promise((resolve) => server.listen(opts.port ?? 80, opts.host, () => resolve(fake)));
}
