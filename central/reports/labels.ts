// What the reports call things, in Chinese with English beside, and how they write numbers in
// text (CSV, HTML): one place, so every format says the same.
import { DateTime } from 'luxon';
import type { Bilingual } from './period';
import { CAUSE_NAMES } from './cause-names';

export { CAUSE_NAMES, causeName } from './cause-names';

export const RATE_NAMES = {
  onlineRate: { zh: '在线率', en: 'online rate' },
  assessedOnlineRate: { zh: '考核在线率', en: 'assessed online rate' },
  coverage: { zh: '监测覆盖率', en: 'coverage' },
  intactRate: { zh: '完好率', en: 'intact rate' },
  geoLabelledRate: { zh: '经纬度标注率', en: 'geo-labelled rate' },
  hdRate: { zh: '高清率', en: 'HD rate' },
} as const satisfies Record<string, Bilingual>;

export type RateKey = keyof typeof RATE_NAMES;

export const COUNT_NAMES = {
  cameras: { zh: '点位总数', en: 'cameras' },
  class1: { zh: '一类点位', en: 'class 1' },
  class2: { zh: '二类点位', en: 'class 2' },
  class3: { zh: '三类点位', en: 'class 3' },
  unclassified: { zh: '未分类', en: 'unclassified' },
  geoLabelled: { zh: '已标注经纬度', en: 'geo-labelled' },
  hd: { zh: '高清点位', en: 'HD' },
} as const satisfies Record<string, Bilingual>;

export type CountKey = keyof typeof COUNT_NAMES;

export const TARGET_NAMES = {
  online: RATE_NAMES.onlineRate,
  intact: RATE_NAMES.intactRate,
  geoLabelled: RATE_NAMES.geoLabelledRate,
} as const satisfies Record<string, Bilingual>;

export type TargetKind = keyof typeof TARGET_NAMES;

/** Which cause a tie goes to: offline first, then the picture faults as the agent diagnoses them. */
export const CAUSE_ORDER = Object.keys(CAUSE_NAMES);

export const CLASS_NAMES: Record<1 | 2 | 3, Bilingual> = {
  1: { zh: '一类', en: 'class 1' },
  2: { zh: '二类', en: 'class 2' },
  3: { zh: '三类', en: 'class 3' },
};

export function className(cls: number | null): Bilingual {
  return cls === 1 || cls === 2 || cls === 3 ? CLASS_NAMES[cls] : COUNT_NAMES.unclassified;
}

/** "中文 English", the form of every heading. */
export function both(name: Bilingual): string {
  return `${name.zh} ${name.en}`;
}

/** A rate 0–1 as a percentage with two decimals ("97.92%"); empty when there is none. */
export function percentText(rate: number | null): string {
  return rate === null ? '' : `${(rate * 100).toFixed(2)}%`;
}

/** A change in percentage points, signed ("+1.25", "-4.17"); empty when there is none. */
export function pointsText(points: number | null): string {
  if (points === null) return '';
  const rounded = Math.round(points * 100) / 100;
  return `${rounded > 0 ? '+' : ''}${rounded.toFixed(2)}`;
}

/** A signed count change ("+2", "-1", "0"); empty when there is none. */
export function countDeltaText(delta: number | null): string {
  return delta === null ? '' : `${delta > 0 ? '+' : ''}${delta}`;
}

/** Seconds as h:mm:ss ("26:00:00" for 26 hours), which spreadsheets read as a duration. */
export function durationText(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  return `${h}:${String(m).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}`;
}

/** An instant (ISO) as local time in `zone` with its offset ("2026-11-24 06:00:00 +08:00"); "—" for none. */
export function localTime(iso: string | null, zone: string): string {
  return iso === null ? '—' : DateTime.fromISO(iso, { zone }).toFormat('yyyy-MM-dd HH:mm:ss ZZ');
}
