// Our own WS-Discovery client: multicast on every IPv4 interface (one socket per address) and/or
// unicast Probes to explicit targets, paced so that sweeping a /16 neither floods libuv's send
// queue nor the receive buffer. Answers are deduplicated by endpoint UUID; each new endpoint is
// also handed to `onMatch` as soon as it answers, so callers can start work before the window ends.
import dgram from 'node:dgram';
import { DriverError } from '../types';
import { buildProbe, parseProbeAnswer, PROBE_TYPES, type ProbeMatch } from './probe-message';
import { selectIPv4Addresses, inSubnet, type LocalAddress } from './net-interfaces';
import { systemClock, type Clock } from '../../lib/clock';

export type { ProbeMatch } from './probe-message';

export const WS_DISCOVERY_PORT = 3702;
export const WS_DISCOVERY_GROUP = '239.255.255.250';

export type ProbeProgress =
  | { type: 'socket'; address: string; via?: string; port: number }
  | { type: 'sent'; sent: number; total: number }
  | { type: 'send-error'; target: string; error: string }
  | { type: 'socket-error'; address: string; error: string }
  | { type: 'answer'; from: string; via?: string; endpointUuid: string; duplicate: boolean }
  | { type: 'ignored'; from: string; reason: string }
  /** Multicast was asked for but no interface can send it: only the unicast targets are probed. */
  | { type: 'multicast-unavailable'; reason: string };

export interface ProbeOptions {
  /** Send to 239.255.255.250:3702 on every selected IPv4 interface. */
  multicast?: boolean;
  /** Restrict interfaces by name ("eth0") or address ("192.168.1.10"). */
  interfaces?: string[];
  /** Also use internal (loopback) interfaces for multicast. Default false. */
  includeInternal?: boolean;
  /** Unicast IPv4 targets, probed at <ip>:3702. */
  targets?: string[];
  /** How long to collect answers after the last Probe has been sent. */
  timeoutMs: number;
  onProgress?(ev: ProbeProgress): void;
  /** Called once per new endpoint (after deduplication by endpoint UUID), as soon as its first
   * answer arrives, with the match the result will hold (XAddrs of later duplicate answers are
   * merged into that same object). Exceptions thrown by it are ignored. */
  onMatch?(match: ProbeMatch): void;
  signal?: AbortSignal;
  /** Unicast pacing: targets per batch (default 128) and pause between batches (default 10 ms). */
  batchSize?: number;
  batchIntervalMs?: number;
  /** Answers larger than this are ignored (default 64 KiB, the UDP maximum is 65,507). */
  maxAnswerBytes?: number;
  /** Probe types to send, one message each (default dn:NetworkVideoTransmitter and tds:Device). */
  types?: readonly string[];
  /** Times the answer window and the pacing; default the system clock. */
  clock?: Clock;
}

export interface ProbeStats {
  sockets: number;
  sent: number;
  sendErrors: number;
  answers: number;
  duplicates: number;
  ignored: Record<string, number>;
  elapsedMs: number;
}

/** Multicast was the only thing to probe and no interface can send it. */
export class NoMulticastInterfaceError extends DriverError {
  constructor(message: string) {
    super('unreachable', message);
    this.name = 'NoMulticastInterfaceError';
  }
}

const describeAddresses = (locals: LocalAddress[]): string => locals.map((l) => `${l.name} ${l.address}`).join(', ');

/** Why no multicast probe can be sent, given the interfaces that were selected for it. */
function noMulticastInterfaceReason(selected: LocalAddress[]): string {
  const head = 'no IPv4 interface to send the multicast probe on';
  if (selected.length > 0) return `${head}: no UDP socket could be opened on ${describeAddresses(selected)}`;
  const everything = selectIPv4Addresses(undefined, true);
  if (everything.length === 0) return `${head}: no network interface with an IPv4 address is up`;
  // Only loopback is left (anything else would have been selected): a multicast probe on it
  // never reaches a camera.
  return `${head}: only loopback is up (${describeAddresses(everything)}), which multicast discovery skips`;
}

interface BoundSocket {
  socket: dgram.Socket;
  local?: LocalAddress; // undefined: the generic unicast socket
}

