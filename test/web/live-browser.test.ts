// The live page in headless Chromium (Debian's chromium, driven by playwright-core): an H.264
// camera plays through MSE and its picture moves; an H.265 camera falls back to JSMpeg on a
// canvas and its picture moves. The server runs with a password, so the page's WebSockets must
// get in with the session cookie the authenticated page load set. The page breaks no rule of its
// Content-Security-Policy and logs no error on the way (JSMpeg included). Loopback 127.82.0.0/16.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import type { Browser, Page } from 'playwright-core';
import { startChromium } from '../../scripts/peers/chromium';
import { liveRig } from './helpers';
import { waitFor } from '../kit/wait';

// Browser-side code below runs in the page (page.evaluate); this project compiles without the DOM lib.
/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare const window: any;

const PASSWORD = 'sécurité-82';

async function launch(t: { after(fn: () => unknown): void }): Promise<Browser> {
  // playwright-core gives every launch a fresh, empty profile (--user-data-dir in a temp dir).
  const browser = await startChromium();
  t.after(() => browser.close());
  return browser;
}

/** A small fingerprint of what is on screen: the element drawn into a 64x36 2D canvas, its RGBA bytes. */
function picture(page: Page, selector: string): Promise<number[]> {
  return page.evaluate((sel) => {
    const el = document.querySelector(sel);
    const c = document.createElement('canvas');
    c.width = 64;
    c.height = 36;
    const ctx = c.getContext('2d');
    ctx.drawImage(el, 0, 0, 64, 36);
    return Array.from(ctx.getImageData(0, 0, 64, 36).data);
  }, selector);
}

function differing(a: number[], b: number[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i++) if (Math.abs(a[i] - b[i]) > 8) n++;
  return n;
}

function nonBlack(a: number[]): number {
  let n = 0;
  for (let i = 0; i < a.length; i += 4) if (a[i] + a[i + 1] + a[i + 2] > 60) n++;
  return n;
}

test('live page in Chromium: H.264 plays through MSE (time advances, the picture changes); H.265 falls back to JSMpeg (the canvas changes)', async (t) => {
  const rig = await liveRig(t, '127.82.4', { password: PASSWORD, lingerSec: 2 });
  const browser = await launch(t);
  const context = await browser.newContext({ httpCredentials: { username: 'admin', password: PASSWORD } });
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  const diag = async () =>
    `page state: ${JSON.stringify(
      await page
        .evaluate(() => {
          const l = window.camgateLive;
          return l && { ...l, cameras: l.cameras.length };
        })
        .catch(() => null),
    )}; console: ${logs.join(' | ')}`;

  // --- H.264, MSE ---
  const h264 = rig.ids['127.82.4.2'];
  await page.goto(`${rig.server.url}?camera=${encodeURIComponent(h264)}&stream=sub`);
  try {
    await page.waitForFunction(() => window.camgateLive?.framesShown > 10, undefined, { timeout: 60_000 });
  } catch (err) {
    assert.fail(`no video frames through MSE: ${(err as Error).message}; ${await diag()}`);
  }
  const mse = await page.evaluate(() => {
    const l = window.camgateLive;
    return { mode: l.mode, codec: l.codec, firstFrameMs: l.firstFrameMs, error: l.error };
  });
  assert.equal(mse.mode, 'mse', await diag());
  assert.match(String(mse.codec), /^avc1\./);
  t.diagnostic(`MSE: first frame ${mse.firstFrameMs} ms after opening the camera (codec ${mse.codec})`);
  const t1 = await page.evaluate(() => document.getElementById('video').currentTime);
  const a = await picture(page, '#video');
  await page.waitForFunction((start) => document.getElementById('video').currentTime > start + 1, t1, { timeout: 30_000 });
  const b = await picture(page, '#video');
  const t2 = await page.evaluate(() => document.getElementById('video').currentTime);
  assert.ok(t2 > t1, `currentTime ${t1} → ${t2}`);
  assert.ok(nonBlack(a) > 500, 'the video shows a picture (not black)');
  assert.ok(differing(a, b) > 50, `the picture moved: ${differing(a, b)} bytes differ`);
  // the live edge is chased: the player stays within a second of the newest frame
  const lag = await page.evaluate(() => {
    const v = document.getElementById('video');
    return v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.currentTime : -1;
  });
  assert.ok(lag >= 0 && lag < 1.5, `lag behind the buffered end: ${lag} s`);
  assert.equal(rig.supervisor.count().byKind.live, 1);

  // --- H.265, JSMpeg fallback (the main stream is H.265 on this camera) ---
  const h265 = rig.ids['127.82.4.3'];
  await page.goto(`${rig.server.url}?camera=${encodeURIComponent(h265)}&stream=main`);
  try {
    await page.waitForFunction(() => window.camgateLive?.framesShown > 10, undefined, { timeout: 60_000 });
  } catch (err) {
    assert.fail(`no JSMpeg frames: ${(err as Error).message}; ${await diag()}`);
  }
  const js = await page.evaluate(() => {
    const l = window.camgateLive;
    return { mode: l.mode, firstFrameMs: l.firstFrameMs, frames: l.framesShown };
  });
  assert.equal(js.mode, 'jsmpeg');
  t.diagnostic(`JSMpeg: first frame ${js.firstFrameMs} ms after opening the camera`);
  const c = await picture(page, '#canvas');
  await page.waitForFunction((n) => window.camgateLive.framesShown > n + 25, js.frames, { timeout: 30_000 });
  const d = await picture(page, '#canvas');
  assert.ok(nonBlack(c) > 500, 'the canvas shows a picture (not black)');
  assert.ok(differing(c, d) > 50, `the canvas moved: ${differing(c, d)} bytes differ`);
  const jsPull = rig.pulls.list().find((p) => p.cameraId === h265);
  assert.equal(jsPull?.mode, 'jsmpeg');
  assert.equal(jsPull?.viewers, 1);

  // --- back to the H.264 camera from the list, in the same page: MSE again; the JSMpeg pull stops after lingerSec ---
  await page.click(`#cameras button[data-id="${h264}"]`);
  try {
    await page.waitForFunction(() => window.camgateLive.mode === 'mse' && window.camgateLive.framesShown > 5, undefined, { timeout: 60_000 });
  } catch (err) {
    assert.fail(`no MSE frames after switching back: ${(err as Error).message}; ${await diag()}`);
  }
  await waitFor(() => !rig.pulls.list().some((p) => p.cameraId === h265), 'the JSMpeg pull stopped after its viewer left', 30_000);
  await waitFor(() => rig.supervisor.count().byKind.live === 1, 'one ffmpeg left', 30_000);
});

