// ONVIF GetSystemDateAndTime without credentials (ONVIF Core allows it unauthenticated): proves
// the device's ONVIF service answers and gives its clock offset. One lean HTTP POST per probe
// (no onvif package, no keep-alive), a 64 KiB answer cap, one hard deadline over connect and
// answer, and the answer parsed with the project's safe XML parser (DOCTYPE refused, prefixes
// ignored) and the ONVIF driver's own UTCDateTime reader.
import { request as httpRequest, type ClientRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { performance } from 'node:perf_hooks';
import { parseDeviceUtc } from '../../../drivers/onvif/parse';
import { DriverError } from '../../../drivers/types';
import { parseXml, soapBody, soapFault } from '../../../drivers/xml';
import type { ClockResult, ProbeError } from '../types';
import { bounded, cancelledError, deadlineError, hostPort, probeError, since, socketError } from './reach';
import { redactUrl } from '../../../lib/url';
import { systemClock, type Clock } from '../../../lib/clock';
import { printableLine } from '../../../lib/text';

export interface ClockOptions {
  /** ONVIF device service URL, e.g. http://192.168.1.64/onvif/device_service (no credentials). */
  deviceUrl: string;
  /** Hard limit on connect + answer, ms. */
  timeoutMs: number;
  /** Aborting ends the check at once with 'timeout' ("cancelled"). */
  signal?: AbortSignal;
  /** The box clock; default the system clock. */
  clock?: Clock;
  /** Cap on the answer body; default CLOCK_MAX_RESPONSE_BYTES. */
  maxResponseBytes?: number;
}

/** A GetSystemDateAndTimeResponse is well under 2 KB; 64 KiB leaves room for verbose firmwares. */
export const CLOCK_MAX_RESPONSE_BYTES = 64 * 1024;

const DEVICE_NS = 'http://www.onvif.org/ver10/device/wsdl';
const ENVELOPE = Buffer.from(
  '<?xml version="1.0" encoding="UTF-8"?>' +
    '<s:Envelope xmlns:s="http://www.w3.org/2003/05/soap-envelope"><s:Body>' +
    `<GetSystemDateAndTime xmlns="${DEVICE_NS}"/>` +
    '</s:Body></s:Envelope>',
  'utf8',
);
const CONTENT_TYPE = `application/soap+xml; charset=utf-8; action="${DEVICE_NS}/GetSystemDateAndTime"`;

const AUTH_FAULT = /notauthorized|not authorized|unauthorized|failedauthentication|invalidsecurity|authority failure/i;
const DOING = 'ONVIF GetSystemDateAndTime';

interface Answer {
  status: number;
  contentType: string;
  body: Buffer;
}

/** Never rejects: every outcome is a ClockResult. */
export function checkClock(options: ClockOptions): Promise<ClockResult> {
  const { timeoutMs, signal } = options;
  const clock = options.clock ?? systemClock;
  const now = () => clock.now();
  const cap = options.maxResponseBytes ?? CLOCK_MAX_RESPONSE_BYTES;
  const failed = (error: ProbeError, latencyMs: number | null = null): ClockResult => ({ ok: false, offsetMs: null, latencyMs, error });

  let url: URL;
  try {
    url = new URL(options.deviceUrl);
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new Error('scheme');
  } catch {
    return Promise.resolve(failed(probeError('failed', `not an http:// ONVIF device URL: ${JSON.stringify(redactUrl(options.deviceUrl))}`)));
  }
  const host = url.hostname.replace(/^\[|\]$/g, '');
  const port = url.port ? Number(url.port) : url.protocol === 'https:' ? 443 : 80;
  const where = hostPort(host, port);

  let connected = false;
  let before = 0;
  const t0 = performance.now();
  return bounded<ClockResult>(
    timeoutMs,
    signal,
    () => failed(deadlineError(where, timeoutMs, connected, DOING)),
    () => failed(cancelledError(where, DOING)),
    (finish) => {
      const make = url.protocol === 'https:' ? httpsRequest : httpRequest;
      let req: ClientRequest;
      const onError = (err: NodeJS.ErrnoException) => {
        if (err.code?.startsWith('HPE_')) finish(failed(probeError('bad-answer', `${where} did not answer ${DOING} with valid HTTP (${err.code})`)));
        else finish(failed(connected ? socketErrorAfterConnect(err, where) : socketError(err, where, DOING)));
      };
      try {
        req = make(
          {
            host,
            port,
            path: url.pathname + url.search,
            method: 'POST',
            agent: false,
            // A device with a self-signed certificate is the norm; the probe only reads the time.
            ...(url.protocol === 'https:' ? { rejectUnauthorized: false } : {}),
            headers: { 'Content-Type': CONTENT_TYPE, 'Content-Length': ENVELOPE.length, Connection: 'close' },
          },
          (res: IncomingMessage) => {
            const chunks: Buffer[] = [];
            let size = 0;
            const declared = Number(res.headers['content-length']);
            if (Number.isFinite(declared) && declared > cap) {
              return finish(failed(probeError('too-large', `${where} announced a ${declared}-byte answer to ${DOING}, over the ${cap}-byte cap`)));
            }
            res.on('data', (chunk: Buffer) => {
              size += chunk.length;
              if (size > cap) return finish(failed(probeError('too-large', `${where} sent more than ${cap} bytes in answer to ${DOING}`)));
              chunks.push(chunk);
            });
            res.on('end', () => {
              const after = now();
              const latencyMs = since(t0);
              const answer = { status: res.statusCode ?? 0, contentType: String(res.headers['content-type'] ?? ''), body: Buffer.concat(chunks) };
              finish(interpret(answer, where, cap, before, after, latencyMs));
            });
            res.on('aborted', () => finish(failed(probeError('bad-answer', `${where} closed the connection in the middle of its answer to ${DOING}`))));
            res.on('error', onError);
          },
        );
      } catch (err) {
        finish(failed(probeError('failed', `${DOING} on ${where} failed: ${(err as Error).message}`)));
        return () => undefined;
      }
      req.on('socket', (socket) => {
        socket.once('connect', () => {
          connected = true;
        });
      });
      req.on('error', onError);
      before = now();
      req.end(ENVELOPE);
      return () => req.destroy();
    },
  );
}

function socketErrorAfterConnect(err: NodeJS.ErrnoException, where: string): ProbeError {
  if (err.code === 'ECONNRESET' || err.message === 'socket hang up') {
    return probeError('bad-answer', `${where} closed the connection without answering ${DOING}`);
  }
  return socketError(err, where, DOING);
}

function interpret(answer: Answer, where: string, cap: number, before: number, after: number, latencyMs: number): ClockResult {
  const failed = (error: ProbeError): ClockResult => ({ ok: false, offsetMs: null, latencyMs, error });
  const bad = (what: string) => failed(probeError('bad-answer', `${where}: ${what} (${DOING}, HTTP ${answer.status})`));
  const { status, contentType, body } = answer;
  const text = body.toString('utf8');
  if (status === 401 || status === 403) {
    return failed(probeError('auth', `${where} wants credentials even for ${DOING} (HTTP ${status})`));
  }
  if (/html/i.test(contentType) || /^\s*(?:<!doctype html|<html)/i.test(text)) return bad('answered with a web page, not ONVIF SOAP');
  if (text.trim() === '') return bad('empty answer');
  let root;
  try {
    root = parseXml(text, { maxBytes: cap, source: where });
  } catch (err) {
    if (err instanceof DriverError) {
      if (err.code === 'unsafe-xml') return bad('the answer declares a DOCTYPE/ENTITY: refused');
      if (err.code === 'too-large') return failed(probeError('too-large', `${where} sent more than ${cap} bytes in answer to ${DOING}`));
      return bad('the answer is not well-formed XML');
    }
    return bad('the answer could not be parsed');
  }
  const soap = soapBody(root);
  if (!soap) return bad(`the answer is not a SOAP envelope (root <${root.name}>)`);
  const fault = soapFault(soap);
  if (fault) {
    const what = fault.reason || fault.codes.join('/') || 'no reason given';
    if (AUTH_FAULT.test(`${fault.codes.join(' ')} ${fault.reason}`) || status === 401) {
      return failed(probeError('auth', `${where} wants credentials even for ${DOING} (SOAP fault: ${oneLine(what)})`));
    }
    return bad(`SOAP fault: ${oneLine(what)}`);
  }
  const response = soap.children[0];
  if (!response || response.name !== 'GetSystemDateAndTimeResponse')
    return bad(`expected GetSystemDateAndTimeResponse, got ${response ? `<${response.name}>` : 'an empty Body'}`);
  if (status !== 200) return bad('unexpected HTTP status');
  const { utcMs } = parseDeviceUtc(response);
  if (utcMs === undefined) return bad('no usable UTCDateTime in the answer');
  // The device stamped its answer somewhere between sending and receiving: take the midpoint.
  // It sends whole seconds (truncated), so its true clock lies in [t, t + 1 s): add half a
  // second, as the ONVIF driver does.
  const mid = (before + after) / 2;
  return { ok: true, offsetMs: Math.round(utcMs + 500 - mid), latencyMs };
}

function oneLine(text: string): string {
  return printableLine(text, 160);
}
