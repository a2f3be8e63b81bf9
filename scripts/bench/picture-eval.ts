// What the labelled picture sets share: the seeded PRNG their parameters come from, running
// ffmpeg a few at a time, and the evaluation — each clip through the real probe path (grabFrames
// on the file, then diagnose), precision and recall per fault, the confusion table, CPU — and its
// report. The synthetic set (picture-set.ts) and the field-like set (field-set.ts) build clips
// differently and are judged the same way here.
import { spawn } from 'node:child_process';
import { diagnose, diagnoseAsReference, judge, type DiagnosisThresholds } from '../../agent/health/picture/diagnose';
import { grabFrames, ffmpegBinary } from '../../agent/health/picture/grab';
import { PICTURE_FAULTS, type PictureFault, type ReferenceMeasures } from '../../agent/health/types';

/** Fonts of the OSD and the NVR cards (fonts-dejavu-core, installed with ffmpeg's fontconfig). */
export const FONT = '/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf';
export const FONT_MONO = '/usr/share/fonts/truetype/dejavu/DejaVuSansMono.ttf';
export const FONT_BOLD = '/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf';

// ---- what a camera adds to any picture -----------------------------------------------------------

const hex2 = (v: number): string =>
  Math.max(0, Math.min(255, Math.round(v)))
    .toString(16)
    .padStart(2, '0');
export const rgbHex = (r: number, g: number, b: number): string => `0x${hex2(r)}${hex2(g)}${hex2(b)}`;

/** Camera sensor noise (temporal), amplitude in 8-bit levels. */
export function sensorNoise(amplitude: number): string {
  return amplitude > 0 ? `,noise=c0s=${Math.round(amplitude)}:c0f=t+u:c1s=${Math.round(amplitude / 2)}:c1f=t+u:c2s=${Math.round(amplitude / 2)}:c2f=t+u` : '';
}

export type ClipClass = 'normal' | PictureFault;
export const CLIP_CLASSES: readonly ClipClass[] = ['normal', ...PICTURE_FAULTS];

/** A clip on disk with its one label: what the evaluation needs of either set. */
export interface LabelledClip {
  id: string;
  cls: ClipClass;
  /** Labels (multi-label form; one fault per clip in both sets, [] for normal). */
  labels: PictureFault[];
  desc: string;
  seconds: number;
  path: string;
  /** reference: the camera's known-good picture, not judged itself: the camera's probes are
   * judged against it. Default probe. */
  role?: 'probe' | 'reference';
  /** The camera a clip comes from (its reference applies); none: judged without a reference. */
  camera?: string;
}

export class Rng {
  constructor(readonly next: () => number) {}
  range(lo: number, hi: number): number {
    return lo + (hi - lo) * this.next();
  }
  int(lo: number, hi: number): number {
    return Math.floor(this.range(lo, hi + 1));
  }
  pick<T>(items: readonly T[]): T {
    return items[Math.floor(this.next() * items.length)];
  }
  chance(p: number): boolean {
    return this.next() < p;
  }
}

// ---- ffmpeg, a few at a time --------------------------------------------------------------------

export function runFfmpeg(args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(ffmpegBinary(), args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
    let err = '';
    child.stderr.on('data', (d: Buffer) => (err = (err + d.toString()).slice(-4000)));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`ffmpeg exit ${code}: ${err.trim().split('\n').slice(-3).join(' | ')}\nargs: ${args.join(' ')}`)),
    );
  });
}

export async function pool<T, R>(items: readonly T[], concurrency: number, fn: (item: T, index: number) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array(items.length);
  let next = 0;
  const workers = Array.from({ length: Math.max(1, Math.min(concurrency, items.length)) }, async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await fn(items[i], i);
    }
  });
  await Promise.all(workers);
  return results;
}

// ---- evaluation ---------------------------------------------------------------------------------

export interface ClipOutcome {
  id: string;
  cls: ClipClass;
  labels: PictureFault[];
  detected: PictureFault[];
  scores: Record<PictureFault, number>;
  frames: number;
  ffmpegMs: number;
  /** CPU of one diagnose() over all the probe's frames, ms (process.cpuUsage). */
  cpuMs: number;
  /** CPU of one diagnose() over a single frame (a snapshot), ms. */
  cpuSingleMs: number;
  thumbnailBytes: number;
  desc: string;
  /** The camera's reference measures it was judged against (none: absolute thresholds only). */
  reference?: ReferenceMeasures;
  /** This probe's measures (what judge compares with the reference). */
  measures?: ReferenceMeasures;
}

export interface FaultMetrics {
  tp: number;
  fp: number;
  fn: number;
  precision: number;
  recall: number;
}

