// Who made a request, for the audit and for acknowledgements: the caller the guard put on the
// request (a user, or a token of one), and the address it came from.
import type { Actor } from '../audit/log';
import { actorName, type Caller } from './guard';

export function actorOf(request: { caller?: Caller | undefined; ip: string }): Actor {
  return { name: request.caller ? actorName(request.caller) : 'anonymous', address: request.ip };
}
