// Who is asking: the one place the API reads the person behind a request, for acknowledgements
// and the audit log. Requests carry no login yet; once sessions exist they set request.user.
import type { FastifyRequest } from 'fastify';

export function actorOf(request: FastifyRequest): string {
  const user = (request as FastifyRequest & { user?: { username?: string } }).user;
  return user?.username ?? 'anonymous';
}
