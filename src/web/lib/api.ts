/**
 * The app's API client: same-origin fetches with the session cookie; every state-changing request carries the
 * session's CSRF token in x-csrf-token (src/http/auth.ts). Errors become ApiError with the server's message.
 */

import type { SessionAnswer } from './contracts';

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    /** How many problems `details` is the start of (the error body's `total`; absent from older servers). */
    readonly total?: number,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/**
 * GET /api/v1/session (the contract's SessionAnswer). `user` and `role` may be missing from older servers (a
 * missing role is treated as admin).
 */
export type SessionInfo = Pick<SessionAnswer, 'kind' | 'operator' | 'tenant' | 'csrfToken'> &
  Partial<Pick<SessionAnswer, 'user' | 'role' | 'signInMethods'>>;

type Fetch = typeof fetch;

export class Api {
  private csrf: string | null = null;
  /** The last session answer, for role checks in pages (see canWork). */
  current: SessionInfo | null = null;
  constructor(private readonly fetchImpl: Fetch = (...args) => fetch(...args)) {}

  setCsrfToken(token: string | null): void {
    this.csrf = token;
  }

  async request<T>(method: string, path: string, body?: BodyInit, contentType?: string): Promise<T> {
    const headers: Record<string, string> = { accept: 'application/json' };
    if (contentType) headers['content-type'] = contentType;
    if (method !== 'GET' && method !== 'HEAD' && this.csrf) headers['x-csrf-token'] = this.csrf;
    const res = await this.fetchImpl(path, { method, headers, body, credentials: 'same-origin' });
    const text = await res.text();
    let json: unknown = null;
    try {
      json = text ? JSON.parse(text) : null;
    } catch {
      // Not JSON (a proxy error page): reported below with the status.
    }
    if (!res.ok) {
      const err = (
        json as { error?: { code?: string; message?: string; details?: unknown; total?: unknown } } | null
      )?.error;
      throw new ApiError(
        res.status,
        err?.code ?? 'http_error',
        err?.message ?? `Request failed (${res.status})`,
        err?.details,
        typeof err?.total === 'number' ? err.total : undefined,
      );
    }
    return json as T;
  }

  get<T>(path: string): Promise<T> {
    return this.request<T>('GET', path);
  }

  post<T>(path: string, json?: unknown): Promise<T> {
    return this.request<T>(
      'POST',
      path,
      json === undefined ? undefined : JSON.stringify(json),
      json === undefined ? undefined : 'application/json',
    );
  }

  delete<T>(path: string): Promise<T> {
    return this.request<T>('DELETE', path);
  }

  patch<T>(path: string, json: unknown): Promise<T> {
    return this.request<T>('PATCH', path, JSON.stringify(json), 'application/json');
  }

  /** Uploads a CSV file as multipart form field `file`, so the import records the file's name. */
  uploadCsv<T>(path: string, file: File): Promise<T> {
    const form = new FormData();
    form.append('file', file, file.name);
    // No content-type: the browser sets multipart/form-data with its boundary.
    return this.request<T>('POST', path, form);
  }

  async session(): Promise<SessionInfo> {
    const s = await this.get<SessionInfo>('/api/v1/session');
    this.setCsrfToken(s.csrfToken);
    this.current = s;
    return s;
  }
}

export const api = new Api();

/** Whether the signed-in person may work receivables (approve, skip, pause, dispute): collectors and admins. */
export function canWork(session: SessionInfo | null = api.current): boolean {
  return (session?.role ?? 'admin') !== 'viewer';
}

/** Builds "/api/v1/tenants/acme/invoices?status=open" from parts, dropping empty query values. */
export function apiPath(
  tenant: string,
  resource: string,
  query: Record<string, string | number | boolean | undefined | null> = {},
): string {
  const qs = new URLSearchParams();
  for (const [k, v] of Object.entries(query))
    if (v !== undefined && v !== null && v !== '') qs.set(k, String(v));
  const q = qs.toString();
  return `/api/v1/tenants/${encodeURIComponent(tenant)}/${resource}${q ? `?${q}` : ''}`;
}
