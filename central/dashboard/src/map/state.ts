// A camera's colour on the map, from what the API says of it: offline and unknown as the API's
// state; online split by its latest picture (a fault is online but not intact, docs/metrics.md).
// A cluster takes the worst colour inside it: offline, then fault, then unknown, then online —
// what the duty desk must act on first shows through.

export const MARKER_STATES = ['offline', 'fault', 'unknown', 'online'] as const;
export type MarkerState = (typeof MARKER_STATES)[number];

export function markerState(camera: { state: 'online' | 'offline' | 'unknown'; picture: string | null }): MarkerState {
  if (camera.state !== 'online') return camera.state;
  return camera.picture === 'fault' ? 'fault' : 'online';
}

export type StateCounts = Record<MarkerState, number>;

export function noCounts(): StateCounts {
  return { offline: 0, fault: 0, unknown: 0, online: 0 };
}

/** The worst state with a camera in it (online for an empty count, which never reaches the map). */
export function worstOf(counts: StateCounts): MarkerState {
  return MARKER_STATES.find((s) => counts[s] > 0) ?? 'online';
}
