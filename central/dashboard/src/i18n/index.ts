// Chinese first, English on request; the choice is kept in the browser (localStorage) so it holds
// across logins. Made once in main.ts and handed down with provide/inject (no module-level state).
import { inject, ref, type InjectionKey, type Ref } from 'vue';
import { zh, type MessageKey } from './zh';
import { en } from './en';

export type Locale = 'zh' | 'en';
const MESSAGES: Record<Locale, Record<MessageKey, string>> = { zh, en };
const STORAGE_KEY = 'camgate.locale';

export interface I18n {
  locale: Ref<Locale>;
  t(key: MessageKey, vars?: Record<string, string | number>): string;
  /** Whether a key has words (codes from the API may be newer than the dashboard). */
  has(key: string): key is MessageKey;
  setLocale(locale: Locale): void;
}

export const I18N: InjectionKey<I18n> = Symbol('i18n');

/** {name} placeholders filled from vars; an unknown one stays visible rather than vanishing. */
export function fill(template: string, vars: Record<string, string | number> = {}): string {
  return template.replace(/\{(\w+)\}/g, (whole, name: string) => (name in vars ? String(vars[name]) : whole));
}

export function createI18n(storage: Pick<Storage, 'getItem' | 'setItem'>): I18n {
  const saved = storage.getItem(STORAGE_KEY);
  const locale = ref<Locale>(saved === 'en' ? 'en' : 'zh');
  const apply = (l: Locale) => document.documentElement.setAttribute('lang', l === 'zh' ? 'zh-CN' : 'en');
  apply(locale.value);
  return {
    locale,
    t: (key, vars) => fill(MESSAGES[locale.value][key], vars),
    has: (key): key is MessageKey => Object.hasOwn(MESSAGES[locale.value], key),
    setLocale(l) {
      locale.value = l;
      storage.setItem(STORAGE_KEY, l);
      apply(l);
    },
  };
}

export function useI18n(): I18n {
  const i18n = inject(I18N);
  if (!i18n) throw new Error('useI18n: no I18n provided (main.ts provides it with app.provide(I18N, …))');
  return i18n;
}