test('live page in Chromium: no Content-Security-Policy violation and no console error while the list loads, MSE plays, JSMpeg plays', async (t) => {
  const rig = await liveRig(t, '127.82.6', { password: PASSWORD });
  const browser = await launch(t);
  const context = await browser.newContext({ httpCredentials: { username: 'admin', password: PASSWORD } });
  const page = await context.newPage();
  const complaints: string[] = [];
  const otherConsole: string[] = [];
  page.on('console', (m) => {
    const line = `console ${m.type()}: ${m.text()} (${m.location().url}:${m.location().lineNumber})`;
    // Headless Chromium without a GPU reads the WebGL canvas back in software to composite it, and
    // its GL driver says so ("GPU stall due to ReadPixels"): the machine's, not the page's.
    const gpuDriverNote = /^\[\.WebGL-[0-9a-fx]+\]GL Driver Message/.test(m.text());
    if ((m.type() === 'error' || m.type() === 'warning') && !gpuDriverNote) complaints.push(line);
    else otherConsole.push(line);
  });
  page.on('pageerror', (e) => complaints.push(`pageerror: ${e.message}`));
  // Registered before any of the page's scripts run, so a violation during load is seen too.
  await page.addInitScript(() => {
    window.cspViolations = [];
    document.addEventListener('securitypolicyviolation', (e: any) => {
      window.cspViolations.push(
        `${e.effectiveDirective} (violated ${e.violatedDirective}) blocked ${e.blockedURI} at ${e.sourceFile}:${e.lineNumber}:${e.columnNumber}`,
      );
    });
  });
  const violations = async (): Promise<string[]> => page.evaluate(() => window.cspViolations);

  const h264 = rig.ids['127.82.6.2'];
  const h265 = rig.ids['127.82.6.3'];
  const response = await page.goto(`${rig.server.url}?camera=${encodeURIComponent(h264)}&stream=sub`);
  const csp = response?.headers()['content-security-policy'] ?? '';
  assert.match(csp, /(^|; )style-src 'self'(;|$)/, `the page keeps style-src 'self': ${csp}`);
  assert.doesNotMatch(csp, /unsafe-inline/, `no 'unsafe-inline' anywhere in the policy: ${csp}`);

  await page.waitForFunction(() => document.querySelectorAll('#cameras button').length === 2, undefined, { timeout: 30_000 });
  await page.waitForFunction(() => window.camgateLive.mode === 'mse' && window.camgateLive.framesShown > 10, undefined, { timeout: 60_000 });
  assert.deepEqual({ violations: await violations(), console: complaints }, { violations: [], console: [] }, 'after the list and MSE');

  // The user picks the main stream (H.265 on the second camera) and clicks that camera: JSMpeg.
  await page.selectOption('#stream', 'main');
  await page.click(`#cameras button[data-id="${h265}"]`);
  await page.waitForFunction(() => window.camgateLive.mode === 'jsmpeg' && window.camgateLive.framesShown > 10, undefined, { timeout: 60_000 });
  assert.deepEqual({ violations: await violations(), console: complaints }, { violations: [], console: [] }, 'after JSMpeg');
  if (otherConsole.length) t.diagnostic(`other console messages: ${otherConsole.join(' | ')}`);
});

