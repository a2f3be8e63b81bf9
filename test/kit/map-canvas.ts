// The dashboard map draws its clusters and points on a canvas and lists them in a hidden record
// (MapPage.vue, [data-test=map-drawn]). These helpers check the record against the canvas: each
// marker's colour is read from the canvas's pixels where the record says it is, and a click goes
// to that spot on the map, through Leaflet's own hit test, as a user's click does.
import type { Page } from 'playwright-core';

/* eslint-disable @typescript-eslint/no-explicit-any */
declare const document: any;
declare function getComputedStyle(el: any): any;
declare function requestAnimationFrame(cb: () => void): number;

export interface DrawnCluster {
  count: number;
  worst: string;
  counts: Record<string, number>;
  title: string;
  /** The colour on the canvas inside the cluster's ring, below its count. */
  colour: string;
}

export interface DrawnPoint {
  state: string;
  title: string;
  /** The colour on the canvas at the point's centre. */
  colour: string;
}

/** What the map draws now: clusters with their counts, single points with their states, and the colour of each on the canvas. */
export function drawnOnMap(page: Page): Promise<{ clusters: DrawnCluster[]; points: DrawnPoint[] }> {
  return page.evaluate(async () => {
    // The canvas is redrawn on the animation frame after the record changes.
    await new Promise<void>((r) => requestAnimationFrame(() => requestAnimationFrame(() => r())));
    const mapEl = document.querySelector('[data-test=map]');
    const canvas = mapEl.querySelector('canvas');
    const map = mapEl.getBoundingClientRect();
    const box = canvas.getBoundingClientRect();
    const ctx = canvas.getContext('2d');
    const scale = canvas.width / box.width;
    const colour = (el: any, dy: number) => {
      const x = Math.round((map.left + mapEl.clientLeft + Number(el.dataset.x) - box.left) * scale);
      const y = Math.round((map.top + mapEl.clientTop + Number(el.dataset.y) + dy - box.top) * scale);
      const [r, g, b, a] = ctx.getImageData(x, y, 1, 1).data;
      return a === 255 ? `rgb(${r}, ${g}, ${b})` : `rgba(${r}, ${g}, ${b}, ${a})`;
    };
    const record = document.querySelector('[data-test=map-drawn]');
    // Nothing of the record may show: it is for tests, the canvas is what people see.
    if (getComputedStyle(record).display !== 'none') throw new Error('the map record is visible');
    return {
      clusters: [...record.querySelectorAll('[data-test=cluster]')].map((el: any) => ({
        count: Number(el.dataset.count),
        worst: el.dataset.worst as string,
        counts: Object.fromEntries(
          String(el.dataset.counts)
            .split(',')
            .map((kv: string) => [kv.split(':')[0], Number(kv.split(':')[1])]),
        ),
        title: el.title as string,
        // Below the count (white digits), inside the white ring.
        colour: colour(el, Number(el.dataset.radius) - 6),
      })),
      points: [...record.querySelectorAll('[data-test=point]')].map((el: any) => ({
        state: el.dataset.state as string,
        title: el.title as string,
        colour: colour(el, 0),
      })),
    };
  });
}

/** Clicks the map where the record's nth marker matching the selector is drawn (the record's order is drawnOnMap's). */
export async function clickDrawn(page: Page, selector: string, nth = 0): Promise<void> {
  const at = await drawnAt(page, selector, nth);
  await page.mouse.click(at.x, at.y);
}

/** Moves the pointer onto the record's nth marker matching the selector (its tooltip opens). */
export async function hoverDrawn(page: Page, selector: string, nth = 0): Promise<void> {
  const at = await drawnAt(page, selector, nth);
  await page.mouse.move(at.x, at.y);
}

/** Where on the page the record's nth marker matching the selector is drawn. */
function drawnAt(page: Page, selector: string, nth: number): Promise<{ x: number; y: number }> {
  return page.$$eval(
    `[data-test=map-drawn] ${selector}`,
    (els: any[], n: number) => {
      const el = els[n];
      if (!el) throw new Error(`no drawn marker ${n}`);
      const mapEl = document.querySelector('[data-test=map]');
      const map = mapEl.getBoundingClientRect();
      return { x: map.left + mapEl.clientLeft + Number(el.dataset.x), y: map.top + mapEl.clientTop + Number(el.dataset.y) };
    },
    nth,
  );
}

/** Waits until the map has drawn something (the record is hidden, so it is waited for attached). */
export async function mapDrawn(page: Page, selector = '[data-test=cluster], [data-test=point]'): Promise<void> {
  await page.waitForSelector(`[data-test=map-drawn] :is(${selector})`, { state: 'attached' });
}
