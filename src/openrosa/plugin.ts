import type { FastifyError } from 'fastify';
import { BASIC_CHALLENGE, basicAllowed } from '../accounts/index.js';
import { classify } from '../server/classify.js';
import type { App, AppContext } from '../server/context.js';
import { errorCatalogue, retryAfterSeconds } from '../server/errors.js';
import { openRosaHeaders, openRosaResponseXml } from './documents.js';

/**
 * Every OpenRosa path exists twice: for people and scripts (Basic or a token in the
 * Authorization header), and for phones configured with a device token in the URL path, as
 * ODK Central's app users are (`/key/<token>/projects/<id>/…`).
 */
export const DEVICE_KEY_PREFIX = '/key/:token';
export const openRosaPrefixes = ['', DEVICE_KEY_PREFIX] as const;

/** Whether a request came through the token-in-path variant of an OpenRosa route. */
export function isDeviceKeyRoute(routeUrl: string | undefined): boolean {
  return routeUrl?.startsWith(`${DEVICE_KEY_PREFIX}/`) ?? false;
}

export function openRosaPaths(path: string): string[] {
  return openRosaPrefixes.map((prefix) => `${prefix}${path}`);
}

/** What a submission response advertises as the most one POST should carry (Collect splits above it). */
export function acceptContentLength(ctx: AppContext): number {
  return ctx.config.submissionMaxBytes;
}

/**
 * Registers OpenRosa routes in their own context: every response carries the OpenRosa headers
 * (Collect treats a response without `X-OpenRosa-Version` as not OpenRosa at all), and errors are
 * answered as an OpenRosaResponse envelope whose message Collect and Enketo show on the phone,
 * with the same status and the catalogue's code in `X-Fieldkeep-Error`. A request with no
 * credential is challenged for HTTP Basic where Basic is accepted (TLS, or loopback in development).
 */
export function registerOpenRosaRoutes(app: App, ctx: AppContext, register: (scope: App) => void | Promise<void>): void {
  app.register(async (child) => {
    const scope = child as unknown as App;
    scope.addHook('onSend', async (_request, reply) => {
      reply.headers(openRosaHeaders(new Date(), acceptContentLength(ctx)));
    });
    scope.setErrorHandler((error: FastifyError, request, reply) => {
      const problem = classify(error, request);
      // Collect sends Basic credentials only in answer to a challenge (and only over https).
      if (problem.code === 'auth.required' && basicAllowed(request, ctx.config)) reply.header('www-authenticate', BASIC_CHALLENGE);
      const retryAfter = retryAfterSeconds(problem.code);
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
      return reply
        .status(problem.status)
        .header('x-fieldkeep-error', problem.code)
        .type('text/xml; charset=utf-8')
        .send(openRosaResponseXml(problem.detail ?? errorCatalogue[problem.code].title, 'error'));
    });
    await register(scope);
  });
}
