// SOAP calls to one ONVIF device, on top of the onvif package's transport (HTTP, Digest with
// MD5/SHA-256, WS-Security UsernameToken using the device clock via timeShift) but with our own
// response handling: every response is re-parsed from the raw XML with the safe parser (the
// package coerces "1.00" to 1 and some of its per-method handlers throw on unusual answers),
// every failure becomes a DriverError naming the device, and each call has a hard deadline
// (the package's timeout is an idle timeout, so a device trickling bytes would never time out).
import type { Cam as CamClass } from 'onvif';
import { DriverError, type Credentials } from '../types';
import { parseXml, soapBody, soapFault, type XmlElement } from '../xml';
import { GuardedAgent, type ResponseHead } from './guarded-agent';
import { bracketHost } from '../../lib/url';
import { printableLine } from '../../lib/text';

// Device text quoted in messages is cut to these before anything else reads it (soapFault() cuts
// fault reasons, parseXml() the parser's words).
const TRANSPORT_MESSAGE_MAX_CHARS = 256;
const CONTENT_TYPE_MAX_CHARS = 128;
const ELEMENT_NAME_MAX_CHARS = 128;

// The onvif package (with xml2js, xmlbuilder and sax: ~2 MB of RSS) is loaded on the first SOAP
// client, not at start: the agent's health probes speak their own small SOAP (the agent's memory budget, docs/benchmarks.md).
let camClass: typeof CamClass | undefined;

type ParseSoapString = (xml: string, callback: (err: Error | null, data: unknown, xml: string, statusCode?: number) => void, statusCode?: number) => void;

/** The package's own parse of every answer, which we never use: the raw text goes back as it came. */
const passThrough: ParseSoapString = (xml, callback, statusCode) => callback(null, null, xml, statusCode);

function loadCam(): typeof CamClass {
  if (camClass) return camClass;
  // The package runs every answer through its parseSOAPString before handing it back: first
  // xml.replace(/xmlns([^=]*?)=(".*?")/g, ''), quadratic on what a device sends (a 2 MB answer of
  // "xmlns" keeps the event loop busy for minutes), then xml2js. We parse the raw XML ourselves
  // (interpret()), so that step is replaced before cam.js takes its reference to it; a cam.js
  // loaded earlier (with the original) is loaded afresh. Parts of the package loaded after this
  // get the pass-through too: we use nothing of it but the transport.
  const utils = require('onvif/lib/utils') as { parseSOAPString: ParseSoapString };
  utils.parseSOAPString = passThrough;
  const camPath = require.resolve('onvif/lib/cam');
  if (require.cache[camPath]) delete require.cache[camPath];
  camClass = (require('onvif/lib/cam') as typeof import('onvif')).Cam;
  return camClass;
}

/** The parts of the onvif package's Cam we use that its index.d.ts does not declare. */
interface CamInternals {
  _request(
    options: { service?: string; body: string; action?: string },
    callback: (err: Error | null, data: unknown, xml?: string, statusCode?: number) => void,
  ): void;
  _envelopeHeader(openHeader?: boolean): string;
  _envelopeFooter(): string;
  _parseUrl(address: string): { path?: string | null; href?: string };
  uri?: Record<string, { path?: string | null; href?: string }>;
  timeShift?: number;
  useWSSecurity: boolean;
}

export type OnvifService = 'device' | 'media' | 'media2' | 'deviceIO';

export const NS = {
  device: 'http://www.onvif.org/ver10/device/wsdl',
  media: 'http://www.onvif.org/ver10/media/wsdl',
  media2: 'http://www.onvif.org/ver20/media/wsdl',
  schema: 'http://www.onvif.org/ver10/schema',
} as const;

export interface SoapClientOptions {
  host: string;
  port: number;
  path: string;
  credentials?: Credentials;
  timeoutMs: number;
  maxResponseBytes: number;
}