function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new DOMException('probe aborted', 'AbortError');
}

function sleep(clock: Clock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const t = clock.setTimeout(done, ms);
    function done() {
      clock.clearTimeout(t);
      signal?.removeEventListener('abort', done);
      resolve();
    }
    signal?.addEventListener('abort', done, { once: true });
  });
}

function bindSocket(address: string): Promise<dgram.Socket> {
  return new Promise((resolve, reject) => {
    const socket = dgram.createSocket({ type: 'udp4', reuseAddr: false });
    const onError = (err: Error) => {
      socket.close();
      reject(err);
    };
    socket.once('error', onError);
    socket.bind(0, address, () => {
      socket.off('error', onError);
      try {
        socket.setRecvBufferSize(4 * 1024 * 1024); // answers to a /16 sweep arrive in bursts
      } catch {
        /* the kernel may cap it (rmem_max): the default still works, just drops more under bursts */
      }
      resolve(socket);
    });
  });
}

function send(socket: dgram.Socket, msg: Buffer, host: string): Promise<Error | null> {
  return new Promise((resolve) => {
    try {
      socket.send(msg, WS_DISCOVERY_PORT, host, (err) => resolve(err ?? null));
    } catch (err) {
      resolve(err as Error);
    }
  });
}

/** Probe and return the devices that answered, deduplicated by endpoint UUID (first answer wins,
 * XAddrs of later answers are merged in). */
export async function probe(options: ProbeOptions): Promise<ProbeMatch[]> {
  return (await probeWithStats(options)).matches;
}

