// Incremental ISO-BMFF (fragmented MP4) splitter for ffmpeg's live output on a pipe. Pure: no I/O,
// no timers. Feed it stdout chunks of any size; it hands back
//   - the init segment (ftyp + moov, and any other boxes before the first moof) once per run,
//     with the MSE codec string read from the sample entry (avcC → "avc1.PPCCLL"),
//   - media fragments (moof + mdat, with any styp/sidx/prft before the moof), each flagged as
//     starting with a keyframe or not, from the first sample's flags (trun first-sample flags,
//     else trun per-sample flags, else tfhd default flags, else trex defaults in moov).
// The fragments are the exact bytes ffmpeg wrote: a browser appends them to a SourceBuffer as is.
//
// ffmpeg settings this is built for (see LIVE_MP4_OUTPUT_ARGS in args.ts):
//   -c:v copy -an -f mp4 -movflags empty_moov+default_base_moof+frag_every_frame
// empty_moov writes ftyp+moov before any sample (no moov at the end); default_base_moof makes each
// fragment self-contained (MSE requires it), frag_every_frame writes one fragment per frame (a
// keyframe starts its own, where a late joiner can start), so a frame leaves ffmpeg one frame
// interval after it arrived. Any other fragmenting (frag_keyframe, -frag_duration) splits the same way.

/** A box larger than this is treated as corrupt output (a keyframe of an 8 Mb/s stream is a few hundred kB). */
export const MAX_BOX_BYTES = 32 * 1024 * 1024;

export interface InitSegment {
  kind: 'init';
  /** ftyp + moov (+ whatever came between), ready for SourceBuffer.appendBuffer. */
  data: Buffer;
  /** MSE codec string: "avc1.64001f"; for other sample entries their fourcc ("hvc1", "hev1", "mp4v"); '' when no video track. */
  codec: string;
  /** Video size from the sample entry (0 when unknown). */
  width: number;
  height: number;
  /** The video track's id and timescale (0 when unknown). */
  trackId: number;
  timescale: number;
}

export interface MediaFragment {
  kind: 'fragment';
  /** moof + mdat (+ any styp/sidx/prft before the moof). */
  data: Buffer;
  /** The fragment's first sample is a sync sample (a decoder can start here). */
  keyframe: boolean;
  /** mfhd sequence number (0 when absent). */
  sequence: number;
  /** tfdt baseMediaDecodeTime of the first traf (in the track's timescale), or undefined. */
  baseMediaDecodeTime?: number;
}

export type Fmp4Output = InitSegment | MediaFragment;

export class Fmp4Error extends Error {
  override name = 'Fmp4Error';
}

interface BoxHeader {
  type: string;
  /** Total box size including the header. */
  size: number;
  headerSize: number;
}

/** Reads the header of the box at `off` in `buf`, or undefined when not enough bytes are there yet. */
function readHeader(buf: Buffer, off: number, end: number): BoxHeader | undefined {
  if (end - off < 8) return undefined;
  let size = buf.readUInt32BE(off);
  const type = buf.toString('latin1', off + 4, off + 8);
  let headerSize = 8;
  if (size === 1) {
    if (end - off < 16) return undefined;
    const big = buf.readBigUInt64BE(off + 8);
    if (big > BigInt(Number.MAX_SAFE_INTEGER)) throw new Fmp4Error(`box ${JSON.stringify(type)} claims ${big} bytes`);
    size = Number(big);
    headerSize = 16;
  } else if (size === 0) {
    throw new Fmp4Error(`box ${JSON.stringify(type)} runs to the end of the stream: not a fragmented live stream`);
  }
  if (size < headerSize) throw new Fmp4Error(`box ${JSON.stringify(type)} has an impossible size ${size}`);
  if (!/^[\x20-\x7e]{4}$/.test(type)) throw new Fmp4Error(`not an MP4 box type: ${JSON.stringify(type)} (stream out of sync)`);
  return { type, size, headerSize };
}

