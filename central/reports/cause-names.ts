// The names of the causes of known time not intact (docs/metrics.md): offline, or a picture fault,
// in Chinese and English. The one table of them: the reports write them, and the dashboard bundles
// this file as it is (so it imports nothing: no server code reaches the browser through it).

/** Known time not intact, by cause: offline, or a picture fault. The order is the tie order:
 * offline first, then the picture faults as the agent diagnoses them. */
export const CAUSE_NAMES: Record<string, { zh: string; en: string }> = {
  offline: { zh: '离线', en: 'offline' },
  'no-video': { zh: '无视频信号', en: 'no video' },
  black: { zh: '黑屏', en: 'black' },
  frozen: { zh: '画面冻结', en: 'frozen' },
  blurred: { zh: '模糊', en: 'blurred' },
  occluded: { zh: '遮挡', en: 'occluded' },
  'colour-cast': { zh: '偏色', en: 'colour cast' },
  'scene-change': { zh: '场景变更', en: 'scene change' },
  overexposed: { zh: '画面过亮', en: 'overexposed' },
  noise: { zh: '雪花噪声', en: 'noise' },
  stripes: { zh: '条纹干扰', en: 'stripes' },
  shaking: { zh: '画面抖动', en: 'shaking' },
  'no-picture': { zh: '无法取图', en: 'no picture' },
};

/** A cause's names; one not in the table (a newer agent's) is shown as it came. */
export function causeName(cause: string): { zh: string; en: string } {
  return CAUSE_NAMES[cause] ?? { zh: cause, en: cause };
}
