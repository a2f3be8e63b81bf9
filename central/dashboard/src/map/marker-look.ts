// How big a marker is drawn: a camera's point is a small dot, a cluster grows with its count in
// four steps so that a glance tells a street's dozen from a district's thousands. Pure: the canvas
// layer draws with it and the tests sample the colours inside these radii.
import type { MarkerState } from './state';

/** A single camera: radius of the whole dot (fill and its white ring), in CSS pixels. */
export const POINT_RADIUS = 7;
export const POINT_RING = 2;
export const CLUSTER_RING = 3;

/** A cluster's radius (fill and ring) by how many cameras it holds. */
export function clusterRadius(count: number): number {
  return count < 10 ? 15 : count < 100 ? 19 : count < 1000 ? 23 : 28;
}

export function clusterFontPx(count: number): number {
  return count < 100 ? 12 : 13;
}

/** The colour of each state, as the page's stylesheet defines it (--online, --fault, ...). */
export type StateColours = Record<MarkerState, string>;
