// The picture diagnosis on frames built in JS (pure: no ffmpeg). Frames are 640×360 like the
// grab's; the scenes are made to resemble camera pictures: a textured scene with sharp edges and
// neutral highlights and shadows, moving between frames.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { diagnose, diagnoseAsReference, judge, DEFAULT_DIAGNOSIS_THRESHOLDS, ProbeAnalysis } from '../../agent/health/picture/diagnose';
import { grainBlocks, grainScore, noiseScore } from '../../agent/health/picture/interference';
import { lumaPlane } from '../../agent/health/picture/luma';
import { PICTURE_FAULTS, type Frame } from '../../agent/health/types';

const W = 640;
const H = 360;

type Rgb = [number, number, number];

function frame(fn: (x: number, y: number) => Rgb, w = W, h = H): Frame {
  const data = new Uint8Array(w * h * 3);
  for (let y = 0, j = 0; y < h; y++) {
    for (let x = 0; x < w; x++, j += 3) {
      const [r, g, b] = fn(x, y);
      data[j] = clamp(r);
      data[j + 1] = clamp(g);
      data[j + 2] = clamp(b);
    }
  }
  return { width: w, height: h, data };
}

const clamp = (v: number): number => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** Deterministic hash → 0..1. */
function hash(a: number, b: number, c = 0): number {
  let h = Math.imul(a, 374761393) ^ Math.imul(b, 668265263) ^ Math.imul(c, 2147483647);
  h = Math.imul(h ^ (h >>> 13), 1274126177);
  return ((h ^ (h >>> 16)) >>> 0) / 4294967296;
}

/** A "street": blocks of varied size and grey-ish colour with sharp edges, a few coloured ones,
 * white markings and dark shadows; `t` moves what is on it (three vehicles drive through, 60 px
 * per step) while the camera stays where it is. */
function scene(t: number): (x: number, y: number) => Rgb {
  const vehicles = [
    { x: 40 + t * 60, y: 80, w: 120, h: 60, rgb: [200, 40, 30] as Rgb },
    { x: 560 - t * 60, y: 170, w: 140, h: 70, rgb: [30, 40, 50] as Rgb },
    { x: 300 + t * 60, y: 230, w: 100, h: 50, rgb: [230, 230, 225] as Rgb },
  ];
  return (x, y) => {
    for (const v of vehicles) if (x >= v.x && x < v.x + v.w && y >= v.y && y < v.y + v.h) return v.rgb;
    const X = x;
    const cell = 12 + Math.floor(hash(Math.floor(X / 48), Math.floor(y / 48), 7) * 3) * 6;
    const cx = Math.floor(X / cell);
    const cy = Math.floor(y / cell);
    const v = hash(cx, cy);
    const base = 30 + v * 200;
    const tint = hash(cx, cy, 3);
    if (tint < 0.15) return [base, base * 0.7, base * 0.5]; // brick
    if (tint < 0.25) return [base * 0.6, base * 0.8, base * 0.6]; // foliage
    return [base, base, base * 0.97];
  };
}

function frames(fn: (t: number) => (x: number, y: number) => Rgb, n = 6): Frame[] {
  return Array.from({ length: n }, (_, t) => frame(fn(t)));
}

/** Text-like strokes (an OSD or a card's caption) in a box. */
function inText(x: number, y: number, x0: number, y0: number, w: number, h: number): boolean {
  if (x < x0 || x >= x0 + w || y < y0 || y >= y0 + h) return false;
  const gx = (x - x0) % 12;
  const gy = y - y0;
  return gx < 2 || gy < 2 || gy >= h - 2 || (gx === 6 && gy % 4 < 2);
}

