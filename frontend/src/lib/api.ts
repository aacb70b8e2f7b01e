/**
 * The REST client: JSON to and from `/api/v1`, the session cookie sent along, and every error turned
 * into an ApiProblem carrying the server's problem+json (RFC 9457) so pages can show its detail.
 */

export const API_BASE = '/api/v1';

export interface ProblemItem { pointer?: string; index?: number; reason: string }

/** An error answer of the API (or a network failure, status 0). */
export class ApiProblem extends Error {
  readonly status: number;
  readonly code: string;
  readonly title: string;
  readonly errors: ProblemItem[];
  constructor(status: number, code: string, title: string, detail: string, errors: ProblemItem[] = []) {
    super(detail || title);
    this.name = 'ApiProblem';
    this.status = status;
    this.code = code;
    this.title = title;
    this.errors = errors;
  }

  /** One readable line: the detail and, when the server named them, the offending fields. */
  describe(): string {
    if (this.errors.length === 0) return this.message;
    const items = this.errors.map((e) => (e.pointer ? `${e.pointer.replace(/^\/body\//, '')}: ${e.reason}` : e.reason));
    return `${this.message} (${items.join('; ')})`;
  }
}

export interface RequestOptions {
  method?: string;
  body?: unknown;
  signal?: AbortSignal;
}

/** Called with every 401, so the app can send the user to the login page. */
export type UnauthorizedHandler = (problem: ApiProblem) => void;

export class ApiClient {
  private onUnauthorized: UnauthorizedHandler | undefined;

  constructor(private readonly base: string = API_BASE, private readonly fetchImpl: typeof fetch = (...a) => fetch(...a)) {}

  setUnauthorizedHandler(fn: UnauthorizedHandler | undefined): void {
    this.onUnauthorized = fn;
  }

  /** `path` without the `/api/v1` prefix, e.g. `/devices` or `/energy?device=x&start=…`. */
  async request<T = unknown>(path: string, init: RequestOptions = {}): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json, application/problem+json' };
    let body: string | undefined;
    if (init.body !== undefined) {
      headers['content-type'] = 'application/json';
      body = JSON.stringify(init.body);
    }
    let res: Response;
    try {
      res = await this.fetchImpl(this.base + path, {
        method: init.method ?? (body === undefined ? 'GET' : 'POST'),
        headers,
        body,
        credentials: 'same-origin',
        signal: init.signal,
      });
    } catch (err) {
      if ((err as Error).name === 'AbortError') throw err;
      throw new ApiProblem(0, 'NETWORK', 'Hub unreachable', `Could not reach the hub: ${(err as Error).message}`);
    }
    if (res.status === 204) return undefined as T;
    const text = await res.text();
    let data: unknown;
    try {
      data = text ? JSON.parse(text) : undefined;
    } catch {
      data = undefined;
    }
    if (!res.ok) {
      const p = (data ?? {}) as { code?: string; title?: string; detail?: string; errors?: ProblemItem[] };
      const problem = new ApiProblem(
        res.status,
        p.code ?? `HTTP_${res.status}`,
        p.title ?? res.statusText ?? 'Error',
        p.detail ?? (text && data === undefined ? text.slice(0, 200) : `The hub answered ${res.status}`),
        Array.isArray(p.errors) ? p.errors : [],
      );
      if (res.status === 401) this.onUnauthorized?.(problem);
      throw problem;
    }
    return data as T;
  }

  get<T = unknown>(path: string, signal?: AbortSignal): Promise<T> {
    return this.request<T>(path, { signal });
  }

  post<T = unknown>(path: string, body?: unknown): Promise<T> {
    return this.request<T>(path, { method: 'POST', body: body ?? {} });
  }

  patch<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: 'PATCH', body });
  }

  put<T = unknown>(path: string, body: unknown): Promise<T> {
    return this.request<T>(path, { method: 'PUT', body });
  }

  delete<T = unknown>(path: string): Promise<T> {
    return this.request<T>(path, { method: 'DELETE' });
  }
}

/** `?a=1&b=x` from the defined entries of `params`. */
export function query(params: Record<string, string | number | boolean | undefined | null>): string {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null) q.set(k, String(v));
  const s = q.toString();
  return s ? `?${s}` : '';
}
