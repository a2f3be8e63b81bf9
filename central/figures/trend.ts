// How many days the overview's trend shows, today included: the dashboard asks for them, and the
// central pools them ahead of its first visitor (warm.ts).
export const TREND_DAYS = 30;