function boxBlur(f: Frame, r: number): Frame {
  const { width: w, height: h } = f;
  const tmp = new Float32Array(w * h * 3);
  const out = new Uint8Array(w * h * 3);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        let n = 0;
        for (let k = -r; k <= r; k++) {
          const xx = Math.min(w - 1, Math.max(0, x + k));
          s += f.data[(y * w + xx) * 3 + c];
          n++;
        }
        tmp[(y * w + x) * 3 + c] = s / n;
      }
    }
  }
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      for (let c = 0; c < 3; c++) {
        let s = 0;
        let n = 0;
        for (let k = -r; k <= r; k++) {
          const yy = Math.min(h - 1, Math.max(0, y + k));
          s += tmp[(yy * w + x) * 3 + c];
          n++;
        }
        out[(y * w + x) * 3 + c] = Math.round(s / n);
      }
    }
  }
  return { width: w, height: h, data: out };
}

const moving = frames(scene);

test('a normal moving scene has no fault, and every fault has a score', () => {
  const d = diagnose(moving);
  assert.deepEqual(d.faults, []);
  assert.deepEqual(Object.keys(d.scores).sort(), [...PICTURE_FAULTS].sort());
  for (const f of PICTURE_FAULTS) assert.ok(Number.isFinite(d.scores[f]), f);
  // The street stands still where no vehicle drives: most of it, but well under frozen.
  assert.ok(d.scores.frozen < 0.85, `frozen score ${d.scores.frozen}`);
  assert.ok(d.scores.black > 150, `black score ${d.scores.black}`);
});

test('black, with or without noise and a corner OSD, is black (and only black)', () => {
  const plain = diagnose(frames(() => () => [4, 4, 4]));
  assert.deepEqual(plain.faults, ['black']);
  const noisy = diagnose(
    frames((t) => (x, y) => {
      const n = hash(x, y, t) * 14;
      return [n, n, n];
    }),
  );
  assert.deepEqual(noisy.faults, ['black']);
  // A clock top-left and a name bottom-right, as cameras draw them.
  const osd = diagnose(frames((t) => (x, y) => (inText(x, y, 10, 10, 200 + t, 18) || inText(x, y, W - 150, H - 28, 140, 18) ? [240, 240, 240] : [6, 6, 6])));
  assert.deepEqual(osd.faults, ['black']);
  assert.ok(osd.scores.black <= DEFAULT_DIAGNOSIS_THRESHOLDS.blackMaxLevel);
  assert.equal(osd.scores['no-video'], 0);
});

test('an NVR card is no-video: text centred on black, or a blue screen with or without text', () => {
  const centred = diagnose(frames(() => (x, y) => (inText(x, y, 220, 165, 200, 30) ? [235, 235, 235] : [3, 3, 3])));
  assert.deepEqual(centred.faults, ['no-video']);
  const blue = diagnose(frames(() => () => [0, 0, 200]));
  assert.deepEqual(blue.faults, ['no-video']);
  const blueText = diagnose(frames(() => (x, y) => (inText(x, y, 230, 160, 180, 36) ? [255, 255, 255] : [16, 32, 170])));
  assert.deepEqual(blueText.faults, ['no-video']);
  assert.ok(blueText.scores['no-video'] >= 0.8);
});

test('frozen: the same picture over the frames, even with a ticking clock in a corner; moving is not', () => {
  const still = scene(0);
  const frozen = diagnose(frames(() => still));
  assert.deepEqual(frozen.faults, ['frozen']);
  assert.ok(frozen.scores.frozen > 0.99);
  // Seconds ticking: a small region (0.5% of the picture) changes every frame; plus the encoder
  // refining the one picture it is given: a coding error that shrinks frame after frame.
  const ticking = diagnose(
    frames((t) => (x, y) => {
      if (x < 100 && y < 20) return hash(x, y, t) < 0.5 ? [255, 255, 255] : [0, 0, 0];
      const [r, g, b] = still(x, y);
      const n = (hash(x, y, 100) - 0.5) * 4 * (1 - t / 6);
      return [r + n, g + n, b + n];
    }),
  );
  assert.deepEqual(ticking.faults, ['frozen']);
  assert.ok(ticking.scores.frozen >= DEFAULT_DIAGNOSIS_THRESHOLDS.frozenMinStillArea);
  assert.ok(!diagnose(moving).faults.includes('frozen'));
});