/** probe() plus debug counters (junk answers, send errors, duplicates). */
export async function probeWithStats(options: ProbeOptions): Promise<{ matches: ProbeMatch[]; stats: ProbeStats }> {
  const clock = options.clock ?? systemClock;
  const started = clock.now();
  const { signal, onProgress, onMatch } = options;
  const emit = (ev: ProbeProgress) => {
    try {
      onProgress?.(ev);
    } catch {
      /* a throwing progress callback must not break discovery */
    }
  };
  const handOver = (m: ProbeMatch) => {
    try {
      onMatch?.(m);
    } catch {
      /* nor a throwing match callback */
    }
  };
  if (signal?.aborted) throw abortError(signal);
  const targets = options.targets ?? [];
  if (!options.multicast && targets.length === 0) {
    throw new DriverError('unsupported', 'nothing to probe: enable multicast or give unicast targets');
  }
  const maxAnswerBytes = options.maxAnswerBytes ?? 64 * 1024;
  const messages = (options.types ?? PROBE_TYPES).map((t) => buildProbe(t));
  const stats: ProbeStats = { sockets: 0, sent: 0, sendErrors: 0, answers: 0, duplicates: 0, ignored: {}, elapsedMs: 0 };
  const byUuid = new Map<string, ProbeMatch>();

  const ignore = (from: string, reason: string) => {
    stats.ignored[reason] = (stats.ignored[reason] ?? 0) + 1;
    emit({ type: 'ignored', from, reason });
  };
  const onMessage = (msg: Buffer, rinfo: dgram.RemoteInfo, via?: string) => {
    const answer = parseProbeAnswer(msg, rinfo.address, maxAnswerBytes, via);
    if (!answer.ok) return ignore(rinfo.address, answer.reason);
    for (const m of answer.matches) {
      stats.answers++;
      const known = byUuid.get(m.endpointUuid);
      if (known) {
        stats.duplicates++;
        for (const x of m.xaddrs) if (!known.xaddrs.includes(x)) known.xaddrs.push(x);
      } else {
        byUuid.set(m.endpointUuid, m);
      }
      emit({ type: 'answer', from: m.from, via: m.via, endpointUuid: m.endpointUuid, duplicate: !!known });
      if (!known) handOver(m);
    }
  };

  const sockets: BoundSocket[] = [];
  const closeAll = () => {
    for (const s of sockets) {
      try {
        s.socket.close();
      } catch {
        /* already closed */
      }
    }
  };
  const open = async (address: string, local?: LocalAddress): Promise<BoundSocket | undefined> => {
    try {
      const socket = await bindSocket(address);
      const bound: BoundSocket = { socket, local };
      // A send error to one target (EPERM from a firewall, ENETUNREACH) must not end discovery.
      socket.on('error', (err) => emit({ type: 'socket-error', address, error: err.message }));
      socket.on('message', (msg, rinfo) => onMessage(msg, rinfo, local?.name));
      sockets.push(bound);
      stats.sockets++;
      emit({ type: 'socket', address, via: local?.name, port: socket.address().port });
      return bound;
    } catch (err) {
      emit({ type: 'socket-error', address, error: (err as Error).message });
      return undefined;
    }
  };

  try {
    const locals = selectIPv4Addresses(options.interfaces, options.includeInternal);
    if (options.interfaces?.length && locals.length === 0) {
      const available = describeAddresses(selectIPv4Addresses(undefined, true));
      throw new DriverError('unreachable', `no IPv4 interface matches ${options.interfaces.join(', ')} (up with an IPv4 address: ${available || 'none'})`);
    }
    const perInterface: BoundSocket[] = [];
    if (options.multicast || options.interfaces?.length) {
      for (const l of locals) {
        const b = await open(l.address, l);
        if (b) perInterface.push(b);
      }
    }
    if (options.multicast && perInterface.length === 0) {
      // With unicast targets there is still work to do: say what is missing and go on.
      const reason = noMulticastInterfaceReason(locals);
      if (targets.length === 0) throw new NoMulticastInterfaceError(reason);
      emit({ type: 'multicast-unavailable', reason });
    }
    if (options.multicast) {
      for (const b of perInterface) {
        try {
          b.socket.setMulticastInterface(b.local!.address);
          b.socket.setMulticastTTL(1); // WS-Discovery is link-local by design
          b.socket.setMulticastLoopback(true); // lets a device (or simulator) on this host answer
        } catch (err) {
          emit({ type: 'socket-error', address: b.local!.address, error: (err as Error).message });
          continue;
        }
        for (const m of messages) {
          const err = await send(b.socket, m, WS_DISCOVERY_GROUP);
          if (err) {
            stats.sendErrors++;
            emit({ type: 'send-error', target: `${WS_DISCOVERY_GROUP} via ${b.local!.name}`, error: err.message });
          } else stats.sent++;
        }
      }
    }

    if (targets.length > 0) {
      // Unicast: from the interface whose subnet holds the target when interfaces were selected,
      // otherwise from one socket on 0.0.0.0 and let routing pick the source.
      let generic: BoundSocket | undefined;
      const socketFor = async (target: string): Promise<BoundSocket | undefined> => {
        const local = perInterface.find((b) => b.local && inSubnet(target, b.local));
        if (local) return local;
        if (options.interfaces?.length) return perInterface[0];
        generic ??= await open('0.0.0.0');
        return generic;
      };
      const batchSize = Math.max(1, options.batchSize ?? 128);
      const interval = options.batchIntervalMs ?? 10;
      for (let i = 0; i < targets.length; i += batchSize) {
        if (signal?.aborted) break;
        const batch = targets.slice(i, i + batchSize);
        const sends: Promise<void>[] = [];
        for (const target of batch) {
          const b = await socketFor(target);
          if (!b) throw new DriverError('unreachable', 'could not open a UDP socket for unicast discovery');
          for (const m of messages) {
            sends.push(
              send(b.socket, m, target).then((err) => {
                if (err) {
                  stats.sendErrors++;
                  emit({ type: 'send-error', target, error: err.message });
                } else stats.sent++;
              }),
            );
          }
        }
        // Waiting for the send callbacks bounds what libuv queues to one batch.
        await Promise.all(sends);
        emit({ type: 'sent', sent: Math.min(i + batchSize, targets.length), total: targets.length });
        if (i + batchSize < targets.length) await sleep(clock, interval, signal);
      }
    }

    if (!signal?.aborted) await sleep(clock, options.timeoutMs, signal);
    if (signal?.aborted) throw abortError(signal);
  } finally {
    closeAll();
  }
  stats.elapsedMs = clock.now() - started;
  return { matches: [...byUuid.values()], stats };
}