/** Child boxes of [start, end) in a complete buffer. */
function* children(buf: Buffer, start: number, end: number): Generator<{ type: string; start: number; body: number; end: number }> {
  let off = start;
  while (off + 8 <= end) {
    const h = readHeader(buf, off, end);
    if (!h || off + h.size > end) return;
    yield { type: h.type, start: off, body: off + h.headerSize, end: off + h.size };
    off += h.size;
  }
}

function child(buf: Buffer, start: number, end: number, type: string): { start: number; body: number; end: number } | undefined {
  for (const c of children(buf, start, end)) if (c.type === type) return c;
  return undefined;
}

/** The 32-bit field after the creation and modification times of a full box (tkhd: track id,
 * mdhd: timescale); the times are 32-bit in version 0, 64-bit in version 1. */
function afterTimes(buf: Buffer, box: { body: number; end: number } | undefined): number | undefined {
  if (!box) return undefined;
  const at = box.body + 4 + (buf[box.body] === 1 ? 16 : 8);
  return at + 4 <= box.end ? buf.readUInt32BE(at) : undefined;
}

function hex2(n: number): string {
  return n.toString(16).padStart(2, '0');
}

interface TrackInfo {
  trackId: number;
  handler: string;
  timescale: number;
  codec: string;
  width: number;
  height: number;
}

/** What the splitter needs from moov: the video track and each track's trex default sample flags. */
export interface MoovInfo {
  tracks: TrackInfo[];
  trexFlags: Map<number, number>;
}

export function parseMoov(buf: Buffer, body: number, end: number): MoovInfo {
  const tracks: TrackInfo[] = [];
  const trexFlags = new Map<number, number>();
  for (const c of children(buf, body, end)) {
    if (c.type === 'trak') {
      const t: TrackInfo = { trackId: 0, handler: '', timescale: 0, codec: '', width: 0, height: 0 };
      t.trackId = afterTimes(buf, child(buf, c.body, c.end, 'tkhd')) ?? 0;
      const mdia = child(buf, c.body, c.end, 'mdia');
      if (mdia) {
        t.timescale = afterTimes(buf, child(buf, mdia.body, mdia.end, 'mdhd')) ?? 0;
        const hdlr = child(buf, mdia.body, mdia.end, 'hdlr');
        if (hdlr && hdlr.body + 12 <= hdlr.end) t.handler = buf.toString('latin1', hdlr.body + 8, hdlr.body + 12);
        const minf = child(buf, mdia.body, mdia.end, 'minf');
        const stbl = minf && child(buf, minf.body, minf.end, 'stbl');
        const sd = stbl && child(buf, stbl.body, stbl.end, 'stsd');
        if (sd) {
          // stsd: full box (4) + entry_count (4), then sample entries.
          for (const entry of children(buf, sd.body + 8, sd.end)) {
            t.codec = entry.type;
            // VisualSampleEntry: 6 reserved + 2 data_reference_index + 16 pre_defined/reserved, width, height … 78 bytes in all.
            if (entry.body + 28 <= entry.end) {
              t.width = buf.readUInt16BE(entry.body + 24);
              t.height = buf.readUInt16BE(entry.body + 26);
            }
            if (entry.type === 'avc1' || entry.type === 'avc3') {
              const avcC = child(buf, entry.body + 78, entry.end, 'avcC');
              if (avcC && avcC.body + 4 <= avcC.end) {
                t.codec = `${entry.type}.${hex2(buf[avcC.body + 1])}${hex2(buf[avcC.body + 2])}${hex2(buf[avcC.body + 3])}`;
              }
            }
            break;
          }
        }
      }
      tracks.push(t);
    } else if (c.type === 'mvex') {
      for (const trex of children(buf, c.body, c.end)) {
        // trex: full box (4), track_ID, default_sample_description_index, duration, size, flags.
        if (trex.type === 'trex' && trex.body + 24 <= trex.end) trexFlags.set(buf.readUInt32BE(trex.body + 4), buf.readUInt32BE(trex.body + 20));
      }
    }
  }
  return { tracks, trexFlags };
}