test('frozen: a still scene whose sensor noise is new every frame is live, not frozen', () => {
  const still = scene(0);
  // The same picture with ±2 levels of grain drawn anew each frame (and the clock ticking): the
  // picture stands as still as a frozen one, but each frame's grain undoes the last one's.
  const live = diagnose(
    frames((t) => (x, y) => {
      if (x < 100 && y < 20) return hash(x, y, t) < 0.5 ? [255, 255, 255] : [0, 0, 0];
      const [r, g, b] = still(x, y);
      const n = (hash(x, y, t + 100) - 0.5) * 4;
      return [r + n, g + n, b + n];
    }),
  );
  assert.equal(live.scores.frozen, 0);
  assert.deepEqual(live.faults, []);
  // The same grain kept from frame to frame (a frozen picture of a grainy scene) stays frozen.
  const frozenGrain = diagnose(
    frames(() => (x, y) => {
      const [r, g, b] = still(x, y);
      const n = (hash(x, y, 100) - 0.5) * 4;
      return [r + n, g + n, b + n];
    }),
  );
  assert.deepEqual(frozenGrain.faults, ['frozen']);
});

test('fewer than 2 frames: frozen is not judged (score 0), the rest still is', () => {
  const one = diagnose([scene(0)].map((fn) => frame(fn)));
  assert.equal(one.scores.frozen, 0);
  assert.deepEqual(one.faults, []);
  const blackOne = diagnose([frame(() => [2, 2, 2])]);
  assert.deepEqual(blackOne.faults, ['black']);
});

test('blurred vs sharp; an OSD drawn sharp over the blur does not hide it', () => {
  const sharp = moving.slice(0, 3);
  // A 5-pixel box blur each way (σ ≈ 1.4 px at 640×360): softer than any focused camera.
  const blurred = sharp.map((f) => boxBlur(f, 2));
  const d = diagnose(blurred);
  const s = diagnose(sharp);
  assert.ok(d.faults.includes('blurred'), `blur score ${d.scores.blurred}`);
  assert.ok(!s.faults.includes('blurred'));
  assert.ok(s.scores.blurred > 0 && s.scores.blurred < 0.2, `sharp blur score ${s.scores.blurred}`);
  assert.ok(d.scores.blurred > 0.45, `blurred blur score ${d.scores.blurred}`);
  // Stronger blur, higher score.
  assert.ok(diagnose(sharp.map((f) => boxBlur(f, 4))).scores.blurred > d.scores.blurred);
  // Sharp clock text on top of the blurred picture (top band).
  const withOsd = blurred.map((f) => {
    const data = new Uint8Array(f.data);
    for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) if (inText(x, y, 10, 10, 300, 20)) data.set([255, 255, 255], (y * W + x) * 3);
    return { ...f, data };
  });
  assert.ok(diagnose(withOsd).faults.includes('blurred'));
});

test('a large uniform box over the scene is occluded; the scene alone is not', () => {
  const d = diagnose(
    frames((t) => {
      const s = scene(t);
      return (x, y) => (x >= 100 && x < 420 && y >= 60 && y < 300 ? [90, 70, 50] : s(x, y));
    }),
  );
  assert.ok(d.faults.includes('occluded'), `occluded ${d.scores.occluded}`);
  assert.ok(d.scores.occluded > 0.25 && d.scores.occluded < 0.4, `occluded ${d.scores.occluded}`);
  assert.ok(!d.faults.includes('colour-cast'), 'a brown box is not a cast');
});

