// The field-like picture set's builder (scripts/bench/field-set.ts): the plan of the whole set
// (pure: labels, the split by source, every class in both parts), and a handful of real clips
// built with ffmpeg from real photographs that CI installs (lomiri-wallpapers-16.04, see
// scripts/install-deps.sh), each decoded back through the probe's grabFrames. It does not judge
// the diagnosis's accuracy on them: the baseline is in docs/benchmarks.md.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  buildFieldSet,
  fitOccluder,
  missingSources,
  occluderCoverage,
  parseSources,
  planFieldSet,
  readSources,
  splitSources,
  type FieldClipSpec,
} from '../../scripts/bench/field-set';
import { CLIP_CLASSES, Rng } from '../../scripts/bench/picture-eval';
import { seededRandom } from '../../lib/random';
import { grabFrames } from '../../agent/health/picture/grab';
import { PICTURE_FAULTS } from '../../agent/health/types';

const SEED = 1;
const CI_PACKAGE = 'lomiri-wallpapers-16.04';

test('the manifest names a package, a licence and a category for every source', () => {
  const sources = readSources();
  assert.ok(sources.length >= 40, `${sources.length} sources`);
  for (const s of sources) {
    assert.match(s.licence, /\S/, s.id);
    assert.ok(s.width > 0 && s.height > 0, s.id);
  }
  assert.ok(sources.some((s) => s.kind === 'video'));
  const header = 'id\tgroup\tpackage\tpath\tkind\tcategory\twidth\theight\tlicence\tscene';
  assert.throws(
    () => parseSources(`${header}\nx\t\tpkg\t/a.jpg\tpicture\tday\t10\t10\tMIT\ta scene`, 'm.tsv'),
    /m\.tsv line 2: kind "picture" must be photo or video/,
  );
  assert.throws(
    () => parseSources(`${header}\nx\t\tpkg\t/a.jpg\tphoto\tday\t10\t10\t \ta scene`, 'm.tsv'),
    /licence is empty; take it from \/usr\/share\/doc\/pkg\/copyright/,
  );
  assert.throws(() => parseSources('id\tpath\n', 'm.tsv'), /m\.tsv: header must be/);
});

test('the split is by source group: no scene in both parts, about 60/40, seeded', () => {
  const sources = readSources();
  const split = splitSources(sources, SEED);
  assert.deepEqual([...split], [...splitSources(sources, SEED)]);
  assert.notDeepEqual([...split], [...splitSources(sources, SEED + 1)]);
  const specs = planFieldSet({ sources, seed: SEED });
  const partsOfGroup = new Map<string, Set<string>>();
  for (const s of specs) partsOfGroup.set(s.group, (partsOfGroup.get(s.group) ?? new Set()).add(s.part));
  for (const [group, parts] of partsOfGroup) assert.equal(parts.size, 1, `${group} is in ${[...parts].join(' and ')}`);
  // The photo and the video of the same night city are one group.
  assert.equal(sources.find((s) => s.id === 'city-night')!.group, sources.find((s) => s.id === 'city-night-video')!.group);
  const tuningGroups = [...split.values()].filter((p) => p === 'tuning').length;
  const share = tuningGroups / split.size;
  assert.ok(share > 0.5 && share < 0.7, `tuning share ${share}`);
});

test('the plan labels every clip once, has every class and hard negatives in both parts', () => {
  const sources = readSources();
  const specs = planFieldSet({ sources, seed: SEED });
  assert.deepEqual(planFieldSet({ sources, seed: SEED }), specs, 'same seed, same set');
  assert.equal(new Set(specs.map((s) => s.id)).size, specs.length, 'ids are unique');
  for (const part of ['tuning', 'held-out'] as const) {
    const mine = specs.filter((s) => s.part === part);
    for (const c of CLIP_CLASSES) assert.ok(mine.filter((s) => s.cls === c).length >= 5, `${part}: ${c}`);
    for (const negative of ['night', 'ir-mono', 'still', 'flat', 'mono'])
      assert.ok(
        mine.some((s) => s.negative === negative),
        `${part}: hard negative ${negative}`,
      );
  }
  for (const s of specs) {
    assert.deepEqual(s.labels, s.cls === 'normal' ? [] : [s.cls], s.id);
    if (s.cls !== 'normal') assert.equal(s.negative, null, s.id);
    assert.ok(s.stream === 'sub' ? s.kbps >= 256 && s.kbps <= 768 && s.fps >= 5 && s.fps <= 15 : s.width === 1920, s.id);
  }
  assert.ok(specs.some((s) => s.codec === 'h265') && specs.some((s) => s.codec === 'h264'));
  assert.ok(specs.some((s) => s.stream === 'main'));
});