/** Sample flags: bit 16 = sample_is_non_sync_sample. */
export function isSyncSample(flags: number): boolean {
  return (flags & 0x00010000) === 0;
}

interface MoofInfo {
  sequence: number;
  keyframe: boolean;
  baseMediaDecodeTime?: number;
}

/**
 * Whether the fragment starts with a sync sample, for the video track (or the first traf when the
 * video track is unknown). The fallback when no flags are present anywhere is "keyframe": with
 * frag_keyframe that is what an unflagged fragment most likely is, and a wrong "not a keyframe"
 * would leave a viewer waiting forever.
 */
export function parseMoof(buf: Buffer, body: number, end: number, moov: MoovInfo | undefined, videoTrackId: number): MoofInfo {
  const info: MoofInfo = { sequence: 0, keyframe: true };
  let decided = false;
  for (const c of children(buf, body, end)) {
    if (c.type === 'mfhd' && c.body + 8 <= c.end) info.sequence = buf.readUInt32BE(c.body + 4);
    if (c.type !== 'traf' || decided) continue;
    let trackId = 0;
    let defaultFlags: number | undefined;
    let firstFlags: number | undefined;
    let tfdt: number | undefined;
    for (const b of children(buf, c.body, c.end)) {
      if (b.type === 'tfhd' && b.body + 8 <= b.end) {
        const flags = buf.readUInt32BE(b.body) & 0xffffff;
        trackId = buf.readUInt32BE(b.body + 4);
        let at = b.body + 8;
        if (flags & 0x01) at += 8; // base_data_offset
        if (flags & 0x02) at += 4; // sample_description_index
        if (flags & 0x08) at += 4; // default_sample_duration
        if (flags & 0x10) at += 4; // default_sample_size
        if (flags & 0x20 && at + 4 <= b.end) defaultFlags = buf.readUInt32BE(at);
      } else if (b.type === 'tfdt' && b.body + 8 <= b.end) {
        const version = buf[b.body];
        tfdt = version === 1 ? Number(buf.readBigUInt64BE(b.body + 4)) : buf.readUInt32BE(b.body + 4);
      } else if (b.type === 'trun' && firstFlags === undefined && b.body + 8 <= b.end) {
        const flags = buf.readUInt32BE(b.body) & 0xffffff;
        const count = buf.readUInt32BE(b.body + 4);
        let at = b.body + 8;
        if (flags & 0x001) at += 4; // data_offset
        if (flags & 0x004) {
          if (at + 4 <= b.end) firstFlags = buf.readUInt32BE(at);
        } else if (flags & 0x400 && count > 0) {
          // per-sample: duration?, size?, flags, cto? — the first sample's flags.
          let s = at;
          if (flags & 0x100) s += 4;
          if (flags & 0x200) s += 4;
          if (s + 4 <= b.end) firstFlags = buf.readUInt32BE(s);
        }
      }
    }
    if (videoTrackId && trackId && trackId !== videoTrackId) continue;
    const flags = firstFlags ?? defaultFlags ?? moov?.trexFlags.get(trackId);
    if (flags !== undefined) info.keyframe = isSyncSample(flags);
    if (tfdt !== undefined) info.baseMediaDecodeTime = tfdt;
    decided = true;
  }
  return info;
}

/**
 * The splitter. push() returns what became complete; reset() forgets everything (a new ffmpeg run
 * starts with a new ftyp). Throws Fmp4Error on output that is not fragmented MP4; the caller resets.
 */
export class Fmp4Splitter {
  private chunks: Buffer[] = [];
  private buffered = 0;
  /** Boxes waiting for their closing box: before moov (ftyp…) or before mdat (styp, sidx, moof). */
  private pending: Buffer[] = [];
  private moov: MoovInfo | undefined;
  private videoTrackId = 0;
  private moof: MoofInfo | undefined;
  private initSent = false;

  constructor(private readonly maxBoxBytes = MAX_BOX_BYTES) {}

