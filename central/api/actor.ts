// Who is asking: the one place the API reads the person behind a request, for acknowledgements
// and the audit log. Requests carry no login yet; once sessions exist they set request.user.

export function actorOf(request: object): string {
  const user = (request as { user?: { username?: string } }).user;
  return user?.username ?? 'anonymous';
}