export interface Evaluation {
  clips: number;
  perFault: Record<PictureFault, FaultMetrics>;
  /** confusion[labelled class][detected fault or 'none'] = clips. */
  confusion: Record<ClipClass, Record<PictureFault | 'none', number>>;
  /** Normal clips, and those where any fault was detected (the false-fault rate). */
  normal: { clips: number; withFault: number };
  cpuMs: Spread;
  cpuSingleFrameMs: Spread;
  /** CPU of diagnoseAsReference on the reference clips (a camera's first probe), when there are any. */
  cpuReferenceMs?: Spread;
  ffmpegMs: Spread;
  thumbnailBytes: { mean: number; max: number };
  outcomes: ClipOutcome[];
}

function cpuMsOf(fn: () => void, repeat = 1): number {
  const before = process.cpuUsage();
  for (let i = 0; i < repeat; i++) fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000 / repeat;
}

export interface Spread {
  mean: number;
  p50: number;
  p95: number;
  max: number;
}

function stats(values: number[]): Spread {
  if (values.length === 0) return { mean: 0, p50: 0, p95: 0, max: 0 };
  const s = [...values].sort((a, b) => a - b);
  const mean = s.reduce((a, b) => a + b, 0) / s.length;
  const at = (q: number): number => s[Math.min(s.length - 1, Math.max(0, Math.ceil(s.length * q) - 1))];
  return { mean, p50: at(0.5), p95: at(0.95), max: s[s.length - 1] };
}

/** Precision/recall per fault and the confusion table from outcomes (multi-label). */
export function score(outcomes: readonly Pick<ClipOutcome, 'cls' | 'labels' | 'detected'>[]): Pick<Evaluation, 'perFault' | 'confusion'> {
  const perFault = {} as Record<PictureFault, FaultMetrics>;
  for (const f of PICTURE_FAULTS) {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    for (const o of outcomes) {
      const labelled = o.labels.includes(f);
      const detected = o.detected.includes(f);
      if (labelled && detected) tp++;
      else if (detected) fp++;
      else if (labelled) fn++;
    }
    perFault[f] = { tp, fp, fn, precision: tp + fp === 0 ? 1 : tp / (tp + fp), recall: tp + fn === 0 ? 1 : tp / (tp + fn) };
  }
  const confusion = {} as Record<ClipClass, Record<PictureFault | 'none', number>>;
  for (const c of CLIP_CLASSES) {
    confusion[c] = { none: 0 } as Record<PictureFault | 'none', number>;
    for (const f of PICTURE_FAULTS) confusion[c][f] = 0;
  }
  for (const o of outcomes) {
    if (o.detected.length === 0) confusion[o.cls].none++;
    for (const f of o.detected) confusion[o.cls][f]++;
  }
  return { perFault, confusion };
}

/** Grabs each clip as a picture probe would (file input) and diagnoses it: the references first
 * (each camera's measures), then every probe clip against its camera's reference. */
export async function evaluate(
  clips: readonly LabelledClip[],
  opts: { frames?: number; seconds?: number; thresholds?: Partial<DiagnosisThresholds>; concurrency?: number; timeoutMs?: number } = {},
): Promise<Evaluation> {
  const frames = opts.frames ?? 6;
  const grab = (clip: LabelledClip) =>
    grabFrames({ input: clip.path, frames, seconds: opts.seconds ?? clip.seconds, timeoutMs: opts.timeoutMs ?? 30_000, label: clip.id });
  const references = new Map<string, ReferenceMeasures>();
  const cpuReference: number[] = [];
  await pool(
    clips.filter((c) => c.role === 'reference'),
    opts.concurrency ?? 2,
    async (clip) => {
      const g = await grab(clip);
      references.set(clip.camera ?? clip.id, diagnose(g.frames, opts.thresholds).measures);
      // A camera's first probe (its picture taken as the reference) costs what one diagnosis does.
      cpuReference.push(cpuMsOf(() => diagnoseAsReference(g.frames, opts.thresholds), 3));
    },
  );
  const outcomes = await pool(
    clips.filter((c) => c.role !== 'reference'),
    opts.concurrency ?? 2,
    async (clip) => {
      const g = await grab(clip);
      const reference = clip.camera ? references.get(clip.camera) : undefined;
      let d = diagnose(g.frames, opts.thresholds, reference);
      // CPU: the average of a few repeats (a single run is ~ms, near the clock's resolution).
      const cpuMs = cpuMsOf(() => (d = diagnose(g.frames, opts.thresholds, reference)), 3);
      const cpuSingleMs = cpuMsOf(() => diagnose(g.frames.slice(-1), opts.thresholds, reference), 3);
      const outcome: ClipOutcome = {
        id: clip.id,
        cls: clip.cls,
        labels: clip.labels,
        detected: d.faults,
        scores: d.scores,
        frames: g.frames.length,
        ffmpegMs: g.ffmpegMs,
        cpuMs,
        cpuSingleMs,
        thumbnailBytes: g.thumbnail?.length ?? 0,
        desc: clip.desc,
        measures: d.measures,
        ...(reference ? { reference } : {}),
      };
      return outcome;
    },
  );
  return { ...summarise(outcomes), ...(cpuReference.length ? { cpuReferenceMs: stats(cpuReference) } : {}) };
}

