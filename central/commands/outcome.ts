// What the HTTP API answers for a command: the pure rules from "the site is known and connected?"
// and "what came back" to a status code and a JSON body. Every error body is {error, message}
// (like every route's), and the message names the site and the command.
import type { Settled } from './pending';

export interface HttpOutcome {
  status: number;
  body: Record<string, unknown> & { error?: string; message?: string };
}

/** The site row as far as the gate needs it. */
export interface SiteConnection {
  connection: string;
}

/**
 * Whether a command may be sent to a site: 404 for a site the central never heard of, 409 for one
 * that is not connected now (its Will or a clean stop said so, or no state yet) unless forced.
 * Undefined: go ahead.
 */
export function siteGate(site: string, row: SiteConnection | undefined, force: boolean): HttpOutcome | undefined {
  if (!row) return { status: 404, body: { error: 'not-found', message: `no site ${site} (GET /api/sites lists the sites the central has heard from)` } };
  if (row.connection !== 'online' && !force) {
    return {
      status: 409,
      body: {
        error: 'site-offline',
        message: `site ${site} is ${row.connection === 'offline' ? 'offline' : `not known to be connected (${row.connection})`}: its agent would not receive the command; add ?force=true to send it anyway (the broker does not queue it for a disconnected agent)`,
      },
    };
  }
  return undefined;
}

/** The answer to one sent command. */
export function commandOutcome(site: string, command: string, settled: Settled, timeoutKey: string): HttpOutcome {
  switch (settled.kind) {
    case 'reply': {
      const r = settled.reply;
      if (r.ok) return { status: 200, body: { site, command, requestId: r.requestId, observedAt: r.observedAt, result: r.result ?? {} } };
      const code = r.error?.code ?? 'failed';
      return {
        status: 502,
        body: {
          error: 'agent-error',
          code,
          message: `site ${site} answered ${command} with ${code}: ${r.error?.message ?? '(no message)'}`,
          site,
          command,
        },
      };
    }
    case 'timeout':
      return {
        status: 504,
        body: {
          error: 'timeout',
          message: `site ${site} did not answer ${command} within ${settled.afterMs} ms (${timeoutKey}); the agent may be disconnected, busy or slow (a later reply is dropped)`,
          site,
          command,
        },
      };
    case 'cancelled':
      return { status: 503, body: { error: 'unavailable', message: `${command} to site ${site} was not sent: ${settled.reason}`, site, command } };
  }
}
