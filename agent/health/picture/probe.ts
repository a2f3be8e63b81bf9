// One picture probe of one camera: grab a few seconds of the stream (or several snapshots taken
// over those seconds), diagnose the frames, keep a thumbnail. Never throws for camera faults: no
// picture at all is { ok: false, error }, a picture with faults is { ok: true, diagnosis }.
//
// Sources: the caller passes what it has (health.picture.source decides): a stream URL is tried
// first; when it fails and a snapshot fetcher is given, the snapshot path is tried in the time
// left. Snapshots: `fetchSnapshot` (HTTP with the size cap, written elsewhere) is called `frames`
// times spread over `seconds`, each answer checked for JPEG/PNG magic bytes at once (a camera that
// serves an HTML error page fails fast as not-an-image), then all are decoded in one ffmpeg run.
//
// Only an abort by the caller (the agent stopping) rejects: with the signal's reason.
import { diagnose, diagnoseAsReference, ProbeAnalysis, type DiagnosisThresholds } from './diagnose';
import { grabFrames, imageKind, PictureProbeError, type GrabDeps, type GrabResult } from './grab';
import type { Diagnosis, Frame, PictureResult, ProbeError, ProbeErrorCode, ReferenceMeasures } from '../types';
import { sleep, systemClock, type Clock } from '../../../lib/clock';

export interface PictureProbeRequest {
  /** Stream to watch (rtsp://…, without a login: see streamInput). */
  streamUrl?: string;
  /** Instead of streamUrl: what ffmpeg opens, asked for right before the grab (the agent's RTSP
   * gate hands out a link per run, for a camera with a login). A rejection fails the stream. */
  streamInput?: () => Promise<string>;
  /** Fetches one snapshot; rejects with an error whose `.code` is a ProbeErrorCode (e.g. 'too-large'). */
  fetchSnapshot?: (signal: AbortSignal) => Promise<Buffer>;
  /** Frames per probe (stream: spread over `seconds`; snapshots: this many fetches). */
  frames: number;
  seconds: number;
  /** Hard deadline of the whole probe, ms. */
  timeoutMs: number;
  thumbnailWidth?: number;
  thumbnailMaxBytes?: number;
  ffmpegPath?: string;
  thresholds?: Partial<DiagnosisThresholds>;
  /** The camera's picture reference: the frames are judged against it (diagnose.ts). */
  reference?: ReferenceMeasures;
  /** This probe's picture becomes the camera's reference (a renewal: the installer says it is
   * right), so it is judged against its own measures instead of `reference`. */
  takeReference?: boolean;
  signal?: AbortSignal;
  /** What to call the camera in messages (e.g. its id); default: the URL without credentials. */
  label?: string;
}

export interface PictureProbeDeps extends GrabDeps {
  grab?: typeof grabFrames;
}

const CODES: ReadonlySet<string> = new Set<ProbeErrorCode>([
  'refused',
  'unreachable',
  'timeout',
  'auth',
  'basic-auth-refused',
  'bad-answer',
  'too-large',
  'not-an-image',
  'no-frames',
  'not-available',
  'ffmpeg-missing',
  'failed',
]);

/** Below this much time left, the snapshot fallback is not attempted after a failed stream. */
const MIN_FALLBACK_MS = 1000;

/** Credentials cut out of any URL in a message. */
function scrub(message: string): string {
  return message
    .replace(/\/\/[^/@\s]*@/g, '//')
    .split(/\r?\n/)[0]
    .slice(0, 400);
}

function toProbeError(err: unknown, fallbackMessage: string): ProbeError {
  if (err instanceof PictureProbeError) return { code: err.code, message: scrub(err.message) };
  const e = err as { code?: unknown; message?: unknown } | undefined;
  const code = typeof e?.code === 'string' && CODES.has(e.code) ? (e.code as ProbeErrorCode) : 'failed';
  const message = typeof e?.message === 'string' && e.message !== '' ? e.message : fallbackMessage;
  return { code, message: scrub(message) };
}

