import pino, { type DestinationStream, type Logger } from 'pino';

/**
 * Log lines must never carry secrets. Headers are not logged at all; any field that could hold a
 * credential is censored by path; and URLs are rewritten before logging, because ODK Collect puts
 * device tokens in the path (`/key/<token>/…`) and some clients put tokens in the query string.
 */
export const redactedPaths = [
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  '*.password',
  '*.newPassword',
  '*.currentPassword',
  '*.token',
  '*.secret',
  '*.passphrase',
  '*.privateKey',
  '*.totp',
  '*.authorization',
  '*.cookie',
];

const SECRET_QUERY_KEYS = new Set(['st', 'token', 'key', 'access_token', 'password', 'passphrase', 'code']);

export function redactUrl(url: string): string {
  const [pathPart = '', query] = splitOnce(url, '?');
  const safePath = pathPart.replace(/\/key\/[^/]*/gi, '/key/[redacted]');
  if (query === undefined) return safePath;
  const safeQuery = query
    .split('&')
    .map((pair) => {
      const [name = ''] = splitOnce(pair, '=');
      return SECRET_QUERY_KEYS.has(safeDecode(name).toLowerCase()) ? `${name}=[redacted]` : pair;
    })
    .join('&');
  return `${safePath}?${safeQuery}`;
}

function splitOnce(text: string, sep: string): [string, string | undefined] {
  const i = text.indexOf(sep);
  return i < 0 ? [text, undefined] : [text.slice(0, i), text.slice(i + 1)];
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

export function createLogger(level: string, destination?: DestinationStream): Logger {
  return pino(
    {
      level,
      redact: { paths: redactedPaths, censor: '[redacted]' },
      base: undefined,
      timestamp: pino.stdTimeFunctions.isoTime,
    },
    destination,
  );
}