test('occluders cover what was asked, from an edge or a corner', () => {
  const rng = new Rng(seededRandom(7));
  for (const target of [0.3, 0.5, 0.7, 0.95]) {
    const shape = fitOccluder(rng, target);
    const covered = occluderCoverage(shape);
    assert.ok(Math.abs(covered - target) < 0.02, `${target}: ${covered} (${shape.anchor})`);
    assert.ok(shape.cx <= 0 || shape.cx >= 1 || shape.cy <= 0 || shape.cy >= 1, `centred at an edge: ${shape.cx}, ${shape.cy}`);
  }
});

test('a handful of real clips, one of each class, decode through grabFrames as a probe would', { timeout: 240_000 }, async (t) => {
  const sources = readSources().filter((s) => s.package === CI_PACKAGE);
  assert.deepEqual(missingSources(sources).packages, [], `${CI_PACKAGE} is installed by scripts/install-deps.sh`);
  const specs = planFieldSet({ sources: readSources(), seed: SEED }).filter((s) => sources.some((x) => x.id === s.source));
  // One clip of each class, sub streams (1080p H.265 takes too long for a unit test), both parts.
  const chosen: FieldClipSpec[] = [];
  for (const c of CLIP_CLASSES) {
    const candidates = specs.filter((s) => s.cls === c && s.stream === 'sub');
    const pick = candidates.find((s) => !chosen.some((x) => x.part === s.part)) ?? candidates[0];
    assert.ok(pick, `no ${c} clip planned from ${CI_PACKAGE}`);
    chosen.push(pick);
  }
  assert.ok(chosen.some((s) => s.codec === 'h265') && chosen.some((s) => s.codec === 'h264'), chosen.map((s) => s.codec).join());
  const dir = mkdtempSync(join(tmpdir(), 'camgate-field-set-'));
  t.after(() => rmSync(dir, { recursive: true, force: true }));
  const clips = await buildFieldSet(chosen, readSources(), { dir, concurrency: 2 });
  assert.deepEqual(
    clips.map((c) => c.cls),
    [...CLIP_CLASSES],
  );
  for (const clip of clips) {
    // The clip is what its record says: codec, picture size, frame rate, length, GOP.
    const probe = JSON.parse(
      execFileSync(
        'ffprobe',
        ['-v', 'error', '-select_streams', 'v:0', '-show_entries', 'stream=codec_name,width,height,avg_frame_rate,nb_frames', '-of', 'json', clip.path],
        {
          encoding: 'utf8',
        },
      ),
    ) as { streams: Array<{ codec_name: string; width: number; height: number; avg_frame_rate: string; nb_frames: string }> };
    const [stream] = probe.streams;
    assert.deepEqual(
      [stream.codec_name, stream.width, stream.height, stream.avg_frame_rate, Number(stream.nb_frames)],
      [clip.codec === 'h264' ? 'h264' : 'hevc', clip.width, clip.height, `${clip.fps}/1`, clip.fps * clip.seconds],
      clip.id,
    );
    const keyframes = execFileSync(
      'ffprobe',
      ['-v', 'error', '-select_streams', 'v:0', '-skip_frame', 'nokey', '-show_entries', 'frame=pts_time', '-of', 'csv=p=0', clip.path],
      {
        encoding: 'utf8',
      },
    )
      .split(/[\s,]+/) // one line per keyframe (side data may add an empty field)
      .filter((t) => t !== '')
      .map(Number);
    assert.deepEqual(
      keyframes,
      [0, 2].filter((t) => t < clip.seconds),
      `${clip.id}: a keyframe every 2 s`,
    );
    const grab = await grabFrames({ input: clip.path, frames: 6, seconds: clip.seconds, timeoutMs: 30_000, label: clip.id });
    assert.equal(grab.frames.length, 6, clip.id);
    for (const f of grab.frames) assert.deepEqual([f.width, f.height, f.data.length], [640, 360, 640 * 360 * 3], clip.id);
    t.diagnostic(`${clip.id} [${clip.part}]: ${clip.desc}`);
  }
  // A normal picture is live: its sensor noise (and clock) change between frames.
  const lumaDiff = async (cls: string): Promise<number> => {
    const clip = clips.find((c) => c.cls === cls)!;
    const { frames } = await grabFrames({ input: clip.path, frames: 2, seconds: clip.seconds, timeoutMs: 30_000 });
    let d = 0;
    for (let i = 0; i < frames[0].data.length; i += 3 * 101) d += Math.abs(frames[0].data[i] - frames[1].data[i]);
    return d;
  };
  assert.ok((await lumaDiff('normal')) > 0, 'a normal picture changes between frames');
  assert.ok(PICTURE_FAULTS.every((f) => clips.some((c) => c.labels.includes(f))));
});
