import { redactUrlsInText } from '../../lib/redact';
import { basicRefusedMessage, isBasicRefusal } from '../../drivers/auth';
// Pure parsers of what ffmpeg prints: the `-progress` key=value blocks (fd 3 for relays) and the
// stderr tail (the reason a run failed, in words). No I/O here; the supervisor feeds them.
//
// -progress output (ffmpeg 4.x–7.x) is a series of blocks, one every -stats_period, each ending
// with `progress=continue` (or `progress=end` on the last one):
//   frame=26  fps=25.80  stream_0_0_q=2.3  bitrate= 505.1kbits/s  total_size=58092
//   out_time_us=1040000  out_time_ms=1040000  out_time=00:00:01.040000  dup_frames=0
//   drop_frames=0  speed=0.913x  progress=continue
// Values may be "N/A" (bitrate and total_size with `-f null`, speed on the first block).

export interface ProgressBlock {
  /** Output frames so far (null when not printed, e.g. audio only). */
  frame: number | null;
  /** ffmpeg's own average fps since the start of the run. */
  fps: number | null;
  /** ffmpeg's own average bitrate since the start, kbit/s (null for N/A). */
  bitrateKbps: number | null;
  /** Output bytes so far (null for N/A: `-f null`). */
  totalSize: number | null;
  /** Output timestamp, µs (null for N/A). */
  outTimeUs: number | null;
  /** Speed relative to real time (1 = real time; null for N/A). */
  speed: number | null;
  /** true on the final block (`progress=end`). */
  end: boolean;
  /** Every key=value of the block, raw. */
  raw: Record<string, string>;
}

function num(value: string | undefined): number | null {
  if (value === undefined) return null;
  const v = value.trim();
  if (v === '' || /^n\/a$/i.test(v)) return null;
  const n = Number.parseFloat(v);
  return Number.isFinite(n) ? n : null;
}

/** "1234.5kbits/s" → 1234.5; "N/A" → null. Also accepts bits/s and mbits/s. */
export function parseBitrate(value: string | undefined): number | null {
  if (value === undefined) return null;
  const m = /^\s*([0-9.]+)\s*([kmg]?)bits\/s\s*$/i.exec(value);
  if (!m) return null;
  const n = Number.parseFloat(m[1]);
  if (!Number.isFinite(n)) return null;
  const unit = (m[2] ?? '').toLowerCase();
  return unit === 'k' ? n : unit === 'm' ? n * 1000 : unit === 'g' ? n * 1e6 : n / 1000;
}

function toBlock(raw: Record<string, string>): ProgressBlock {
  const speed = raw.speed !== undefined ? num(raw.speed.replace(/x\s*$/, '')) : null;
  // out_time_ms is (historically, wrongly) in µs too; prefer out_time_us.
  const outTimeUs = num(raw.out_time_us) ?? num(raw.out_time_ms);
  return {
    frame: num(raw.frame),
    fps: num(raw.fps),
    bitrateKbps: parseBitrate(raw.bitrate),
    totalSize: num(raw.total_size),
    outTimeUs,
    speed,
    end: raw.progress === 'end',
    raw,
  };
}

/**
 * Incremental -progress parser: feed chunks as they arrive (split anywhere, even inside a line);
 * complete blocks come out. Lines without '=' are ignored. Memory is bounded: a partial line
 * longer than 4 KB is dropped.
 */
export class ProgressParser {
  private partial = '';
  private current: Record<string, string> = {};

  push(chunk: Buffer | string): ProgressBlock[] {
    const text = this.partial + (typeof chunk === 'string' ? chunk : chunk.toString('utf8'));
    const lines = text.split(/\r?\n/);
    this.partial = lines.pop() ?? '';
    if (this.partial.length > 4096) this.partial = '';
    const out: ProgressBlock[] = [];
    for (const line of lines) {
      const eq = line.indexOf('=');
      if (eq <= 0) continue;
      const key = line.slice(0, eq).trim();
      const value = line.slice(eq + 1).trim();
      this.current[key] = value;
      if (key === 'progress') {
        out.push(toBlock(this.current));
        this.current = {};
      }
    }
    return out;
  }

  /** Forget any partial block (a new run starts). */
  reset(): void {
    this.partial = '';
    this.current = {};
  }
}

/** Parses a whole captured -progress text (for tests and tools). */
export function parseProgress(text: string): ProgressBlock[] {
  const p = new ProgressParser();
  return p.push(text.endsWith('\n') ? text : text + '\n');
}