test('a channel lost or lifted is a colour cast; a scene of one colour with neutral highlights is not', () => {
  const weakBlue = diagnose(
    frames((t) => {
      const s = scene(t);
      return (x, y) => {
        const [r, g, b] = s(x, y);
        return [r, g, b * 0.5];
      };
    }),
  );
  assert.ok(weakBlue.faults.includes('colour-cast'), `cast ${weakBlue.scores['colour-cast']}`);
  const liftedGreen = diagnose(
    frames((t) => {
      const s = scene(t);
      return (x, y) => {
        const [r, g, b] = s(x, y);
        return [r, g * 0.75 + 64, b];
      };
    }),
  );
  assert.ok(liftedGreen.faults.includes('colour-cast'), `cast ${liftedGreen.scores['colour-cast']}`);
  // Mostly foliage green, but white markings and black shadows stay neutral: not a cast.
  const green = diagnose(
    frames((t) => {
      const s = scene(t);
      return (x, y) => {
        const [r] = s(x, y);
        if (r > 215) return [240, 240, 238];
        if (r < 45) return [10, 10, 10];
        return [r * 0.55, r * 0.85, r * 0.45];
      };
    }),
  );
  assert.ok(!green.faults.includes('colour-cast'), `cast ${green.scores['colour-cast']}`);
});

test('thresholds override the defaults and change the outcome, not the scores', () => {
  const blurred = moving.slice(0, 3).map((f) => boxBlur(f, 3));
  const d = diagnose(blurred);
  const strict = diagnose(blurred, { blurredMinBlur: 0.99 });
  assert.ok(d.faults.includes('blurred'));
  assert.ok(!strict.faults.includes('blurred'));
  assert.deepEqual(strict.scores, d.scores);
  const black = frames(() => () => [20, 20, 20], 2);
  assert.deepEqual(diagnose(black, { blackMaxLevel: 10 }).faults.includes('black'), false);
  const still = scene(0);
  assert.deepEqual(
    diagnose(
      frames(() => still),
      { frozenMinStillArea: 1.01 },
    ).faults,
    [],
  );
});

test('bad input: no frames or a short buffer is an error', () => {
  assert.throws(() => diagnose([]), RangeError);
  assert.throws(() => diagnose([{ width: 10, height: 10, data: new Uint8Array(10) }]), RangeError);
});

test('other sizes work (a 320×180 snapshot)', () => {
  const small = frame(scene(0), 320, 180);
  const d = diagnose([small]);
  assert.equal(d.scores.frozen, 0);
  assert.ok(!d.faults.includes('black'));
  assert.deepEqual(diagnose([frame(() => [0, 0, 0], 320, 180)]).faults, ['black']);
});

// ---- the checks judged against a camera's reference, and the later checks -----------------------

/** The street seen through `look` (a change of light, a shift of the view) at step t. */
const street = (t: number, look: (rgb: Rgb, x: number, y: number) => Rgb = (c) => c, dx = 0, dy = 0): Frame =>
  frame((x, y) => look(scene(t)(x + dx, y + dy), x, y));
const reference = diagnose(moving).measures;

test('scene-change: judged against the reference only; dusk and people are not a change, another view is', () => {
  assert.equal(diagnose(moving).scores['scene-change'], 0, 'no reference: not judged');
  const dusk = diagnose(
    Array.from({ length: 6 }, (_, t) => street(t, ([r, g, b]) => [r * 0.35 + 4, g * 0.35 + 4, b * 0.35 + 4])),
    {},
    reference,
  );
  assert.ok(!dusk.faults.includes('scene-change'), `dusk: ${dusk.scores['scene-change']}`);
  // The camera turned: another part of the street, closer.
  const turned = diagnose(
    Array.from({ length: 6 }, (_, t) => frame((x, y) => scene(t)(Math.floor(x / 2) + 400, Math.floor(y / 2) + 150))),
    {},
    reference,
  );
  assert.ok(turned.faults.includes('scene-change'), `turned: ${turned.scores['scene-change']}`);
  assert.ok(turned.scores['scene-change'] > dusk.scores['scene-change'] + 0.2);
});

