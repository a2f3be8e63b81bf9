// The two changes the uplink makes to a payload it has already serialised, as string splices
// after the opening brace (no parse, no second serialisation): the outbox's `seq` and the replay's
// `historical` flag.

/**
 * Adds `"historical":true` to a serialised JSON object (the session does this at send time for
 * messages enqueued before the current connection). A string splice after the opening brace, no
 * parse. Idempotent for payloads it marked itself.
 */
export function markHistorical(payload: string): string {
  let i = 0;
  while (i < payload.length && isJsonSpace(payload.charCodeAt(i))) i++;
  if (payload.charCodeAt(i) !== 0x7b /* { */) throw new TypeError('markHistorical: payload is not a JSON object');
  let j = i + 1;
  while (j < payload.length && isJsonSpace(payload.charCodeAt(j))) j++;
  if (payload.startsWith('"historical":true', j)) return payload;
  const head = payload.slice(0, i + 1);
  if (payload.charCodeAt(j) === 0x7d /* } */) return `${head}"historical":true${payload.slice(j)}`;
  return `${head}"historical":true,${payload.slice(i + 1)}`;
}

function isJsonSpace(c: number): boolean {
  return c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09;
}

/** Serialises the producer's payload with `"seq":N` as its first member. */
export function payloadWithSeq(body: string, seq: number): string {
  return body === '{}' ? `{"seq":${seq}}` : `{"seq":${seq},${body.slice(1)}`;
}
