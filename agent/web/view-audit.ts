// Who viewed what on the live page (the brief's 安全使用审核, audit of viewing): the server tells
// when a viewer starts and stops watching a camera; the agent turns each into an `audit` event
// that goes through the outbox like every other event (docs/mqtt.md). A client locked out after
// too many wrong passwords is audited the same way.
import type { EventBody } from '../../contract';
import type { LoginLockout } from '../../lib/login-guard';
import type { LiveMode, LiveStream } from '../video/live/types';

/** One viewer's watch of one camera, as audited. */
export interface ViewAudit {
  phase: 'start' | 'end';
  camera: string;
  stream: LiveStream;
  mode: LiveMode;
  /** web.username when the page has a password (Basic or its session cookie); null on a loopback page without one. */
  user: string | null;
  /** The viewer's address as the agent saw it (no proxy header is trusted). */
  remote: string;
  /** ISO time the watch started. */
  startedAt: string;
  /** 'end' only: seconds watched. */
  durationSec?: number;
}

/** The audit event of a view (action live-view; phase start or end). */
export function viewAuditEvent(view: ViewAudit): EventBody {
  const who = `${view.user ?? 'local user (no web.password)'} from ${view.remote}`;
  const what = `${view.camera} (${view.stream}, ${view.mode})`;
  return {
    type: 'audit',
    severity: 'info',
    camera: view.camera,
    message: view.phase === 'start' ? `live view of ${what} opened by ${who}` : `live view of ${what} closed by ${who} after ${view.durationSec ?? 0} s`,
    detail: {
      action: 'live-view',
      phase: view.phase,
      stream: view.stream,
      mode: view.mode,
      user: view.user,
      remote: view.remote,
      startedAt: view.startedAt,
      ...(view.durationSec !== undefined ? { durationSec: view.durationSec } : {}),
    },
  };
}

/** The audit event of a login lockout on the page (action web-login-locked, severity warning). */
export function loginLockedEvent(lock: LoginLockout): EventBody {
  const until = new Date(lock.until).toISOString();
  return {
    type: 'audit',
    severity: 'warning',
    message: `live page login locked for ${lock.client} after ${lock.failures} wrong passwords in a row, until ${until} (password guessing?)`,
    detail: {
      action: 'web-login-locked',
      client: lock.client,
      remote: lock.remote,
      failures: lock.failures,
      lockoutSec: lock.lockoutSec,
      until,
    },
  };
}
