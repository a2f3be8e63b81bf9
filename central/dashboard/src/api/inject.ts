// The API client handed to pages (made once in main.ts).
import { inject, type InjectionKey } from 'vue';
import type { ApiClient } from './client';

export const API: InjectionKey<ApiClient> = Symbol('api');

export function useApi(): ApiClient {
  const api = inject(API);
  if (!api) throw new Error('useApi: no ApiClient provided (main.ts provides it)');
  return api;
}
