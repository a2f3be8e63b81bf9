// Cross-site request forgery: a change made through a login session must carry, in a header, a
// token derived from the session. The session cookie is HttpOnly and SameSite=Strict already;
// the header also stops a sibling subdomain, a plain-http neighbour or an old browser that sends
// the cookie anyway, since no page but ours can read the token. The token is a one-way hash of the
// session id (nothing to store, and it names no session); the dashboard reads it from a cookie
// the login sets beside the session's (the double-submit pattern, bound to the session). API
// tokens need none: a browser never sends them by itself.
import { createHash, timingSafeEqual } from 'node:crypto';

/** The readable cookie that hands the token to the dashboard (path /, so the page can read it). */
export const CSRF_COOKIE = 'camgate_csrf';
/** The header a session's state-changing request must carry. */
export const CSRF_HEADER = 'x-csrf-token';

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS']);

export function csrfToken(sessionId: string): string {
  return createHash('sha256').update(`camgate-csrf\0${sessionId}`).digest('base64url');
}

/** Does this method change anything (and so need the token)? */
export function needsCsrf(method: string): boolean {
  return !SAFE_METHODS.has(method.toUpperCase());
}

/** Is the header's value the session's token? */
export function csrfMatches(sessionId: string, header: unknown): boolean {
  if (typeof header !== 'string') return false;
  const want = Buffer.from(csrfToken(sessionId));
  const got = Buffer.from(header);
  return got.length === want.length && timingSafeEqual(got, want);
}