/** The figures of a set of outcomes (all of a set, or one part of it). */
export function summarise(outcomes: readonly ClipOutcome[]): Evaluation {
  const normal = outcomes.filter((o) => o.cls === 'normal');
  return {
    clips: outcomes.length,
    ...score(outcomes),
    normal: { clips: normal.length, withFault: normal.filter((o) => o.detected.length > 0).length },
    cpuMs: stats(outcomes.map((o) => o.cpuMs)),
    cpuSingleFrameMs: stats(outcomes.map((o) => o.cpuSingleMs)),
    ffmpegMs: stats(outcomes.map((o) => o.ffmpegMs)),
    thumbnailBytes: { mean: stats(outcomes.map((o) => o.thumbnailBytes)).mean, max: stats(outcomes.map((o) => o.thumbnailBytes)).max },
    outcomes: [...outcomes],
  };
}

/** Re-judges stored outcomes with other thresholds (no ffmpeg): for tuning. Without references:
 * as a camera that has none would be judged (absolute thresholds, no scene-change). */
export function rejudge(outcomes: readonly ClipOutcome[], thresholds: Partial<DiagnosisThresholds>, opts: { references?: boolean } = {}): ClipOutcome[] {
  return outcomes.map((o) => {
    if (opts.references === false) return { ...o, detected: judge({ ...o.scores, 'scene-change': 0 }, thresholds) };
    return { ...o, detected: judge(o.scores, thresholds, o.reference, o.measures) };
  });
}

// ---- report -------------------------------------------------------------------------------------

export const pct = (x: number): string => `${(x * 100).toFixed(1)}%`;

/** The report of one evaluation under a title line (which set, which seed, which part). */
export function formatReport(e: Evaluation, title: string, opts: { misjudged?: boolean } = {}): string {
  const lines: string[] = [];
  lines.push(`${title} (${e.clips} clips)`);
  lines.push('');
  lines.push('fault        TP  FP  FN  precision  recall');
  for (const f of PICTURE_FAULTS) {
    const m = e.perFault[f];
    lines.push(
      `${f.padEnd(12)} ${String(m.tp).padStart(3)} ${String(m.fp).padStart(3)} ${String(m.fn).padStart(3)}  ${pct(m.precision).padStart(9)}  ${pct(m.recall).padStart(6)}`,
    );
  }
  lines.push('');
  lines.push(`confusion (rows: labelled class; columns: clips where that fault was detected)`);
  const cols: Array<PictureFault | 'none'> = [...PICTURE_FAULTS, 'none'];
  lines.push(`${''.padEnd(12)} ${cols.map((c) => c.padStart(11)).join('')}`);
  for (const c of CLIP_CLASSES) lines.push(`${c.padEnd(12)} ${cols.map((f) => String(e.confusion[c][f]).padStart(11)).join('')}`);
  lines.push('');
  const rate = e.normal.clips ? e.normal.withFault / e.normal.clips : 0;
  lines.push(`false faults on normal pictures: ${e.normal.withFault} of ${e.normal.clips} (${pct(rate)})`);
  const ms = (s: Spread): string => `mean ${s.mean.toFixed(2)} / p50 ${s.p50.toFixed(2)} / p95 ${s.p95.toFixed(2)} / max ${s.max.toFixed(2)} ms`;
  lines.push(`diagnosis CPU per probe (${e.outcomes[0]?.frames ?? 0} frames): ${ms(e.cpuMs)}`);
  lines.push(`diagnosis CPU per single frame: ${ms(e.cpuSingleFrameMs)}`);
  lines.push(`ffmpeg wall time per grab: ${ms(e.ffmpegMs)}`);
  lines.push(`thumbnail bytes: mean ${e.thumbnailBytes.mean.toFixed(0)}, max ${e.thumbnailBytes.max}`);
  const wrong = opts.misjudged === false ? [] : e.outcomes.filter((o) => o.labels.join() !== o.detected.join());
  if (wrong.length) {
    lines.push('');
    lines.push('misjudged clips:');
    for (const o of wrong) lines.push(`  ${o.id}: detected [${o.detected.join(', ')}] — ${o.desc}`);
  }
  return lines.join('\n');
}

export function scoresCsv(e: Evaluation): string {
  const head = ['id', 'class', 'detected', ...PICTURE_FAULTS, 'desc'];
  const rows = e.outcomes.map((o) =>
    [o.id, o.cls, o.detected.join('+'), ...PICTURE_FAULTS.map((f) => o.scores[f].toFixed(3)), JSON.stringify(o.desc)].join(','),
  );
  return [head.join(','), ...rows].join('\n');
}
