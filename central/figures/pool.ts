// Pooling cameras into a group's figures: seconds are summed (Σ online / Σ known), the mean of the
// cameras' own rates shown beside, the counts taken at the period's end, every rate judged
// against its class's target. docs/metrics.md defines each figure.

/** One camera over a period: its summed durations and the groups of its latest meta. */
export interface CameraTotals {
  site: string;
  camera: string;
  countedMs: number;
  knownMs: number;
  onlineMs: number;
  offlineMs: number;
  intactKnownMs: number;
  intactMs: number;
  faultMs: number;
  /** Known time not intact by cause, when asked for. */
  causes?: Record<string, number>;
  class: number | null;
  region: string | null;
  owner: string | null;
  hasCoordinates: boolean;
  mainHeight: number | null;
  /** Counted at the period's end (the geo-labelled, HD and class counts are taken then). */
  presentAtEnd: boolean;
}

/** Percent per class; a class without a target is not judged. */
export type Targets = Record<'online' | 'intact' | 'geoLabelled', Partial<Record<'class1' | 'class2' | 'class3', number>>>;

export interface TargetCheck {
  /** Every class with a target meets it; null when no class with a target has a figure. */
  met: boolean | null;
  byClass: Array<{ class: 1 | 2 | 3; target: number; rate: number | null; met: boolean | null }>;
}

export interface Figure {
  cameras: number;
  countedSeconds: number;
  knownSeconds: number;
  onlineSeconds: number;
  offlineSeconds: number;
  intactKnownSeconds: number;
  intactSeconds: number;
  faultSeconds: number;
  /** 在线率: online / known. */
  onlineRate: number | null;
  /** known / counted. */
  coverage: number | null;
  /** online / counted: unknown time counts against the camera. */
  assessedOnlineRate: number | null;
  /** 完好率: intact / known for this rate. */
  intactRate: number | null;
  intactCoverage: number | null;
  /** The mean of the cameras' own rates (cameras with known time). */
  meanOnlineRate: number | null;
  meanIntactRate: number | null;
  /** Counts at the period's end. */
  atEnd: {
    cameras: number;
    geoLabelled: number;
    /** 经纬度标注率 */
    geoLabelledRate: number | null;
    hd: number;
    /** 高清率 */
    hdRate: number | null;
    byClass: { class1: number; class2: number; class3: number; unclassified: number };
  };
  targets: { online: TargetCheck; intact: TargetCheck; geoLabelled: TargetCheck };
}

function ratio(a: number, b: number): number | null {
  return b > 0 ? a / b : null;
}

const seconds = (ms: number) => Math.round(ms / 1000);

export class Pool {
  readonly members: CameraTotals[] = [];

  add(c: CameraTotals): this {
    this.members.push(c);
    return this;
  }

  figure(targets: Targets, hdMinHeight: number): Figure {
    const base = measurePool(this.members, hdMinHeight);
    const check = (rateOf: (f: Omit<Figure, 'targets'>) => number | null, kind: keyof Targets): TargetCheck => {
      const byClass: TargetCheck['byClass'] = [];
      for (const cls of [1, 2, 3] as const) {
        const target = targets[kind][`class${cls}`];
        const members = this.members.filter((m) => m.class === cls);
        if (target === undefined || members.length === 0) continue;
        const rate = rateOf(measurePool(members, hdMinHeight));
        byClass.push({ class: cls, target, rate, met: rate === null ? null : rate * 100 >= target });
      }
      const judged = byClass.filter((c) => c.met !== null);
      return { met: judged.length === 0 ? null : judged.every((c) => c.met), byClass };
    };
    return {
      ...base,
      targets: {
        online: check((f) => f.onlineRate, 'online'),
        intact: check((f) => f.intactRate, 'intact'),
        geoLabelled: check((f) => f.atEnd.geoLabelledRate, 'geoLabelled'),
      },
    };
  }
}

function measurePool(members: readonly CameraTotals[], hdMinHeight: number): Omit<Figure, 'targets'> {
  let counted = 0;
  let known = 0;
  let online = 0;
  let offline = 0;
  let intactKnown = 0;
  let intact = 0;
  let fault = 0;
  let onlineRates = 0;
  let onlineRated = 0;
  let intactRates = 0;
  let intactRated = 0;
  const atEnd = { cameras: 0, geoLabelled: 0, hd: 0, byClass: { class1: 0, class2: 0, class3: 0, unclassified: 0 } };
  for (const m of members) {
    counted += m.countedMs;
    known += m.knownMs;
    online += m.onlineMs;
    offline += m.offlineMs;
    intactKnown += m.intactKnownMs;
    intact += m.intactMs;
    fault += m.faultMs;
    if (m.knownMs > 0) {
      onlineRates += m.onlineMs / m.knownMs;
      onlineRated++;
    }
    if (m.intactKnownMs > 0) {
      intactRates += m.intactMs / m.intactKnownMs;
      intactRated++;
    }
    if (m.presentAtEnd) {
      atEnd.cameras++;
      if (m.hasCoordinates) atEnd.geoLabelled++;
      if (m.mainHeight !== null && m.mainHeight >= hdMinHeight) atEnd.hd++;
      if (m.class === 1) atEnd.byClass.class1++;
      else if (m.class === 2) atEnd.byClass.class2++;
      else if (m.class === 3) atEnd.byClass.class3++;
      else atEnd.byClass.unclassified++;
    }
  }
  return {
    cameras: members.length,
    countedSeconds: seconds(counted),
    knownSeconds: seconds(known),
    onlineSeconds: seconds(online),
    offlineSeconds: seconds(offline),
    intactKnownSeconds: seconds(intactKnown),
    intactSeconds: seconds(intact),
    faultSeconds: seconds(fault),
    onlineRate: ratio(online, known),
    coverage: ratio(known, counted),
    assessedOnlineRate: ratio(online, counted),
    intactRate: ratio(intact, intactKnown),
    intactCoverage: ratio(intactKnown, counted),
    meanOnlineRate: onlineRated > 0 ? onlineRates / onlineRated : null,
    meanIntactRate: intactRated > 0 ? intactRates / intactRated : null,
    atEnd: {
      ...atEnd,
      geoLabelledRate: ratio(atEnd.geoLabelled, atEnd.cameras),
      hdRate: ratio(atEnd.hd, atEnd.cameras),
    },
  };
}