/** Raised internally when the device refused our credentials; turned into DriverError 'auth'
 * after the WS-Security → Digest fallback has been tried. */
class AuthRejected extends Error {}

function isAuthFault(codes: string[], reason: string): boolean {
  const text = `${codes.join(' ')} ${reason}`.toLowerCase();
  return /notauthorized|not authorized|unauthorized|failedauthentication|invalidsecurity|authority failure/.test(text);
}

function isUnsupportedFault(codes: string[], reason: string): boolean {
  const text = `${codes.join(' ')} ${reason}`.toLowerCase();
  return /actionnotsupported|actionnotimplemented|not implemented|not supported|notsupported|optional action|unknown action|invalidaction/.test(text);
}

export class SoapClient {
  readonly device: string; // "host:port" for messages
  private readonly cam: CamInternals;
  private readonly agent: GuardedAgent;
  private queue: Promise<unknown> = Promise.resolve();
  private closed = false;
  /** HTTP status of the last response (404 on the default path → try another path). */
  lastStatus?: number;

  constructor(readonly options: SoapClientOptions) {
    this.device = `${bracketHost(options.host)}:${options.port}`;
    this.agent = new GuardedAgent({ maxResponseBytes: options.maxResponseBytes, device: this.device });
    const Cam = loadCam();
    const cam = new Cam({
      hostname: options.host,
      port: options.port,
      path: options.path,
      username: options.credentials?.username,
      password: options.credentials?.password,
      timeout: options.timeoutMs,
      autoconnect: false,
      preserveAddress: true, // service XAddrs carry the device's idea of its address: never follow it
      agent: this.agent,
    });
    // A Cam is an EventEmitter; an 'error' emitted with no listener would crash the process.
    cam.on('error', () => undefined);
    this.cam = cam as unknown as CamInternals;
    // Until GetSystemDateAndTime tells us the device clock, assume ours. Without this the
    // package's Created would be process.uptime() since 1970 and every WS-Security login fails.
    this.setDeviceClock(Date.now(), Date.now());
  }

  get username(): string | undefined {
    return this.options.credentials?.username;
  }

  get usingWsSecurity(): boolean {
    return this.cam.useWSSecurity;
  }

  /** Device clock minus process.uptime(), as the package's WS-Security Created expects. */
  setDeviceClock(deviceUtcMs: number, atBoxMs: number): void {
    const uptimeAt = process.uptime() * 1000 - (Date.now() - atBoxMs);
    this.cam.timeShift = deviceUtcMs - uptimeAt;
  }

  /** What the next WS-Security header would claim as Created (for tests and diagnostics). */
  wsSecurityCreated(): string | undefined {
    const m = /<Created[^>]*>([^<]+)<\/Created>/.exec(this.cam._envelopeHeader());
    return m?.[1];
  }

  /** Record the service endpoints from GetServices/GetCapabilities. The host is rewritten to the
   * one we connected to (preserveAddress); the package only ever uses the path. */
  setServiceUrl(service: string, xaddr: string): void {
    try {
      const parsed = this.cam._parseUrl(xaddr);
      if (!parsed.path) return;
      this.cam.uri ??= {};
      this.cam.uri[service] = parsed;
    } catch {
      /* an unparseable XAddr: leave the service unset, the caller falls back */
    }
  }

  /** Switch the device service path (Tapo serves ONVIF at /onvif/service). */
  setDevicePath(path: string): void {
    (this.cam as unknown as { path: string }).path = path;
    this.options.path = path;
  }

  hasService(service: OnvifService): boolean {
    return !!this.cam.uri?.[service]?.path;
  }

  servicePath(service: OnvifService): string {
    return this.cam.uri?.[service]?.path ?? this.options.path;
  }

  close(): void {
    this.closed = true;
    this.agent.destroyAll();
    this.agent.destroy();
  }

