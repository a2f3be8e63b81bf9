// TCP reachability of one device: connect with a hard timeout, destroy the socket as soon as it
// is connected (nothing is sent). Also home to the few helpers the other probes share: elapsed
// time, socket error classification, and the cancel-or-deadline plumbing.
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { ProbeError, ProbeErrorCode, ReachResult } from '../types';
import { bracketHost } from '../../../lib/url';

export interface ReachOptions {
  host: string;
  port: number;
  /** Hard limit on the whole check, ms. */
  timeoutMs: number;
  /** Aborting ends the check at once with 'timeout' ("cancelled"). */
  signal?: AbortSignal;
}

/** "host:port", IPv6 in brackets, for messages. */
export function hostPort(host: string, port: number): string {
  return `${bracketHost(host)}:${port}`;
}

/** Milliseconds since `t0` (a performance.now() reading), rounded to 0.1 ms. */
export function since(t0: number): number {
  return Math.round((performance.now() - t0) * 10) / 10;
}

export function probeError(code: ProbeErrorCode, message: string): ProbeError {
  return { code, message };
}

const UNREACHABLE = /^(?:EHOSTUNREACH|ENETUNREACH|ENETDOWN|EHOSTDOWN|EADDRNOTAVAIL|ENOTFOUND|EAI_AGAIN|EAI_NONAME)$/;

/** A socket error (connect or later) as a ProbeError about `where` ("host:port"). */
export function socketError(err: NodeJS.ErrnoException, where: string, doing: string): ProbeError {
  const code = err.code ?? '';
  if (code === 'ECONNREFUSED') return probeError('refused', `${where} refused the connection (${doing}): nothing listens there, device down or wrong port`);
  if (UNREACHABLE.test(code)) {
    const dns = code === 'ENOTFOUND' || code === 'EAI_AGAIN' || code === 'EAI_NONAME';
    return probeError('unreachable', dns ? `cannot resolve the host of ${where} (${code})` : `${where} is unreachable (${code})`);
  }
  if (code === 'ETIMEDOUT') return probeError('timeout', `${where} did not answer (${doing}): ${code}`);
  if (code === 'ECONNRESET' || code === 'EPIPE') return probeError('bad-answer', `${where} reset the connection (${doing})`);
  return probeError('failed', `${doing} on ${where} failed: ${err.message}`);
}

/** The message for a deadline: whether TCP connected tells "down" from "accepts and never answers". */
export function deadlineError(where: string, timeoutMs: number, connected: boolean, doing: string): ProbeError {
  return probeError(
    'timeout',
    connected
      ? `no answer from ${where} within ${timeoutMs} ms (${doing}): it accepts TCP but does not answer`
      : `no TCP connection to ${where} within ${timeoutMs} ms (${doing})`,
  );
}

export function cancelledError(where: string, doing: string): ProbeError {
  return probeError('timeout', `${doing} on ${where} was cancelled`);
}

/**
 * Runs `start` with a hard deadline and an optional abort signal. `start` gets `finish` and
 * returns its cleanup (destroy sockets); whichever of answer, deadline or abort comes first
 * settles the promise, and cleanup runs exactly once, right then.
 */
export function bounded<T>(
  timeoutMs: number,
  signal: AbortSignal | undefined,
  onDeadline: () => T,
  onAbort: () => T,
  start: (finish: (value: T) => void) => () => void,
): Promise<T> {
  return new Promise<T>((resolve) => {
    let settled = false;
    let cleanup: (() => void) | undefined;
    const finish = (value: T) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      signal?.removeEventListener('abort', abort);
      cleanup?.();
      resolve(value);
    };
    const abort = () => finish(onAbort());
    const timer = setTimeout(() => finish(onDeadline()), Math.max(0, timeoutMs));
    if (signal?.aborted) return finish(onAbort());
    signal?.addEventListener('abort', abort, { once: true });
    const c = start(finish);
    if (settled) c();
    else cleanup = c;
  });
}

/** Never rejects: every outcome is a ReachResult. */
export function checkReach(options: ReachOptions): Promise<ReachResult> {
  const { host, port, timeoutMs, signal } = options;
  const where = hostPort(host, port);
  const doing = 'TCP connect';
  const t0 = performance.now();
  const failed = (error: ProbeError): ReachResult => ({ ok: false, latencyMs: null, error });
  return bounded<ReachResult>(
    timeoutMs,
    signal,
    () => failed(deadlineError(where, timeoutMs, false, doing)),
    () => failed(cancelledError(where, doing)),
    (finish) => {
      let socket: net.Socket;
      try {
        socket = net.connect({ host, port });
      } catch (err) {
        // Synchronous throws: a port out of range, an invalid host type.
        finish(failed(probeError('failed', `${doing} to ${where} failed: ${(err as Error).message}`)));
        return () => undefined;
      }
      socket.once('connect', () => finish({ ok: true, latencyMs: since(t0) }));
      socket.on('error', (err: NodeJS.ErrnoException) => finish(failed(socketError(err, where, doing))));
      return () => socket.destroy();
    },
  );
}
