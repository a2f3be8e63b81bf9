// What kind of picture a byte buffer holds, by its magic bytes (snapshots, ffmpeg input).
export type ImageKind = 'jpeg' | 'png';

/** JPEG (SOI + a marker: FF D8 FF) or PNG (its 8-byte signature); undefined for anything else. */
export function imageKind(bytes: Uint8Array): ImageKind | undefined {
  if (bytes.length >= 3 && bytes[0] === 0xff && bytes[1] === 0xd8 && bytes[2] === 0xff) return 'jpeg';
  const png = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];
  if (bytes.length >= png.length && png.every((b, i) => bytes[i] === b)) return 'png';
  return undefined;
}
