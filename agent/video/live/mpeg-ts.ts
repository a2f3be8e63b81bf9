// The JSMpeg pull's MPEG-TS output read as whole 188-byte packets: where a decoder can start (the
// PAT before an MPEG-1 sequence header, since JSMpeg needs the PAT and PMT too), fed to the GOP cache.
import type { GopCache, Unit } from './gop-cache';

export const TS_PACKET = 188;

export function tsPid(buf: Buffer, off: number): number {
  return ((buf[off + 1] & 0x1f) << 8) | buf[off + 2];
}

/** A TS packet that starts a PES whose payload holds an MPEG-1 sequence header (00 00 01 B3): where a decoder can start. */
export function tsHasSequenceHeader(buf: Buffer, off: number): boolean {
  if (!(buf[off + 1] & 0x40)) return false; // payload_unit_start_indicator
  const end = off + TS_PACKET - 3;
  for (let i = off + 4; i < end; i++) if (buf[i] === 0 && buf[i + 1] === 0 && buf[i + 2] === 1 && buf[i + 3] === 0xb3) return true;
  return false;
}

export class TsReader {
  private carry: Buffer = Buffer.alloc(0);
  /** Packets since the last PAT: the lead of the next GOP. */
  private sincePat: Buffer[] = [];
  private sincePatBytes = 0;
  /** sincePat starts at a PAT (false before the first one and after it outgrew the cap): a GOP
   * whose lead lacks the PAT and PMT cannot be decoded by a late joiner, so none is started. */
  private leadFromPat = false;

  constructor(
    private readonly cache: GopCache,
    private readonly maxBytes: number,
  ) {}

  reset(): void {
    this.carry = Buffer.alloc(0);
    this.sincePat = [];
    this.sincePatBytes = 0;
    this.leadFromPat = false;
  }

  /**
   * The whole packets of `chunk` (a partial packet waits for the next chunk, so the cache always
   * starts on a packet boundary, as ffmpeg's output does), and whether a GOP starts in them.
   */
  read(chunk: Buffer): { batch: Buffer; keyframe: boolean } | undefined {
    const data = this.carry.length ? Buffer.concat([this.carry, chunk]) : chunk;
    const whole = data.length - (data.length % TS_PACKET);
    this.carry = Buffer.from(data.subarray(whole));
    if (whole === 0) return undefined;
    const batch = data.subarray(0, whole);
    let segStart = 0;
    let keyframe = false;
    const pushRange = (a: number, b: number): void => {
      if (b <= a) return;
      const piece = batch.subarray(a, b);
      this.sincePat.push(piece);
      this.sincePatBytes += piece.length;
      if (this.sincePatBytes > this.maxBytes) {
        // no PAT for a long time: nothing to start a cache from until the next one.
        this.sincePat = [];
        this.sincePatBytes = 0;
        this.leadFromPat = false;
      }
      this.cache.add({ kind: 'ts', data: piece }, piece.length);
    };
    for (let off = 0; off < whole; off += TS_PACKET) {
      if (batch[off] !== 0x47) continue; // out of sync: JSMpeg resyncs itself
      if (tsPid(batch, off) === 0) {
        pushRange(segStart, off);
        segStart = off;
        this.sincePat = [];
        this.sincePatBytes = 0;
        this.leadFromPat = true;
      } else if (tsHasSequenceHeader(batch, off)) {
        pushRange(segStart, off);
        segStart = off;
        // The new GOP starts at the last PAT (the PMT follows it; JSMpeg needs both).
        if (this.leadFromPat) {
          this.cache.start(
            this.sincePat.map((d): Unit => ({ kind: 'ts', data: d })),
            this.sincePatBytes,
          );
        } else {
          this.cache.clear();
        }
        keyframe = true;
      }
    }
    pushRange(segStart, whole);
    return { batch, keyframe };
  }
}
