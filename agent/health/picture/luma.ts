// The luma plane of a frame and the part of it the scene measures look at. Pure.
//
// Luma is the codec's full-resolution signal (the chroma of a sub stream is half resolution), so
// the measures that look at fine detail (blur, noise, stripes) work on it. Cameras draw their OSD
// (clock, name) in bands at the top and the bottom: sharp, high-contrast and often ticking whatever
// the picture does, so the scene measures leave those bands out.
import type { Frame } from '../types';

/** Share of the height at the top and at the bottom where cameras draw their OSD. */
export const OSD_BAND = 0.12;

export interface LumaPlane {
  width: number;
  height: number;
  /** BT.601 luma, row-major, width × height. */
  y: Uint8Array;
  /** The scene's rows: [top, bottom) leaves out the OSD bands. */
  top: number;
  bottom: number;
}

/** Rows [top, bottom) of a picture of this height that are scene, not OSD band. */
export function sceneRows(height: number): { top: number; bottom: number } {
  return { top: Math.floor(height * OSD_BAND), bottom: Math.ceil(height * (1 - OSD_BAND)) };
}

/** Filters reach this many rows beyond the scene rows (the blur's 9-tap re-blur). */
const MARGIN_ROWS = 5;

/** The luma of the scene rows and MARGIN_ROWS around them (the OSD bands beyond are not written:
 * no measure looks there), in `into` when given (width × height bytes: one buffer serves a
 * probe's frames) or a new buffer. */
export function lumaPlane(f: Frame, into?: Uint8Array): LumaPlane {
  if (into && into.length !== f.width * f.height) throw new RangeError(`lumaPlane: a buffer of ${into.length} bytes for a ${f.width}×${f.height} frame`);
  const y = into ?? new Uint8Array(f.width * f.height);
  const d = f.data;
  const rows = sceneRows(f.height);
  const start = Math.max(0, rows.top - MARGIN_ROWS) * f.width;
  const end = Math.min(f.height, rows.bottom + MARGIN_ROWS) * f.width;
  let i = start;
  if (LITTLE_ENDIAN && d.byteOffset % 4 === 0) {
    // Four pixels (12 bytes) in three 32-bit reads instead of twelve byte reads: the frame is the
    // largest thing the diagnosis reads, and this is its only full pass.
    for (; i < end && i % 4 !== 0; i++) y[i] = luma(d, i * 3);
    const w = new Uint32Array(d.buffer, d.byteOffset, d.length >> 2);
    for (let k = (i * 3) >> 2; i + 4 <= end; i += 4, k += 3) {
      const w0 = w[k];
      const w1 = w[k + 1];
      const w2 = w[k + 2];
      y[i] = (77 * (w0 & 255) + 150 * ((w0 >>> 8) & 255) + 29 * ((w0 >>> 16) & 255) + 128) >> 8;
      y[i + 1] = (77 * (w0 >>> 24) + 150 * (w1 & 255) + 29 * ((w1 >>> 8) & 255) + 128) >> 8;
      y[i + 2] = (77 * ((w1 >>> 16) & 255) + 150 * (w1 >>> 24) + 29 * (w2 & 255) + 128) >> 8;
      y[i + 3] = (77 * ((w2 >>> 8) & 255) + 150 * ((w2 >>> 16) & 255) + 29 * (w2 >>> 24) + 128) >> 8;
    }
  }
  for (; i < end; i++) y[i] = luma(d, i * 3);
  return { width: f.width, height: f.height, y, ...rows };
}

/** BT.601 luma of the RGB24 pixel at byte j. */
const luma = (d: Uint8Array, j: number): number => (77 * d[j] + 150 * d[j + 1] + 29 * d[j + 2] + 128) >> 8;

const LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
