// Who made a request, for the audit: the user an authentication layer put on the request, or null
// while the API has no logins.

/** The request's user name (request.user?.username), or null. Takes any request object. */
export function actorOf(request: object): string | null {
  return (request as { user?: { username?: unknown } }).user?.username === undefined
    ? null
    : String((request as { user: { username: unknown } }).user.username);
}
