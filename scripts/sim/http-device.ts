// The HTTP side of one simulated device: SOAP device + media services, snapshots, auth, and the
// HTTP faults (garbage, truncated, huge, doctype, not-onvif, snapshot-huge, snapshot-not-image).
// 'hang' never gets here (HangListener).
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { HttpDigest, verifyUsernameToken, type DigestAlgorithm } from './auth';
import { sendDoctype, sendGarbage, sendHuge, sendHugeSnapshot, sendNotAnImage, sendNotOnvifPage, sendTruncated } from './faults';
import { isPreAuthOperation, routeOperation, type DeviceState, type SoapOutcome } from './soap-router';
import { envelope, FAULTS, faultEnvelope, NS, type EnvelopeStyle, type SoapFault } from './soap';
import { child, parseXml, XmlRejected, type XmlElement } from './xml';

/** Cameras refuse large requests; so do we (also bounds memory with 256 devices). */
export const MAX_REQUEST_BYTES = 1024 * 1024;

const HIKVISION_401_PAGE =
  '<!DOCTYPE html><html><head><title>Document Error: Unauthorized</title></head><body><h2>Access Error: 401 -- Unauthorized</h2>\n' +
  '<p>Authentication Error: Access Denied! Authorization required.</p></body></html>\n';

interface ParsedRequest {
  header: XmlElement | undefined;
  op: XmlElement;
}

class RequestTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_REQUEST_BYTES) {
        reject(new RequestTooLarge());
        req.pause();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

export class DeviceHttpService {
  private readonly server: Server;
  private readonly style: EnvelopeStyle;
  private readonly digest: HttpDigest;

  constructor(
    private readonly state: DeviceState,
    private readonly snapshot: () => Buffer,
  ) {
    const v = state.model.vendor;
    this.style = { prefix: v.envPrefix, compact: v.compactXml };
    const algorithms: DigestAlgorithm[] = v.digestSha256 ? ['MD5', 'SHA-256'] : ['MD5'];
    this.digest = new HttpDigest(v.digestRealm, algorithms);
    this.server = this.createServer();
  }

  private createServer(): Server {
    const server = createServer((req, res) => {
      this.onRequest(req, res).catch((err: unknown) => {
        if (!res.headersSent) this.sendFault(res, { status: 500, code: 'Receiver', subcodes: [], reason: String(err) });
        else res.destroy();
      });
    });
    server.keepAliveTimeout = 5000;
    return server;
  }

