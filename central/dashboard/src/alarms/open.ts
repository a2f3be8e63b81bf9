// The count of open alarms the header shows, and whether one has appeared since the previous look.
// Made once in main.ts and provided: the badge asks it to refresh on its timer and on every change
// of page, the alarms page after an acknowledgement, so the count follows at once.
import { inject, ref, type InjectionKey, type Ref } from 'vue';
import type { ApiClient } from '../api/client';
import { query } from '../api/client';
import type { AlarmsAnswer } from '../api/types';

/** One page of open alarms is counted; beyond it the count reads "LIMIT+". */
const LIMIT = 1000;

export interface OpenAlarms {
  count: Ref<number | null>;
  /** The API has more than count. */
  more: Ref<boolean>;
  /** An open alarm is there that was not at an earlier look, until seen() is called. */
  fresh: Ref<boolean>;
  refresh(): Promise<void>;
  seen(): void;
}

export const OPEN_ALARMS: InjectionKey<OpenAlarms> = Symbol('open-alarms');

export function createOpenAlarms(api: ApiClient): OpenAlarms {
  const count = ref<number | null>(null);
  const more = ref(false);
  const fresh = ref(false);
  let known: Set<string> | null = null;
  return {
    count,
    more,
    fresh,
    async refresh() {
      const open = await api.get<AlarmsAnswer>(`/api/alarms${query({ state: 'open', limit: LIMIT })}`);
      const ids = new Set(open.items.map((a) => a.id));
      if (known && [...ids].some((id) => !known!.has(id))) fresh.value = true;
      known = ids;
      count.value = open.items.length;
      more.value = open.next !== null;
    },
    seen() {
      fresh.value = false;
    },
  };
}

export function useOpenAlarms(): OpenAlarms {
  const open = inject(OPEN_ALARMS);
  if (!open) throw new Error('useOpenAlarms: no OpenAlarms provided (main.ts provides it)');
  return open;
}