  /** Whether the init segment of the current run has been emitted. */
  get hasInit(): boolean {
    return this.initSent;
  }

  reset(): void {
    this.chunks = [];
    this.buffered = 0;
    this.pending = [];
    this.moov = undefined;
    this.videoTrackId = 0;
    this.moof = undefined;
    this.initSent = false;
  }

  push(chunk: Buffer): Fmp4Output[] {
    if (chunk.length === 0) return [];
    this.chunks.push(chunk);
    this.buffered += chunk.length;
    const out: Fmp4Output[] = [];
    for (;;) {
      const box = this.nextBox();
      if (!box) break;
      this.onBox(box.type, box.data, out);
    }
    return out;
  }

  /** Bytes held that are not yet part of an emitted segment. */
  get pendingBytes(): number {
    return this.buffered + this.pending.reduce((n, b) => n + b.length, 0);
  }

  private nextBox(): { type: string; data: Buffer } | undefined {
    if (this.buffered < 8) return undefined;
    // Peek the header (at most 16 bytes) without joining everything.
    let head = this.chunks[0];
    if (head.length < 16 && this.chunks.length > 1) head = Buffer.concat(this.chunks, Math.min(16, this.buffered));
    const h = readHeader(head, 0, Math.min(head.length, this.buffered));
    if (!h) return undefined;
    if (h.size > this.maxBoxBytes) throw new Fmp4Error(`box ${JSON.stringify(h.type)} of ${h.size} bytes exceeds the ${this.maxBoxBytes}-byte cap`);
    if (this.buffered < h.size) return undefined;
    const all = this.chunks.length === 1 ? this.chunks[0] : Buffer.concat(this.chunks, this.buffered);
    const data = all.subarray(0, h.size);
    const rest = all.subarray(h.size);
    this.chunks = rest.length ? [rest] : [];
    this.buffered = rest.length;
    return { type: h.type, data };
  }

  private onBox(type: string, data: Buffer, out: Fmp4Output[]): void {
    switch (type) {
      case 'moov': {
        const header = readHeader(data, 0, data.length)!;
        this.moov = parseMoov(data, header.headerSize, data.length);
        const video = this.moov.tracks.find((t) => t.handler === 'vide') ?? this.moov.tracks[0];
        this.videoTrackId = video?.trackId ?? 0;
        const init = Buffer.concat([...this.pending, data]);
        this.pending = [];
        this.initSent = true;
        out.push({
          kind: 'init',
          data: init,
          codec: video?.codec ?? '',
          width: video?.width ?? 0,
          height: video?.height ?? 0,
          trackId: video?.trackId ?? 0,
          timescale: video?.timescale ?? 0,
        });
        return;
      }
      case 'moof': {
        if (!this.initSent) throw new Fmp4Error('moof before moov: was -movflags empty_moov given?');
        const header = readHeader(data, 0, data.length)!;
        this.moof = parseMoof(data, header.headerSize, data.length, this.moov, this.videoTrackId);
        this.pending.push(data);
        return;
      }
      case 'mdat': {
        if (!this.moof) {
          if (!this.initSent) throw new Fmp4Error('mdat before moov: not fragmented MP4 (-movflags empty_moov+frag_keyframe)');
          throw new Fmp4Error('mdat without a moof');
        }
        const fragment = Buffer.concat([...this.pending, data]);
        this.pending = [];
        const m = this.moof;
        this.moof = undefined;
        out.push({
          kind: 'fragment',
          data: fragment,
          keyframe: m.keyframe,
          sequence: m.sequence,
          ...(m.baseMediaDecodeTime !== undefined ? { baseMediaDecodeTime: m.baseMediaDecodeTime } : {}),
        });
        return;
      }
      case 'mfra':
      case 'free':
      case 'skip':
      case 'udta':
        // Index at the end of a finished file, padding: nothing a live viewer needs.
        if (!this.initSent) this.pending.push(data);
        return;
      default:
        // ftyp before moov; styp/sidx/prft/emsg before a moof: kept with what follows.
        this.pending.push(data);
    }
  }
}
