// How devices name themselves, in one spelling: MAC addresses, WS-Discovery endpoint references
// and codec names come in many forms from firmwares; everything that compares or stores them uses
// these.

/** "44-19-B6-00-00-01", "4419b6000001", "44:19:B6:00:00:01" → "44:19:b6:00:00:01"; undefined for
 * anything else and for the all-zero and broadcast addresses, which identify nothing. */
export function normalizeMac(value: string | undefined): string | undefined {
  if (!value) return undefined;
  const hex = value
    .trim()
    .toLowerCase()
    .replace(/[^0-9a-f]/g, '');
  if (hex.length !== 12 || /^0+$/.test(hex) || /^f+$/.test(hex)) return undefined;
  return hex.match(/../g)!.join(':');
}

/**
 * A WS-Discovery endpoint reference: "uuid:ABC", "urn:uuid:ABC" and a bare id → "urn:uuid:abc";
 * another URN or URI is kept (lower-cased); undefined for blanks and the all-zero uuid some
 * firmwares send.
 */
export function normalizeEndpointUuid(value: string | undefined): string | undefined {
  const a = value?.trim().toLowerCase();
  if (!a) return undefined;
  const id = a.replace(/^urn:uuid:/, '').replace(/^uuid:/, '');
  if (id !== a || !/^[a-z][a-z0-9+.-]*:/.test(a)) {
    if (id === '' || /^[0-]+$/.test(id)) return undefined;
    return `urn:uuid:${id}`;
  }
  return a;
}

/** "H.264", "h264", "AVC" → "H264"; "H.265", "HEVC" → "H265"; "JPEG" → "MJPEG"; others as given, upper-cased. */
export function normalizeCodec(raw: string | undefined | null): string | undefined {
  const given = raw?.trim().toUpperCase();
  if (!given) return undefined;
  const c = given.replace(/[.\-_\s]/g, '');
  if (c === 'H264' || c === 'AVC') return 'H264';
  if (c === 'H265' || c === 'HEVC') return 'H265';
  if (c === 'JPEG' || c === 'MJPEG') return 'MJPEG';
  return given;
}