  listen(): Promise<void> {
    const { host, httpPort } = this.state.model.spec;
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen({ host, port: httpPort, exclusive: true }, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Closes the listener and every open connection (keep-alive or mid-response). */
  close(): Promise<void> {
    return new Promise((resolve) => {
      if (!this.server.listening) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }

  private async onRequest(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const { model } = this.state;
    if (model.vendor.serverHeader) res.setHeader('Server', model.vendor.serverHeader);
    const url = req.url ?? '/';
    switch (model.spec.fault) {
      case 'not-onvif':
        req.resume();
        return sendNotOnvifPage(req, res);
      case 'garbage':
        req.resume();
        return sendGarbage(res);
      case 'huge':
        req.resume();
        return sendHuge(req, res);
      case 'doctype':
        req.resume();
        return sendDoctype(res);
      default:
        break;
    }
    if (req.method === 'GET' && this.isSnapshotUrl(url)) return this.serveSnapshot(req, res);
    if (req.method !== 'POST' || !url.startsWith('/onvif/')) {
      req.resume();
      return this.sendPlain(res, 404, 'Not Found');
    }
    let text: string;
    try {
      text = await readBody(req);
    } catch (err) {
      if (err instanceof RequestTooLarge) {
        res.setHeader('Connection', 'close');
        return this.sendPlain(res, 413, 'Request Entity Too Large');
      }
      throw err;
    }
    const parsed = this.parseRequest(text);
    if ('status' in parsed) return this.sendFault(res, parsed);

    if (model.spec.fault === 'truncated') {
      // The device answers everything (no auth) but cuts each response in half.
      const outcome = routeOperation(this.state, parsed.op);
      return sendTruncated(res, this.render(outcome).xml);
    }
    if (!isPreAuthOperation(parsed.op) && !this.authorize(req, res, parsed.header)) return;
    const outcome = routeOperation(this.state, parsed.op);
    const { status, xml } = this.render(outcome);
    this.sendXml(res, status, xml);
    if (outcome.kind === 'body' && outcome.afterResponse) res.once('finish', outcome.afterResponse);
  }

  private parseRequest(text: string): ParsedRequest | SoapFault {
    let root: XmlElement;
    try {
      root = parseXml(text);
    } catch (err) {
      if (err instanceof XmlRejected) return FAULTS.wellFormed(err.message);
      throw err;
    }
    if (root.local !== 'Envelope') return FAULTS.wellFormed('root element is not a SOAP Envelope');
    if (root.ns === NS.soap11) return FAULTS.versionMismatch();
    if (root.ns !== NS.soap12) return FAULTS.wellFormed(`unknown envelope namespace "${root.ns}"`);
    const op = child(root, NS.soap12, 'Body')?.children[0];
    if (!op) return FAULTS.wellFormed('SOAP Body is empty');
    return { header: child(root, NS.soap12, 'Header'), op };
  }

  /** Returns true when the request may proceed; otherwise the refusal has been sent. */
  private authorize(req: IncomingMessage, res: ServerResponse, header: XmlElement | undefined): boolean {
    const { spec } = this.state.model;
    if (spec.auth === 'none') return true;
    const creds = { username: spec.username, password: spec.password };
    const digestAllowed = spec.auth === 'digest' || spec.auth === 'both';
    const wsseAllowed = spec.auth === 'wsse' || spec.auth === 'both';
    if (digestAllowed && this.digest.verify(req.headers.authorization, req.method ?? 'POST', req.url ?? '', creds) === 'ok') return true;
    const wsse = wsseAllowed ? verifyUsernameToken(header, creds, this.state.clock.now()) : 'absent';
    if (wsse === 'ok') return true;
    if (wsse === 'rejected' || !digestAllowed) {
      // What ONVIF prescribes for WS-Security: HTTP 400 with ter:NotAuthorized.
      this.sendFault(res, FAULTS.notAuthorized());
    } else {
      this.sendDigestChallenge(res);
    }
    return false;
  }

  private sendDigestChallenge(res: ServerResponse): void {
    res.setHeader('WWW-Authenticate', this.digest.challenges());
    if (this.state.model.vendor.htmlUnauthorized) {
      res.writeHead(401, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(HIKVISION_401_PAGE) });
      res.end(HIKVISION_401_PAGE);
    } else {
      this.sendXml(res, 401, faultEnvelope(this.style, FAULTS.notAuthorized()));
    }
  }

  private render(outcome: SoapOutcome): { status: number; xml: string } {
    return outcome.kind === 'body'
      ? { status: 200, xml: envelope(this.style, outcome.body) }
      : { status: outcome.fault.status, xml: faultEnvelope(this.style, outcome.fault) };
  }

  private isSnapshotUrl(url: string): boolean {
    return /^\/snapshot\/\d+$/.test(url) || url.startsWith('/onvifsnapshot/media_service/snapshot');
  }

  private serveSnapshot(req: IncomingMessage, res: ServerResponse): void {
    req.resume();
    const { spec } = this.state.model;
    const url = new URL(req.url ?? '/', 'http://sim');
    const channel = Number(url.pathname.startsWith('/snapshot/') ? url.pathname.slice('/snapshot/'.length) : url.searchParams.get('channel'));
    if (!Number.isInteger(channel) || channel < 1 || channel > spec.channels) return this.sendPlain(res, 404, 'No such channel');
    if (spec.auth === 'digest' || spec.auth === 'both') {
      const creds = { username: spec.username, password: spec.password };
      if (this.digest.verify(req.headers.authorization, 'GET', req.url ?? '', creds) !== 'ok') return this.sendDigestChallenge(res);
    }
    if (spec.fault === 'snapshot-huge') return sendHugeSnapshot(req, res);
    if (spec.fault === 'snapshot-not-image') return sendNotAnImage(res);
    const jpeg = this.snapshot();
    res.writeHead(200, { 'Content-Type': 'image/jpeg', 'Content-Length': jpeg.length });
    res.end(jpeg);
  }

  private sendXml(res: ServerResponse, status: number, xml: string): void {
    res.writeHead(status, { 'Content-Type': 'application/soap+xml; charset=utf-8', 'Content-Length': Buffer.byteLength(xml) });
    res.end(xml);
  }

  private sendFault(res: ServerResponse, fault: SoapFault): void {
    this.sendXml(res, fault.status, faultEnvelope(this.style, fault));
  }

  private sendPlain(res: ServerResponse, status: number, text: string): void {
    const body = `<html><body><h1>${status} ${text}</h1></body></html>\n`;
    res.writeHead(status, { 'Content-Type': 'text/html', 'Content-Length': Buffer.byteLength(body) });
    res.end(body);
  }
}