test('live page in Chromium: an H.265 camera at 10 fps (a rate MPEG-1 cannot carry) plays through JSMpeg, not stuck on "Connecting"', async (t) => {
  const rig = await liveRig(t, '127.82.7', { password: PASSWORD }, [{ host: '127.82.7.2', codec: 'H265', mainFps: 10 }]);
  const browser = await launch(t);
  const context = await browser.newContext({ httpCredentials: { username: 'admin', password: PASSWORD } });
  const page = await context.newPage();
  const logs: string[] = [];
  page.on('console', (m) => logs.push(`${m.type()}: ${m.text()}`));
  page.on('pageerror', (e) => logs.push(`pageerror: ${e.message}`));
  const cam = rig.ids['127.82.7.2'];
  await page.goto(`${rig.server.url}?camera=${encodeURIComponent(cam)}&stream=main`);
  try {
    await page.waitForFunction(() => window.camgateLive?.framesShown > 10, undefined, { timeout: 60_000 });
  } catch (err) {
    const pull = rig.supervisor.list()[0]?.stats();
    assert.fail(`no JSMpeg frames: ${(err as Error).message}; ffmpeg restarts ${pull?.restarts}, last error ${pull?.lastError}; console: ${logs.join(' | ')}`);
  }
  const js = await page.evaluate(() => ({
    mode: window.camgateLive.mode,
    frames: window.camgateLive.framesShown,
    firstFrameMs: window.camgateLive.firstFrameMs,
  }));
  assert.equal(js.mode, 'jsmpeg');
  t.diagnostic(`JSMpeg at 10 fps: first frame ${js.firstFrameMs} ms after opening the camera`);
  const a = await picture(page, '#canvas');
  await page.waitForFunction((n) => window.camgateLive.framesShown > n + 10, js.frames, { timeout: 30_000 });
  const b = await picture(page, '#canvas');
  assert.ok(nonBlack(a) > 500, 'the canvas shows a picture (not black)');
  assert.ok(differing(a, b) > 50, `the canvas moved: ${differing(a, b)} bytes differ`);
  assert.equal(rig.supervisor.list()[0].stats().restarts, 0, 'ffmpeg ran once');
});

test('live page in Chromium: without the password the page answers 401 and nothing plays', async (t) => {
  const rig = await liveRig(t, '127.82.5', { password: PASSWORD }, [{ host: '127.82.5.2' }]);
  const browser = await launch(t);
  const page = await (await browser.newContext()).newPage();
  const statuses: number[] = [];
  page.on('response', (r) => statuses.push(r.status()));
  // Headless Chromium cannot ask for a password: it answers the 401 challenge by giving up
  // (net::ERR_INVALID_AUTH_CREDENTIALS) or shows the 401 body, depending on the version.
  const res = await page.goto(rig.server.url).catch((err: Error) => err);
  if (res instanceof Error) assert.match(res.message, /ERR_INVALID_AUTH_CREDENTIALS/);
  else assert.equal(res?.status(), 401);
  if (statuses.length) assert.deepEqual([...new Set(statuses)], [401]);
  assert.equal(await page.evaluate(() => window.camgateLive).catch(() => undefined), undefined);
  // the same requests through the context's request client (no credentials in this context)
  assert.equal((await page.request.get(rig.server.url)).status(), 401);
  assert.equal((await page.request.get(`${rig.server.url}api/cameras`)).status(), 401);
  assert.equal(rig.supervisor.count().total, 0);
});
