/**
 * The one catalogue of error codes. Every error a client sees is `application/problem+json`
 * (RFC 9457) carrying one of these codes; codes are stable API, titles are for people. Domain
 * modules add their codes here so that clients, docs and tests read one list.
 */
export const errorCatalogue = {
  'request.malformed_json': { status: 400, title: 'The request body is not valid JSON.' },
  'request.forbidden_key': { status: 400, title: 'The request body uses a reserved key such as __proto__ or constructor.' },
  'request.invalid': { status: 400, title: 'The request does not match what this endpoint accepts.' },
  'request.body_too_large': { status: 413, title: 'The request body is larger than this server accepts.' },
  'request.unsupported_media_type': { status: 415, title: 'This endpoint does not accept that content type.' },
  'auth.required': { status: 401, title: 'Sign in to do this.' },
  'auth.token_read_only': { status: 403, title: 'This API token is read-only.' },
  'access.denied': { status: 403, title: 'You do not have permission to do this.' },
  'route.not_found': { status: 404, title: 'There is nothing at this address.' },
  'route.method_not_allowed': { status: 405, title: 'This address does not accept that method.' },
  'server.not_ready': { status: 503, title: 'The server is not ready to serve requests.' },
  'server.internal': { status: 500, title: 'Something went wrong on the server; it has been logged.' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(detail ?? errorCatalogue[code].title);
    this.name = 'AppError';
    this.status = errorCatalogue[code].status;
  }
}

export interface Problem {
  type: 'about:blank';
  status: number;
  code: ErrorCode;
  title: string;
  detail?: string;
  requestId?: string;
  [extra: string]: unknown;
}

export function toProblem(error: AppError, requestId?: string): Problem {
  return {
    ...error.extra,
    type: 'about:blank',
    status: error.status,
    code: error.code,
    title: errorCatalogue[error.code].title,
    ...(error.detail !== undefined ? { detail: error.detail } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
  };
}
