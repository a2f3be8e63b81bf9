// Benchmark: CPU of the picture diagnosis per probe, on clips decoded once (no ffmpeg running
// while it is timed), and whether a change of the diagnosis changed any score.
//
//   npm run bench:diagnosis-cpu -- --dir DIR (a field set's clips: npm run bench:field-set -- --dir DIR)
//        [--limit 40] [--repeat 20] [--frames 6] [--save scores.json] [--compare scores.json]
//        [--against OTHER/dist]
//
// Each of --limit .mp4 clips of the directory (every k-th by name: spread over the sources) is
// grabbed as a probe would (grabFrames on the file, 6 frames of 640×360), then pictureScores runs
// --repeat times on its frames: the probe's CPU is the median of those runs (process.cpuUsage,
// user + system), so the machine's load moves it less than a single run. Printed: p50 / p95 over
// the clips of a probe (6 frames) and of a single frame (a snapshot). --save writes every clip's
// scores and measures; --compare reads such a file, runs its clips and prints every score and
// measure that moved, and by how much.
// --against: another build's dist directory (e.g. a worktree of the main branch): its
// pictureScores is timed too, run for run in turn with this one's, so both see the same load.
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { pictureScores } from '../../agent/health/picture/diagnose';
import { grabFrames } from '../../agent/health/picture/grab';
import type { Frame } from '../../agent/health/types';

function cpuMs(fn: () => void): number {
  const before = process.cpuUsage();
  fn();
  const d = process.cpuUsage(before);
  return (d.user + d.system) / 1000;
}

const quantile = (sorted: readonly number[], p: number): number => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
const mid = (values: readonly number[]): number =>
  quantile(
    [...values].sort((a, b) => a - b),
    0.5,
  );

/** Every number in a result, by a dotted path (scores.blurred, measures.layout.12…). */
function flatten(value: unknown, prefix: string, out: Map<string, number>): void {
  if (typeof value === 'number') out.set(prefix, value);
  else if (Array.isArray(value)) value.forEach((v, i) => flatten(v, `${prefix}.${i}`, out));
  else if (value && typeof value === 'object') for (const [k, v] of Object.entries(value)) flatten(v, prefix ? `${prefix}.${k}` : k, out);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      dir: { type: 'string' },
      limit: { type: 'string', default: '40' },
      repeat: { type: 'string', default: '20' },
      frames: { type: 'string', default: '6' },
      save: { type: 'string' },
      compare: { type: 'string' },
      against: { type: 'string' },
    },
  });
  if (!values.dir) throw new Error('--dir DIR (a directory of .mp4 clips) is required');
  const dir = values.dir;
  const all = readdirSync(dir)
    .filter((n) => n.endsWith('.mp4'))
    .sort();
  // Spread over the set (its clips are named by source): every k-th clip.
  const step = Math.max(1, Math.floor(all.length / Number(values.limit)));
  const picked = all.filter((_, i) => i % step === 0).slice(0, Number(values.limit));
  // With --compare: the clips of that run (the set may have grown since).
  const compared = values.compare ? Object.keys(JSON.parse(readFileSync(values.compare, 'utf8')) as object) : undefined;
  const names = compared ? compared.filter((n) => all.includes(n)) : picked;
  const repeat = Math.max(1, Number(values.repeat));
  const clips: Array<{ name: string; frames: Frame[] }> = [];
  for (let i = 0; i < names.length; i += 2) {
    const batch = names.slice(i, i + 2);
    const grabbed = await Promise.all(
      batch.map((name) => grabFrames({ input: join(dir, name), frames: Number(values.frames), seconds: 3, timeoutMs: 60_000 })),
    );
    batch.forEach((name, k) => clips.push({ name, frames: grabbed[k].frames }));
  }
  type Scores = typeof pictureScores;
  const builds: Array<{ name: string; run: Scores; probe: number[]; single: number[] }> = [{ name: 'this build', run: pictureScores, probe: [], single: [] }];
  if (values.against) {
    // eslint-disable-next-line @typescript-eslint/no-require-imports -- another build, chosen at run time
    const other = require(resolve(values.against, 'agent/health/picture/diagnose.js')) as { pictureScores: Scores };
    builds.push({ name: values.against, run: other.pictureScores, probe: [], single: [] });
  }
  const results: Record<string, unknown> = {};
  const load0 = loadavg()[0];
  for (const clip of clips) {
    results[clip.name] = pictureScores(clip.frames); // also the warm-up
    const last = clip.frames.slice(-1);
    for (const b of builds) b.run(clip.frames);
    const runs = builds.map(() => ({ probe: [] as number[], single: [] as number[] }));
    for (let r = 0; r < repeat; r++) {
      builds.forEach((b, k) => runs[k].probe.push(cpuMs(() => b.run(clip.frames))));
      builds.forEach((b, k) => runs[k].single.push(cpuMs(() => b.run(last))));
    }
    builds.forEach((b, k) => {
      b.probe.push(mid(runs[k].probe));
      b.single.push(mid(runs[k].single));
    });
  }
  const f = (x: number): string => x.toFixed(2);
  for (const b of builds) {
    const probe = [...b.probe].sort((x, y) => x - y);
    const single = [...b.single].sort((x, y) => x - y);
    console.log(
      `diagnosis CPU, ${b.name} (pictureScores, median of ${repeat} runs per clip, ${clips.length} clips): probe of ${values.frames} frames p50 ${f(quantile(probe, 0.5))} / p95 ${f(quantile(probe, 0.95))} / max ${f(probe[probe.length - 1])} ms; single frame p50 ${f(quantile(single, 0.5))} / p95 ${f(quantile(single, 0.95))} ms`,
    );
  }
  console.log(`${cpus().length} cores, load ${f(load0)} → ${f(loadavg()[0])}`);
  if (values.save) writeFileSync(values.save, JSON.stringify(results));
  if (values.compare) {
    const before = JSON.parse(readFileSync(values.compare, 'utf8')) as Record<string, unknown>;
    let moved = 0;
    let compared = 0;
    for (const [name, now] of Object.entries(results)) {
      if (!(name in before)) continue;
      compared++;
      const a = new Map<string, number>();
      const b = new Map<string, number>();
      flatten(before[name], '', a);
      flatten(now, '', b);
      for (const [k, v] of a) {
        const w = b.get(k);
        if (w === undefined || Math.abs(w - v) > 1e-9 * Math.max(1, Math.abs(v))) {
          moved++;
          console.log(`moved: ${name} ${k}: ${v} → ${w}`);
        }
      }
    }
    console.log(`compared ${compared} clips with ${values.compare}: ${moved} numbers moved`);
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
