/**
 * The device authentication hook. A phone's server URL carries its token in the path
 * (`/key/<token>/projects/<id>/…`, as ODK Central's app users do): on those routes the path token
 * is the only credential considered, and it decides. As in Central, a token of the wrong shape is
 * answered 401, but an unknown, revoked or expired one 403: Collect prompts for a username and
 * password on 401, which would be no use to someone holding a dead token. A device token may also
 * be sent as `Authorization: Bearer fk_dev_…`, where a bad one is an ordinary 401.
 *
 * The same path prefix carries public-link tokens (`fk_pub_…`, src/public-links): a token of that
 * shape is looked up as a link, anything else as a device. A public link works only in the path;
 * as a Bearer token it is no credential (the accounts hook refuses it).
 *
 * Runs before the accounts hook; the token never reaches a log line (the logger rewrites
 * `/key/<token>/` in URLs, and headers are not logged).
 */
import type { FastifyRequest } from 'fastify';
import type { Actor } from '../access/index.js';
import { isWellFormedToken } from '../accounts/index.js';
import { checkPublicLinkToken, publicLinkRefusal } from '../public-links/index.js';
import type { AuthenticationHook } from '../server/app.js';
import { isDeviceKeyRoute } from '../openrosa/plugin.js';
import type { AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { checkDeviceToken } from './service.js';

const BEARER_DEVICE_TOKEN = /^Bearer\s+(fk_dev_\S*)\s*$/i;
export const deviceAuthentication: AuthenticationHook = async (request, _reply, ctx) => {
  if (isDeviceKeyRoute(request.routeOptions.url)) {
    request.actor = await actorFromPathToken(request, ctx);
    return;
  }
  const bearer = BEARER_DEVICE_TOKEN.exec(request.headers.authorization ?? '')?.[1];
  if (bearer === undefined) return;
  const check = await checkDeviceToken(ctx.database.db, bearer);
  if (!check.ok) throw new AppError('auth.invalid_token', 'This device token is malformed, unknown, revoked or expired.');
  request.actor = check.actor;
};

async function actorFromPathToken(request: FastifyRequest, ctx: AppContext): Promise<Actor> {
  const params = (request.params ?? {}) as Record<string, unknown>;
  const token = String(params.token ?? '');
  if (isWellFormedToken('public', token)) return publicLinkFromPathToken(ctx, token, String(params.projectId));
  const check = await checkDeviceToken(ctx.database.db, token);
  if (!check.ok) {
    throw check.reason === 'malformed' ? new AppError('device.token_malformed') : new AppError('device.token_refused');
  }
  if (String(check.actor.projectId) !== String(params.projectId)) throw new AppError('device.wrong_project');
  return check.actor;
}

async function publicLinkFromPathToken(ctx: AppContext, token: string, projectId: string): Promise<Actor> {
  const check = await checkPublicLinkToken(ctx.database.db, token);
  if (!check.ok) throw publicLinkRefusal(check.reason);
  if (String(check.actor.projectId) !== projectId) throw new AppError('public_link.wrong_project');
  return check.actor;
}
