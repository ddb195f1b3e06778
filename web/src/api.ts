/**
 * The one way the application talks to the server: same-origin JSON with the session cookie, the
 * CSRF token on every state-changing request, and problem+json errors turned into ApiError.
 */
import { session } from './session.js';

export interface Issue {
  code: string;
  message: string;
  sheet?: string;
  row?: number;
}

export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    readonly title: string,
    readonly detail: string | undefined,
    readonly issues: Issue[],
  ) {
    super(detail ?? title);
  }
}

export type Query = Record<string, string | number | boolean | undefined | null>;

export interface RequestOptions {
  query?: Query;
  /** JSON-encoded unless it is a Blob/File, sent as is. */
  body?: unknown;
  contentType?: string;
}

export function withQuery(path: string, query: Query = {}): string {
  const params = new URLSearchParams();
  for (const [key, value] of Object.entries(query)) if (value !== undefined && value !== null && value !== '') params.set(key, String(value));
  const text = params.toString();
  return text === '' ? path : `${path}?${text}`;
}

export async function api<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
  const headers: Record<string, string> = { accept: 'application/json' };
  if (method !== 'GET' && session.csrfToken !== '') headers['x-csrf-token'] = session.csrfToken;
  let body: BodyInit | undefined;
  if (options.body instanceof Blob) {
    body = options.body;
    headers['content-type'] = options.contentType ?? (options.body.type || 'application/octet-stream');
  } else if (options.body !== undefined) {
    body = JSON.stringify(options.body);
    headers['content-type'] = 'application/json';
  }
  const response = await fetch(withQuery(path, options.query), { method, headers, body, credentials: 'same-origin' });
  if (response.status === 204) return undefined as T;
  const text = await response.text();
  const parsed: unknown = text === '' ? null : JSON.parse(text);
  if (!response.ok) {
    const problem = (parsed ?? {}) as { code?: string; title?: string; detail?: string; issues?: Issue[] };
    const error = new ApiError(response.status, problem.code ?? 'http.' + response.status, problem.title ?? response.statusText, problem.detail, problem.issues ?? []);
    if (error.code === 'auth.required') session.user = null;
    throw error;
  }
  return parsed as T;
}

export const get = <T>(path: string, query?: Query) => api<T>('GET', path, { query });
export const post = <T>(path: string, body?: unknown, query?: Query) => api<T>('POST', path, { body, query });
export const patch = <T>(path: string, body: unknown) => api<T>('PATCH', path, { body });
export const put = <T>(path: string, body: unknown) => api<T>('PUT', path, { body });
export const del = <T>(path: string, body?: unknown) => api<T>('DELETE', path, { body });