/** Grabs, diagnoses and returns one PictureResult. */
export async function probePicture(req: PictureProbeRequest, deps: PictureProbeDeps = {}): Promise<PictureResult> {
  const grab = deps.grab ?? grabFrames;
  const clock = deps.clock ?? systemClock;
  const now = () => clock.now();
  const start = now();
  const deadline = start + req.timeoutMs;
  const name = req.label ?? 'camera';
  const fail = (error: ProbeError, source: PictureResult['source'] = null): PictureResult => ({
    ok: false,
    source,
    diagnosis: null,
    frames: 0,
    latencyMs: Math.round(now() - start),
    error,
  });

  if (!req.streamUrl && !req.streamInput && !req.fetchSnapshot) {
    return fail({ code: 'not-available', message: `picture probe of ${name}: no stream or snapshot URI known` });
  }
  const common = {
    frames: req.frames,
    seconds: req.seconds,
    thumbnailWidth: req.thumbnailWidth,
    thumbnailMaxBytes: req.thumbnailMaxBytes,
    ffmpegPath: req.ffmpegPath,
    signal: req.signal,
  };

  // The frames are analysed as ffmpeg decodes them (the probe never holds them all); a failed
  // stream's frames are dropped with its analysis.
  let analysis = new ProbeAnalysis(req.frames);
  let cpuUs = 0;
  const onFrame = (frame: Frame): void => {
    const cpu0 = process.cpuUsage();
    analysis.add(frame);
    const cpu = process.cpuUsage(cpu0);
    cpuUs += cpu.user + cpu.system;
  };
  let grabbed: GrabResult | undefined;
  let streamError: ProbeError | undefined;
  if (req.streamUrl || req.streamInput) {
    try {
      const input = req.streamInput ? await req.streamInput() : req.streamUrl!;
      grabbed = await grab({ ...common, input, onFrame, timeoutMs: deadline - now(), label: req.label ? `${req.label} (stream)` : undefined }, deps);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      streamError = toProbeError(err, `picture probe of ${name}: stream failed`);
      const left = deadline - now();
      if (!req.fetchSnapshot || streamError.code === 'ffmpeg-missing' || left < MIN_FALLBACK_MS) return fail(streamError, 'stream');
    }
  }
  if (!grabbed) {
    try {
      const images = await fetchSnapshots(req, deadline, clock, name);
      analysis = new ProbeAnalysis(images.length);
      cpuUs = 0;
      grabbed = await grab({ ...common, input: images, onFrame, timeoutMs: deadline - now(), label: req.label ? `${req.label} (snapshot)` : undefined }, deps);
    } catch (err) {
      if (req.signal?.aborted) throw req.signal.reason;
      const snapError = toProbeError(err, `picture probe of ${name}: snapshot failed`);
      if (streamError) return fail({ code: streamError.code, message: `${streamError.message}; snapshot fallback: ${snapError.message}` }, 'stream');
      return fail(snapError, 'snapshot');
    }
  }

  const cpu0 = process.cpuUsage();
  let diagnosis: Diagnosis;
  try {
    // A grab that returns its frames instead of handing them over (a stand-in in tests).
    for (const f of grabbed.frames) analysis.add(f);
    diagnosis = diagnoseFor(req, analysis);
  } finally {
    // The frames are not used past this point (the result keeps only the diagnosis): their
    // memory goes back to the grab pool.
    grabbed.release?.();
  }
  const cpu = process.cpuUsage(cpu0);
  return {
    ok: true,
    source: grabbed.source,
    diagnosis,
    thumbnail: grabbed.thumbnail,
    frames: analysis.frames,
    latencyMs: Math.round(now() - start),
    diagnosisCpuMs: (cpuUs + cpu.user + cpu.system) / 1000,
  };
}

function diagnoseFor(req: PictureProbeRequest, analysis: ProbeAnalysis): Diagnosis {
  return req.takeReference ? diagnoseAsReference(analysis, req.thresholds) : diagnose(analysis, req.thresholds, req.reference);
}

/** Calls fetchSnapshot `frames` times spread over `seconds`, within the deadline. */
async function fetchSnapshots(req: PictureProbeRequest, deadline: number, clock: Clock, name: string): Promise<Buffer[]> {
  const now = () => clock.now();
  const fetchSnapshot = req.fetchSnapshot!;
  const count = Math.max(1, Math.floor(req.frames));
  const interval = count > 1 ? (req.seconds * 1000) / (count - 1) : 0;
  const ctl = new AbortController();
  const timer = clock.setTimeout(
    () => ctl.abort(new PictureProbeError('timeout', `picture probe of ${name}: snapshots not fetched within ${req.timeoutMs} ms`)),
    Math.max(0, deadline - now()),
  );
  const onAbort = (): void => ctl.abort(req.signal?.reason);
  req.signal?.addEventListener('abort', onAbort, { once: true });
  if (req.signal?.aborted) onAbort();
  const t0 = now();
  const images: Buffer[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const wait = t0 + i * interval - now();
      if (wait > 0) await sleep(clock, wait, ctl.signal);
      let image: Buffer;
      try {
        image = await fetchSnapshot(ctl.signal);
      } catch (err) {
        if (ctl.signal.aborted && !req.signal?.aborted) throw ctl.signal.reason;
        throw err;
      }
      if (!imageKind(image)) {
        throw new PictureProbeError('not-an-image', `picture probe of ${name}: snapshot ${i + 1} is ${image.length} bytes that are not a JPEG or PNG image`);
      }
      images.push(image);
    }
    return images;
  } finally {
    clock.clearTimeout(timer);
    req.signal?.removeEventListener('abort', onAbort);
  }
}