test('overexposed: most of the picture burnt out to white; against a reference, only a rise counts', () => {
  const burnt = diagnose(Array.from({ length: 3 }, (_, t) => street(t, ([r, g, b]) => [r * 3 + 40, g * 3 + 40, b * 3 + 40])));
  assert.ok(burnt.faults.includes('overexposed'), `score ${burnt.scores.overexposed}`);
  assert.ok(!diagnose(moving).faults.includes('overexposed'));
  // A camera that always looks at a white wall: its reference is as bright.
  const wall = Array.from({ length: 3 }, (_, t) => street(t, ([r, g, b], x) => (x < 500 ? [252, 252, 252] : [r, g, b])));
  const wallReference = diagnose(wall).measures;
  assert.ok(diagnose(wall).faults.includes('overexposed'), 'without a reference the white wall is overexposed');
  assert.ok(!diagnose(wall, {}, wallReference).faults.includes('overexposed'), 'with its reference it is the scene');
});

test('shaking: the whole picture jumping between frames is shaking; a steady pan and vibration are not', () => {
  const jumps = [0, 9, -7, 8, -9, 6];
  const shaking = diagnose(jumps.map((j) => street(0, undefined, 20 + j, 20 - j)));
  assert.ok(shaking.faults.includes('shaking'), `score ${shaking.scores.shaking}`);
  const pan = diagnose(Array.from({ length: 6 }, (_, t) => street(0, undefined, 20 + 4 * t, 20)));
  assert.ok(!pan.faults.includes('shaking'), `pan ${pan.scores.shaking}`);
  const tremble = diagnose([0, 1, 0, -1, 1, 0].map((j) => street(0, undefined, 20 + j, 20)));
  assert.ok(!tremble.faults.includes('shaking'), `tremble ${tremble.scores.shaking}`);
  assert.ok(!diagnose(moving).faults.includes('shaking'), 'vehicles driving through are not shaking');
});

test('noise: blotches that come and go everywhere every frame are noise; a static grain and flicker are not', () => {
  const blotches =
    (t: number) =>
    (rgb: Rgb, x: number, y: number): Rgb => {
      const n = (hash(Math.floor(x / 6), Math.floor(y / 6), t + 100) - 0.5) * 60;
      return [rgb[0] + n, rgb[1] + n, rgb[2] + n];
    };
  const snow = diagnose(Array.from({ length: 6 }, (_, t) => street(0, blotches(t))));
  assert.ok(snow.faults.includes('noise'), `snow ${snow.scores.noise}`);
  const grain = diagnose(Array.from({ length: 6 }, (_, t) => street(t, blotches(0))));
  assert.ok(!grain.faults.includes('noise'), `static grain ${grain.scores.noise}`);
  const flicker = diagnose(Array.from({ length: 6 }, (_, t) => street(t, ([r, g, b]) => [r + 6 * (t % 2), g + 6 * (t % 2), b + 6 * (t % 2)])));
  assert.ok(!flicker.faults.includes('noise'), `flicker ${flicker.scores.noise}`);
});

test('stripes: a sine pattern of lines over the scene is stripes; a drawn grid of many lines is not', () => {
  const lines =
    (period: number, vertical: boolean) =>
    (rgb: Rgb, x: number, y: number): Rgb => {
      const s = 20 * Math.sin((2 * Math.PI * (vertical ? x : y)) / period);
      return [rgb[0] + s, rgb[1] + s, rgb[2] + s];
    };
  for (const [period, vertical] of [
    [13, false],
    [21, true],
  ] as const) {
    const d = diagnose(Array.from({ length: 3 }, (_, t) => street(t, lines(period, vertical))));
    assert.ok(d.faults.includes('stripes'), `period ${period} ${vertical ? 'vertical' : 'horizontal'}: ${d.scores.stripes}`);
  }
  assert.ok(!diagnose(moving).faults.includes('stripes'), `the street: ${diagnose(moving).scores.stripes}`);
  // A test card's grid: thin lines every 40 px both ways (harmonics everywhere).
  const grid = diagnose(Array.from({ length: 3 }, (_, t) => street(t, (rgb, x, y) => (x % 40 < 2 || y % 40 < 2 ? [250, 250, 250] : rgb))));
  assert.ok(!grid.faults.includes('stripes'), `grid: ${grid.scores.stripes}`);
});

