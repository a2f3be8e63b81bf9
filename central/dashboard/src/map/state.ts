// A camera's colour on the map is the API's condition of it (the API owns the rule). A cluster
// takes the worst colour inside it: offline, then fault, then unknown, then online — what the
// duty desk must act on first shows through.

export const MARKER_STATES = ['offline', 'fault', 'unknown', 'online'] as const;
export type MarkerState = (typeof MARKER_STATES)[number];

export type StateCounts = Record<MarkerState, number>;

export function noCounts(): StateCounts {
  return { offline: 0, fault: 0, unknown: 0, online: 0 };
}

/** The worst state with a camera in it (online for an empty count, which never reaches the map). */
export function worstOf(counts: StateCounts): MarkerState {
  return MARKER_STATES.find((s) => counts[s] > 0) ?? 'online';
}
