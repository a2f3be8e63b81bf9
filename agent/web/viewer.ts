// The live view's WebSocket protocol, server → browser, for one viewer:
//   mse:    a text {"type":"init","codec":"avc1.…","width":…,"height":…} and then the binary init
//           segment (again after each ffmpeg restart), then binary moof+mdat fragments;
//           {"type":"switch","mode":"jsmpeg","reason":…} + close 4000 when an mse request got a
//           stream that needs jsmpeg (H.265); {"type":"end","reason":…} + close 1011 when the pull ended.
//   jsmpeg: binary MPEG-TS only (JSMpeg writes every message into its demuxer); errors are close codes.
//   Close codes: 4004 no such camera/stream, 4029 too many viewers, 1001 the agent stops, 1011 the pull failed.
// Every watch is audited when it starts and when it ends (who, from where, which camera, how long).
import { WebSocket } from 'ws';
import type { LivePulls } from '../video/live/live-pull';
import { LiveError, type LiveMessage, type LiveMode, type LiveSession, type LiveStream } from '../video/live/types';
import type { ViewAudit } from './view-audit';
import type { Logger } from '../../lib/log';
import type { Clock } from '../../lib/clock';

/** A WebSocket close reason: at most 123 bytes of UTF-8, cut on a character boundary. */
export function closeReason(text: string): string {
  let out = '';
  let bytes = 0;
  for (const ch of text) {
    const n = Buffer.byteLength(ch);
    if (bytes + n > 123) break;
    out += ch;
    bytes += n;
  }
  return out;
}

export interface ViewerRequest {
  cameraId: string;
  stream: LiveStream;
  mode: LiveMode | 'auto';
  /** The page user (null on a page without a password) and the viewer's address. */
  who: { user: string | null; remote: string };
}

export interface ViewerDeps {
  pulls: Pick<LivePulls, 'join'>;
  logger: Logger;
  clock: Clock;
  audit(view: ViewAudit): void;
}

const CLOSE_FOR: Record<LiveError['code'], number> = { 'not-found': 4004, 'too-many-viewers': 4029, closed: 1001 };

/** Joins the viewer's pull and plays it into the WebSocket until either side ends. */
export async function serveViewer(ws: WebSocket, request: ViewerRequest, deps: ViewerDeps): Promise<void> {
  const { cameraId, stream, mode, who } = request;
  const { logger, clock } = deps;
  let session: LiveSession | undefined;
  let closed = false;
  let watching: ViewAudit | undefined;
  ws.on('close', () => {
    closed = true;
    session?.leave();
    if (watching) {
      const durationSec = Math.round((clock.now() - Date.parse(watching.startedAt)) / 1000);
      deps.audit({ ...watching, phase: 'end', durationSec });
      watching = undefined;
    }
  });
  ws.on('error', () => undefined);
  ws.on('message', () => undefined); // the browser has nothing to say
  let chosen: LiveMode | undefined;
  // What the pull sends during join (the init segment and GOP cache) waits until the mode is
  // known: an mse request that got a jsmpeg pull is told to switch instead.
  let early: LiveMessage[] | undefined = [];
  const deliver = (msg: LiveMessage): void => {
    if (ws.readyState !== WebSocket.OPEN) return;
    switch (msg.type) {
      case 'init':
        ws.send(JSON.stringify({ type: 'init', codec: msg.init.codec, width: msg.init.width, height: msg.init.height }));
        ws.send(msg.init.data);
        return;
      case 'fragment':
        ws.send(msg.fragment.data);
        return;
      case 'ts':
        ws.send(msg.data);
        return;
      case 'end':
        if (chosen === 'mse') ws.send(JSON.stringify({ type: 'end', reason: msg.reason }));
        ws.close(1011, closeReason(msg.reason));
    }
  };
  const viewer = {
    get bufferedAmount() {
      return ws.bufferedAmount;
    },
    send(msg: LiveMessage) {
      if (early) early.push(msg);
      else deliver(msg);
    },
  };
  try {
    session = await deps.pulls.join(cameraId, { stream, mode }, viewer);
  } catch (err) {
    const code = err instanceof LiveError ? CLOSE_FOR[err.code] : 1011;
    if (!(err instanceof LiveError)) logger.warn({ camera: cameraId, err: (err as Error).message }, 'web: live join failed');
    if (ws.readyState === WebSocket.OPEN) ws.close(code, closeReason((err as Error).message));
    return;
  }
  chosen = session.mode;
  if (closed) {
    session.leave();
    return;
  }
  const queued = early;
  early = undefined;
  if (mode === 'mse' && session.mode !== 'mse') {
    ws.send(JSON.stringify({ type: 'switch', mode: session.mode, reason: session.modeReason ?? '' }));
    ws.close(4000, 'use jsmpeg');
    return;
  }
  watching = { phase: 'start', camera: cameraId, stream, mode: session.mode, ...who, startedAt: new Date(clock.now()).toISOString() };
  deps.audit(watching);
  for (const msg of queued) deliver(msg);
  logger.debug({ camera: cameraId, stream, mode: session.mode }, 'web: viewer joined');
}
