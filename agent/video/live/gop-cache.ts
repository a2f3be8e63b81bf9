// The units since the last keyframe of a pull (MSE fragments, or MPEG-TS bytes since the PAT
// before the last MPEG-1 sequence header): what a late joiner or a viewer that fell behind is sent
// first, so its picture starts at once instead of at the next keyframe. Capped: a camera with a
// very long GOP (60 s) drops its cache and viewers wait for the next keyframe instead.
import type { MediaFragment } from './fmp4';

export type Unit = { kind: 'fragment'; fragment: MediaFragment } | { kind: 'ts'; data: Buffer };

export class GopCache {
  private units: Unit[] = [];
  private bytes = 0;
  private active = false;

  constructor(private readonly maxBytes: number) {}

  /** A GOP started since the last clear and has not outgrown the cap. */
  get started(): boolean {
    return this.active;
  }

  /** The cached units, oldest first (empty before a keyframe). */
  get contents(): readonly Unit[] {
    return this.units;
  }

  get size(): number {
    return this.bytes;
  }

  clear(): void {
    this.units = [];
    this.bytes = 0;
    this.active = false;
  }

  /** A keyframe starts a new GOP, beginning with `lead` (for MPEG-TS: the tables before it). */
  start(lead: readonly Unit[] = [], leadBytes = 0): void {
    this.clear();
    if (leadBytes > this.maxBytes) return;
    this.units = [...lead];
    this.bytes = leadBytes;
    this.active = true;
  }

  add(unit: Unit, bytes: number): void {
    if (!this.active) return;
    this.units.push(unit);
    this.bytes += bytes;
    if (this.bytes > this.maxBytes) this.clear();
  }
}