  /** Authenticated call with the Digest fallback: a device that refuses the WS-Security header
   * (Digest-only Hikvision) is retried once with useWSSecurity:false, which then sticks. */
  async call(service: OnvifService, namespace: string, operation: string, inner: string): Promise<XmlElement> {
    try {
      return await this.exclusive(() => this.send(service, namespace, operation, inner, true));
    } catch (err) {
      if (!(err instanceof AuthRejected)) throw err;
      if (this.options.credentials && this.cam.useWSSecurity) {
        this.cam.useWSSecurity = false;
        try {
          return await this.exclusive(() => this.send(service, namespace, operation, inner, true));
        } catch (err2) {
          if (!(err2 instanceof AuthRejected)) throw err2;
        }
      }
      throw this.authError(err);
    }
  }

  /** Unauthenticated call (GetSystemDateAndTime must work before we know the device clock). */
  async callAnonymous(service: OnvifService, namespace: string, operation: string, inner: string): Promise<XmlElement> {
    try {
      return await this.exclusive(() => this.send(service, namespace, operation, inner, false));
    } catch (err) {
      if (err instanceof AuthRejected) throw this.authError(err);
      throw err;
    }
  }

  isAuthError(err: unknown): boolean {
    return err instanceof DriverError && err.code === 'auth';
  }

  private authError(cause: Error): DriverError {
    if (!this.options.credentials) {
      return new DriverError('auth', `${this.device} requires a username and password`, this.device, { cause });
    }
    return new DriverError(
      'auth',
      `authentication failed for ${this.device} (${this.options.credentials.username}): check the camera's username/password`,
      this.device,
      { cause },
    );
  }

  private exclusive<T>(fn: () => Promise<T>): Promise<T> {
    const run = this.queue.then(fn, fn);
    this.queue = run.catch(() => undefined);
    return run;
  }

  private send(service: OnvifService, namespace: string, operation: string, inner: string, auth: boolean): Promise<XmlElement> {
    if (this.closed) return Promise.reject(new DriverError('unreachable', `driver for ${this.device} is closed`, this.device));
    const body = auth
      ? this.cam._envelopeHeader() + inner + this.cam._envelopeFooter()
      : '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>' + inner + '</s:Body></s:Envelope>';
    const { timeoutMs } = this.options;
    return new Promise<XmlElement>((resolve, reject) => {
      let settled = false;
      let connected = false;
      let head: ResponseHead | undefined;
      this.lastStatus = undefined;
      const finish = (err: Error | null, value?: XmlElement) => {
        if (settled) return;
        settled = true;
        clearTimeout(deadline);
        this.agent.observer = undefined;
        if (err) {
          this.agent.destroyAll();
          reject(err);
        } else resolve(value!);
      };
      const deadline = setTimeout(() => {
        finish(
          connected
            ? new DriverError('timeout', `no answer from ${this.device} within ${timeoutMs} ms (${operation})`, this.device)
            : new DriverError('unreachable', `no TCP connection to ${this.device} within ${timeoutMs} ms`, this.device),
        );
      }, timeoutMs);
      this.agent.observer = {
        onConnect: () => (connected = true),
        onHead: (h) => (head = h),
        onViolation: (err) => finish(err),
      };
      try {
        // Without a known endpoint the package would post to the literal path "device"/"media":
        // fall back to the device service path, which many cameras serve everything on.
        const target = this.hasService(service) ? service : undefined;
        this.cam._request({ service: target, body, action: `${namespace}/${operation}` }, (err, _data, xml, statusCode) => {
          if (settled) return;
          this.lastStatus = statusCode ?? head?.statusCode;
          try {
            finish(null, this.interpret(err, xml, statusCode ?? head?.statusCode, head, operation, connected));
          } catch (e) {
            finish(e as Error);
          }
        });
      } catch (err) {
        finish(this.transportError(err as Error, operation, connected));
      }
    });
  }

