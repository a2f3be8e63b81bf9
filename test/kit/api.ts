// An HTTP client of the central's API for tests: real requests (node:http, so a test can pick the
// loopback address it comes from), a session cookie kept like a browser keeps it, or an API token.
import { request as httpRequest } from 'node:http';

export interface ApiResponse<T> {
  status: number;
  body: T;
  headers: Record<string, string | string[] | undefined>;
}

export interface ApiClientOptions {
  /** Authorization: Bearer <token>. */
  token?: string;
  /** The session cookie (name=value), as a login set it. */
  cookie?: string;
  /** The session's CSRF token (the camgate_csrf cookie a login set), sent on changes like the dashboard sends it. */
  csrf?: string;
  /** The local address requests come from (127.0.0.x), for per-address counting. */
  localAddress?: string;
}

export interface ApiClient {
  readonly options: ApiClientOptions;
  request<T = unknown>(method: string, path: string, body?: unknown, headers?: Record<string, string>): Promise<ApiResponse<T>>;
  get<T = unknown>(path: string): Promise<ApiResponse<T>>;
}

/** The name=value of a Set-Cookie header of this name, or undefined. */
export function cookieFrom(setCookie: string | string[] | undefined, name: string): string | undefined {
  const all = Array.isArray(setCookie) ? setCookie : setCookie ? [setCookie] : [];
  return all.map((c) => c.split(';')[0]).find((pair) => pair.startsWith(`${name}=`));
}

export function apiClient(baseUrl: string, options: ApiClientOptions = {}): ApiClient {
  const client: ApiClient = {
    options,
    request<T>(method: string, path: string, body?: unknown, headers: Record<string, string> = {}) {
      const url = new URL(path, baseUrl);
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      return new Promise<ApiResponse<T>>((resolve, reject) => {
        const req = httpRequest(
          url,
          {
            method,
            localAddress: options.localAddress,
            headers: {
              ...(payload ? { 'content-type': 'application/json', 'content-length': String(payload.length) } : {}),
              ...(options.token ? { authorization: `Bearer ${options.token}` } : {}),
              ...(options.cookie ? { cookie: options.cookie } : {}),
              ...(options.csrf && method !== 'GET' && method !== 'HEAD' ? { 'x-csrf-token': options.csrf } : {}),
              ...headers,
            },
          },
          (res) => {
            const chunks: Buffer[] = [];
            res.on('data', (c: Buffer) => chunks.push(c));
            res.on('end', () => {
              const text = Buffer.concat(chunks).toString('utf8');
              const set = cookieFrom(res.headers['set-cookie'], 'camgate_session');
              // Like a browser: a new session cookie replaces the old one.
              if (set) options.cookie = set;
              const csrf = cookieFrom(res.headers['set-cookie'], 'camgate_csrf');
              if (csrf) options.csrf = csrf.slice('camgate_csrf='.length);
              resolve({ status: res.statusCode ?? 0, body: (text ? JSON.parse(text) : undefined) as T, headers: res.headers });
            });
          },
        );
        req.on('error', reject);
        req.end(payload);
      });
    },
    get<T>(path: string) {
      return client.request<T>('GET', path);
    },
  };
  return client;
}

/** Logs in; the client keeps the session cookie. Fails the test unless the login succeeds. */
export async function loginClient(baseUrl: string, username: string, password: string, options: ApiClientOptions = {}): Promise<ApiClient> {
  const client = apiClient(baseUrl, options);
  const res = await client.request<{ message?: string }>('POST', '/api/login', { username, password });
  if (res.status !== 200 || !client.options.cookie) throw new Error(`login as ${username} failed: ${res.status} ${JSON.stringify(res.body)}`);
  return client;
}