/** Keeps the last `cap` bytes of a stream (stderr), cut at a line start where possible. */
export class TailBuffer {
  private text = '';

  constructor(private readonly cap = 8192) {}

  push(chunk: Buffer | string): void {
    this.text += typeof chunk === 'string' ? chunk : chunk.toString('utf8');
    if (this.text.length > this.cap) {
      let cut = this.text.slice(-this.cap);
      const nl = cut.indexOf('\n');
      if (nl >= 0 && nl < cut.length - 1) cut = cut.slice(nl + 1);
      this.text = cut;
    }
  }

  get value(): string {
    return this.text;
  }

  clear(): void {
    this.text = '';
  }
}

/** ffmpeg's stderr lines, "[rtsp @ 0x55…] " prefixes cut, empty and boilerplate lines dropped. */
function meaningfulLines(tail: string): string[] {
  return tail
    .split(/\r?\n/)
    .map((l) => l.replace(/^(?:\[[^\]]*@ 0x[0-9a-f]+\]\s*)+/i, '').trim())
    .filter((l) => l !== '' && !/^conversion failed!?$/i.test(l) && !/^exiting normally/i.test(l) && !/^(?:frame|size)=\s*\d/.test(l));
}

/**
 * A short human reason for a failed ffmpeg run, from its stderr tail; undefined when the tail
 * says nothing useful. URLs in ffmpeg's own lines are redacted (no user:password@, no password=).
 * The reason names the cause first, then ffmpeg's own last line for detail.
 */
export function classifyFfmpegStderr(tail: string): string | undefined {
  const lines = meaningfulLines(tail);
  if (lines.length === 0) return undefined;
  const s = lines.join('\n').toLowerCase();
  const last = redactUrlsInText(lines[lines.length - 1])
    .replace(/\/\/[^/@\s]*@/g, '//')
    .slice(0, 200);
  const why = (reason: string): string => (last.toLowerCase().includes(reason.toLowerCase()) ? reason : `${reason} (${last})`);

  if (isBasicRefusal(tail)) return basicRefusedMessage('the camera');
  if (/\b401\b|unauthori[sz]ed|authorization failed|authentication failed|auth(?:entication)? required/.test(s)) {
    return why('authentication failed: wrong user name or password (401)');
  }
  if (/unknown encoder|encoder not found|unknown decoder|decoder .* not found/.test(s)) return why('this ffmpeg lacks a needed codec (run camgate doctor)');
  if (/protocol not found|protocol .* not on whitelist/.test(s)) return why('this ffmpeg lacks a needed protocol (run camgate doctor)');
  if (/option .* not found|unrecognized option|error splitting the argument list/.test(s)) return why('bad ffmpeg arguments');
  if (/\b403\b|forbidden/.test(s)) return why('access denied (403 forbidden)');
  if (/\b404\b|not found/.test(s) && !/no such file or directory/.test(s)) return why('not found (404): wrong stream path or stream name');
  if (/no such file or directory/.test(s)) return why('no such file or directory');
  if (/connection refused/.test(s)) return why('connection refused: nothing listens at that address and port');
  if (/no route to host|network is unreachable|host is unreachable|host unreachable/.test(s)) return why('host unreachable');
  if (/name or service not known|failed to resolve|temporary failure in name resolution|could not resolve/.test(s)) return why('host name not found (DNS)');
  if (/timed out|\btimeout\b(?!=)/.test(s)) return why('timeout: no answer');
  if (/connection reset|reset by peer/.test(s)) return why('connection reset by the peer');
  if (/broken pipe/.test(s) || (/av_interleaved_write_frame|error writing trailer|error muxing|error submitting/.test(s) && /end of file|i\/o error/.test(s))) {
    return why('the target closed the connection (broken pipe): the receiving server refused or dropped the stream');
  }
  if (
    /video codec.*not compatible with flv|codec not currently supported in container|could not find tag for codec|tag .* incompatible with output codec|codec .* is not supported|unsupported codec/.test(
      s,
    )
  ) {
    return why('codec not supported by the output format (e.g. H.265 into FLV/RTMP): transcode to H.264 or use SRT/MPEG-TS');
  }
  if (/invalid data found when processing input/.test(s)) return why('invalid data from the source (not a stream ffmpeg understands, or it stopped answering)');
  return last;
}