test('blurred against the reference: a camera that was always soft is not blurred; sharpness halved is', () => {
  const soft = moving.slice(0, 3).map((f) => boxBlur(f, 2));
  const softReference = diagnose(soft).measures;
  assert.ok(!diagnose(soft, {}, softReference).faults.includes('blurred'), 'its own normal');
  const softer = moving.slice(0, 3).map((f) => boxBlur(f, 6));
  assert.ok(diagnose(softer, {}, softReference).faults.includes('blurred'), 'much softer than its normal');
  assert.ok(!diagnose(moving.slice(0, 3), {}, reference).faults.includes('blurred'));
});

test('colour cast against the reference: a scene that is always one colour is not a cast; a lost channel is', () => {
  const green = Array.from({ length: 3 }, (_, t) => street(t, ([r, g, b]) => [r * 0.55, g, b * 0.5]));
  const greenReference = diagnose(green).measures;
  assert.ok(!diagnose(green, {}, greenReference).faults.includes('colour-cast'), 'its own colour');
  const lost = Array.from({ length: 3 }, (_, t) => street(t, ([r, g]) => [r, g, 0]));
  assert.ok(diagnose(lost, {}, reference).faults.includes('colour-cast'));
});

test('a picture taken as the reference is judged against its own measures, analysed once', () => {
  const soft = moving.slice(0, 3).map((f) => boxBlur(f, 3));
  const asReference = diagnoseAsReference(soft);
  assert.deepEqual(asReference, diagnose(soft, {}, diagnose(soft).measures));
  assert.ok(diagnose(soft).faults.includes('blurred'), 'blurred against the absolute threshold');
  assert.ok(!asReference.faults.includes('blurred'), 'its own normal');
});

test('frames analysed as they arrive, through two buffers in turn, score as all the frames at once; a probe cut short still scores', () => {
  const shaky = [0, 9, -7, 8, -9, 6].map((j, t) => street(t, undefined, 20 + j, 20 - j));
  for (const probe of [moving, shaky]) {
    const analysis = new ProbeAnalysis(probe.length);
    const buffers = [new Uint8Array(W * H * 3), new Uint8Array(W * H * 3)];
    probe.forEach((f, i) => {
      // As the grab does: frame i overwrites the buffer of frame i − 2.
      buffers[i % 2].set(f.data);
      analysis.add({ width: W, height: H, data: buffers[i % 2] });
    });
    assert.equal(analysis.frames, probe.length);
    assert.deepEqual(diagnose(analysis, {}, reference), diagnose(probe, {}, reference));
  }
  // Three of six frames: the first was measured as it came, the last (standing for the middle that
  // never came) is measured at the end; frozen, shaking and noise compare all three.
  const short = new ProbeAnalysis(6);
  for (const f of shaky.slice(0, 3)) short.add(f);
  const cut = diagnose(short);
  const all3 = diagnose(shaky.slice(0, 3));
  assert.equal(cut.scores.frozen, all3.scores.frozen);
  assert.equal(cut.scores.blurred, diagnose([shaky[0], shaky[2]]).scores.blurred, 'the first and the last measured');
  assert.ok(cut.faults.includes('shaking'), `shaking ${cut.scores.shaking}`);
  assert.throws(() => new ProbeAnalysis(6).scores(), /no frames/);
});

