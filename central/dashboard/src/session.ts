// Who is logged in: asked of the API (/api/me) when the page opens, set by the login, cleared by the
// logout and by any 401 (the session ended on the server). Made once in main.ts, provided to pages.
import { inject, ref, type InjectionKey, type Ref } from 'vue';
import type { ApiClient } from './api/client';
import { ApiError } from './api/client';
import type { Me } from './api/types';
import { when } from './format';
import { useI18n } from './i18n';

export interface Session {
  me: Ref<Me | null>;
  /** Asks the API who the cookie is; null when nobody (401). */
  load(): Promise<Me | null>;
  login(username: string, password: string): Promise<Me>;
  logout(): Promise<void>;
  /** The session ended (a 401 from any call). */
  ended(): void;
}

export const SESSION: InjectionKey<Session> = Symbol('session');

export function createSession(api: ApiClient): Session {
  const me = ref<Me | null>(null);
  return {
    me,
    async load() {
      try {
        me.value = await api.get<Me>('/api/me');
      } catch (err) {
        if (err instanceof ApiError && err.status === 401) me.value = null;
        else throw err;
      }
      return me.value;
    },
    async login(username, password) {
      me.value = await api.send<Me>('POST', '/api/login', { username, password });
      return me.value;
    },
    async logout() {
      try {
        await api.send('POST', '/api/logout');
      } finally {
        me.value = null;
      }
    },
    ended() {
      me.value = null;
    },
  };
}

export function useSession(): Session {
  const session = inject(SESSION);
  if (!session) throw new Error('useSession: no Session provided (main.ts provides it)');
  return session;
}

/** Times as the pages show them: in the page's language and the central's time zone. */
export function useWhen(): (iso: string | null | undefined, seconds?: boolean) => string {
  const session = useSession();
  const { locale } = useI18n();
  return (iso, seconds) => when(iso, locale.value, session.me.value?.timezone, seconds);
}