  private transportError(err: Error, operation: string, connected: boolean): Error {
    if (err instanceof DriverError) return err;
    const code = (err as NodeJS.ErrnoException).code;
    const d = this.device;
    if (code === 'ECONNREFUSED') return new DriverError('unreachable', `${d} refused the connection (nothing listening on that port?)`, d, { cause: err });
    if (code && /^(?:EHOSTUNREACH|ENETUNREACH|ENOTFOUND|EAI_AGAIN|EADDRNOTAVAIL|ENETDOWN|EHOSTDOWN)$/.test(code)) {
      return new DriverError('unreachable', `${d} is unreachable (${code})`, d, { cause: err });
    }
    if (err.message === 'Network timeout' || code === 'ETIMEDOUT') {
      return connected
        ? new DriverError('timeout', `no answer from ${d} within ${this.options.timeoutMs} ms (${operation})`, d, { cause: err })
        : new DriverError('unreachable', `no TCP connection to ${d} within ${this.options.timeoutMs} ms`, d, { cause: err });
    }
    if (code === 'ECONNRESET' || code === 'EPIPE' || err.message === 'socket hang up') {
      return new DriverError('malformed', `${d} closed the connection during ${operation}`, d, { cause: err });
    }
    const what = printableLine(err.message, TRANSPORT_MESSAGE_MAX_CHARS);
    if (/^Digest authentication/.test(what)) return new AuthRejected(what);
    return new DriverError('malformed', `${operation} on ${d} failed: ${what}`, d, { cause: err });
  }

  private interpret(
    err: Error | null,
    xml: string | undefined,
    statusCode: number | undefined,
    head: ResponseHead | undefined,
    operation: string,
    connected: boolean,
  ): XmlElement {
    const d = this.device;
    // Errors without a body come from the transport (refused, timeout, digest failure).
    if (err && (xml === undefined || xml === null)) throw this.transportError(err, operation, connected);
    if (statusCode === 401 || statusCode === 403) throw new AuthRejected(`HTTP ${statusCode}`);
    const text = xml ?? '';
    const contentType = printableLine(head?.contentType ?? 'unknown content type', CONTENT_TYPE_MAX_CHARS);
    const notOnvif = () => new DriverError('not-onvif', `${d} is not an ONVIF device (HTTP ${statusCode ?? '?'} ${contentType})`, d);
    if (/html/.test(contentType) || /^\s*(?:<!doctype html|<html)/i.test(text)) throw notOnvif();
    if (text.trim() === '') {
      throw new DriverError('malformed', `${d} sent an empty response to ${operation} (HTTP ${statusCode ?? '?'})`, d);
    }
    let root: XmlElement;
    try {
      root = parseXml(text, { maxBytes: this.options.maxResponseBytes, source: d });
    } catch (e) {
      if (e instanceof DriverError && e.code === 'malformed' && !/xml/.test(contentType) && !text.trimStart().startsWith('<')) {
        throw notOnvif();
      }
      throw e;
    }
    const body = soapBody(root);
    if (!body) throw notOnvif();
    const fault = soapFault(body);
    if (fault) {
      if (isAuthFault(fault.codes, fault.reason)) throw new AuthRejected(fault.reason);
      const what = fault.reason || fault.codes.join('/') || 'no reason given';
      if (isUnsupportedFault(fault.codes, fault.reason)) {
        throw new DriverError('unsupported', `${d} does not support ${operation}: ${what}`, d);
      }
      throw new DriverError('device-fault', `${d} answered ${operation} with a SOAP fault: ${what}`, d);
    }
    const response = body.children[0];
    if (!response) throw new DriverError('malformed', `${d} sent an empty SOAP body for ${operation}`, d);
    if (response.name !== `${operation}Response`) {
      throw new DriverError('malformed', `${d} answered ${operation} with ${printableLine(response.name, ELEMENT_NAME_MAX_CHARS)}`, d);
    }
    return response;
  }
}