test('noise: fine snow that a block mean averages away is judged by the flat blocks’ texture coming and going', () => {
  // Per-pixel snow of ±30 levels drawn anew each frame over a smooth grey picture, in patches that
  // move from frame to frame (an encoder codes it in some blocks and smooths it in others).
  const flat = (t: number, snowy: boolean): Frame =>
    frame((x, y) => {
      const v = 120 + 40 * Math.sin(x / 90) + 30 * Math.cos(y / 70);
      const patch = hash(Math.floor(x / 16), Math.floor(y / 16), t + 300) < 0.5;
      const n = snowy && patch ? (hash(x, y, t + 200) - 0.5) * 60 : 0;
      return [v + n, v + n, v + n];
    });
  const planes = (fs: Frame[]) => fs.map((f) => lumaPlane(f));
  const snow = Array.from({ length: 6 }, (_, t) => flat(t, true));
  const clean = Array.from({ length: 6 }, (_, t) => flat(t, false));
  const grid = (fs: Frame[]) =>
    planes(fs).map((p) => {
      // The block-mean measure sees the snow only through 16 px means: little of it.
      const w = p.width >> 1;
      const h = p.height >> 1;
      const y = new Uint8Array(w * h);
      for (let r = 0; r < h; r++) for (let c = 0; c < w; c++) y[r * w + c] = p.y[2 * r * p.width + 2 * c];
      return { width: w, height: h, y, top: p.top >> 1, bottom: p.bottom >> 1 };
    });
  assert.ok(noiseScore(grid(snow)) < DEFAULT_DIAGNOSIS_THRESHOLDS.noiseMinLevel, `block means ${noiseScore(grid(snow))}`);
  const fine = grainScore(planes(snow).map(grainBlocks));
  assert.ok(fine >= DEFAULT_DIAGNOSIS_THRESHOLDS.noiseMinLevel, `fine texture ${fine}`);
  assert.ok(grainScore(planes(clean).map(grainBlocks)) < 0.5);
  assert.ok(diagnose(snow).faults.includes('noise'), `snow ${diagnose(snow).scores.noise}`);
  assert.ok(!diagnose(clean).faults.includes('noise'));
});

test('overexposed against a reference: a dark scene pushed far brighter with some of it burnt out', () => {
  const dark = ([r, g, b]: Rgb): Rgb => [r * 0.3, g * 0.3, b * 0.3];
  const darkReference = diagnose(Array.from({ length: 3 }, (_, t) => street(t, dark))).measures;
  // Three times the light: a fifth or so burns out, the rest is washed out.
  const pushed = Array.from({ length: 3 }, (_, t) => street(t, ([r, g, b]) => [r * 1.2 + 30, g * 1.2 + 30, b * 1.2 + 30]));
  const d = diagnose(pushed, {}, darkReference);
  assert.ok(d.scores.overexposed < DEFAULT_DIAGNOSIS_THRESHOLDS.overexposedMinArea, `clipped ${d.scores.overexposed}`);
  assert.ok(d.faults.includes('overexposed'), `brightness ${d.measures.brightness} vs ${darkReference.brightness}`);
  assert.ok(!diagnose(pushed).faults.includes('overexposed'), 'without a reference only the burnt-out share counts');
  // Day after night: the street in its own light is brighter, but nothing burns out.
  assert.ok(!diagnose(moving, {}, darkReference).faults.includes('overexposed'));
});

test('colour-cast: an occluder’s own colour, or another scene’s, is not a cast', () => {
  const scores = { ...diagnose(moving).scores, 'colour-cast': 0.5 };
  assert.deepEqual(judge(scores), ['colour-cast']);
  assert.deepEqual(judge({ ...scores, occluded: 0.6 }), ['occluded']);
  assert.deepEqual(judge({ ...scores, 'scene-change': 0.9 }), ['scene-change']);
});

test('shaking: the picture jumping where one part of it is hidden by something that does not move', () => {
  // A post close to the lens covers the left third and stays put while the scene jumps behind it.
  const jumps = [0, 9, -7, 8, -9, 6];
  const d = diagnose(jumps.map((j) => frame((x, y) => (x < 213 ? [60 + hash(x, y, 9) * 12, 60, 60] : scene(0)(x + 20 + j, y + 20 - j)))));
  assert.ok(d.faults.includes('shaking'), `score ${d.scores.shaking}`);
});

test('noise: colour bars scrolling fast change every block’s tint with its light: not colour snow', () => {
  const bars: Rgb[] = [
    [191, 191, 191],
    [191, 191, 0],
    [0, 191, 191],
    [0, 191, 0],
    [191, 0, 191],
    [191, 0, 0],
    [0, 0, 191],
  ];
  const d = diagnose(frames((t) => (x) => bars[Math.floor(((x + 25 * t) % 640) / 92) % bars.length]));
  assert.ok(!d.faults.includes('noise'), `noise ${d.scores.noise}`);
});
