/*
 * The security headers on every response, errors included: a fixed set, built once. (The helmet
 * plugin built its middleware again, parsing the policy, on every request: 6 % of the CPU of an
 * authenticated API request.) Pages that need another Content-Security-Policy (the web app with
 * its map tiles, Web Forms, attachment downloads) replace that one header on their reply.
 */
import type { FastifyInstance } from 'fastify';

/** The API's policy, directive by directive; the pages' policies are it with some directives changed. */
const DEFAULT_DIRECTIVES: Readonly<Record<string, string>> = {
  'default-src': "'self'",
  'base-uri': "'self'",
  'connect-src': "'self'",
  'font-src': "'self' data:",
  'form-action': "'self'",
  'frame-ancestors': "'none'",
  'img-src': "'self' data: blob:",
  'object-src': "'none'",
  'script-src': "'self'",
  'style-src': "'self' 'unsafe-inline'",
};

/** The default policy with `changes` (a directive replaced, or added at the end) applied. */
export function contentSecurityPolicy(changes: Readonly<Record<string, string>> = {}): string {
  return Object.entries({ ...DEFAULT_DIRECTIVES, ...changes })
    .map(([directive, sources]) => `${directive} ${sources}`)
    .join('; ');
}

export const SECURITY_HEADERS: ReadonlyArray<readonly [string, string]> = [
  ['content-security-policy', contentSecurityPolicy()],
  // Another site's window cannot script ours, and no other origin may embed our responses.
  ['cross-origin-opener-policy', 'same-origin'],
  ['cross-origin-resource-policy', 'same-origin'],
  ['origin-agent-cluster', '?1'],
  ['referrer-policy', 'no-referrer'],
  ['x-content-type-options', 'nosniff'],
  ['x-dns-prefetch-control', 'off'],
  // Old Internet Explorer would otherwise open a download in the site's context.
  ['x-download-options', 'noopen'],
  // For browsers that predate frame-ancestors.
  ['x-frame-options', 'DENY'],
  ['x-permitted-cross-domain-policies', 'none'],
  // The legacy XSS auditor is itself a source of leaks; 0 turns it off.
  ['x-xss-protection', '0'],
];

/** Sets the headers on the raw response as a request arrives, so every answer carries them, however it is sent. */
export function registerSecurityHeaders(app: FastifyInstance): void {
  app.addHook('onRequest', (_request, reply, done) => {
    for (const [name, value] of SECURITY_HEADERS) reply.raw.setHeader(name, value);
    done();
  });
}
