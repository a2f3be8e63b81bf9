// The dashboard's one way to the central's API: JSON over fetch with the session cookie, the CSRF
// token on every change (the central refuses a session's change without it), and the API's own
// error message carried to the page, which shows it as it is (it says what to fix).

/** The cookie the login sets beside the session's; its value goes back in CSRF_HEADER. */
export const CSRF_COOKIE = 'camgate_csrf';
export const CSRF_HEADER = 'x-csrf-token';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** A cookie's value from a document.cookie string. */
export function cookieValue(cookies: string, name: string): string | undefined {
  for (const part of cookies.split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return undefined;
}

export interface ApiClient {
  get<T>(path: string): Promise<T>;
  /** A binary answer (a JPEG); errors as for get. */
  blob(path: string): Promise<Blob>;
  send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, options?: SendOptions): Promise<T>;
}

export interface SendOptions {
  /** Outlives the page (fetch keepalive): a change sent as the tab closes, where sendBeacon cannot
   * carry the method or the CSRF header. */
  keepalive?: boolean;
}

export interface ClientOptions {
  /** Told when the API answers 401 (the session ended): the page goes to the login. */
  onUnauthorized(): void;
  /** document.cookie, read at each change (the token changes with every login). */
  cookies(): string;
}

async function answer<T>(res: Response, path: string, options: ClientOptions): Promise<T> {
  if (res.status === 204) return undefined as T;
  const text = await res.text();
  let body: unknown;
  try {
    body = text ? JSON.parse(text) : undefined;
  } catch {
    throw new ApiError(res.status, 'not-json', `${path}: the central answered ${res.status} with something that is not JSON`);
  }
  if (!res.ok) {
    const err = body as { error?: string; message?: string } | undefined;
    if (res.status === 401 && path !== '/api/login') options.onUnauthorized();
    throw new ApiError(res.status, err?.error ?? 'error', err?.message ?? `${path}: HTTP ${res.status}`);
  }
  return body as T;
}

export function createClient(options: ClientOptions): ApiClient {
  return {
    async get<T>(path: string) {
      const res = await fetch(path, { credentials: 'same-origin', headers: { accept: 'application/json' } });
      return answer<T>(res, path, options);
    },
    async blob(path: string) {
      const res = await fetch(path, { credentials: 'same-origin' });
      if (!res.ok) return answer<never>(res, path, options);
      return res.blob();
    },
    async send<T>(method: 'POST' | 'PUT' | 'PATCH' | 'DELETE', path: string, body?: unknown, sendOptions: SendOptions = {}) {
      const headers: Record<string, string> = { accept: 'application/json' };
      const token = cookieValue(options.cookies(), CSRF_COOKIE);
      if (token) headers[CSRF_HEADER] = token;
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(path, {
        method,
        credentials: 'same-origin',
        headers,
        body: body === undefined ? undefined : JSON.stringify(body),
        keepalive: sendOptions.keepalive === true,
      });
      return answer<T>(res, path, options);
    },
  };
}

/** A query string from the defined entries (arrays repeat the key). */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.append(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
