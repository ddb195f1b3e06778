import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyBaseLogger, type FastifyError, type FastifyReply, type FastifyRequest } from 'fastify';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { Logger } from 'pino';
import secureJsonParse from 'secure-json-parse';
import { AppError, retryAfterSeconds, toProblem } from './errors.js';
import { classify } from './classify.js';
import { lazyCompilers } from './lazy-compilers.js';
import { redactUrl } from './logger.js';
import { registerSecurityHeaders } from './security-headers.js';
import { RouteRegistry } from './route-registry.js';
import type { App, AppContext } from './context.js';
import type { HttpSettings } from '../config/config.js';
import { healthRoutes } from '../health/routes.js';
import { formRoutes } from '../forms/routes.js';
import { accountRoutes } from '../accounts/routes.js';
import { accountsAuthentication } from '../accounts/authenticate.js';
import { auditRoutes } from '../audit/routes.js';
import { projectRoutes } from '../projects/routes.js';
import { deviceAuthentication, deviceRoutes } from '../devices/index.js';
import { publicLinkRoutes } from '../public-links/index.js';
import { discoveryRoutes } from '../openrosa/discovery-routes.js';
import { submissionRoutes } from '../openrosa/submission-routes.js';
import { submissionManagementRoutes } from '../submissions/manage-routes.js';
import { submissionDataRoutes } from '../submissions/index.js';
import { koboRoutes } from '../kobo/index.js';
import { projectKeyRoutes } from '../project-keys/index.js';
import { exportRoutes } from '../exports/index.js';
import { backupRoutes } from '../backups/index.js';
import { webRoutes } from '../web/routes.js';
import { anonymous } from '../access/actor.js';
import { authorize } from '../access/authorize.js';

export interface BuiltServer {
  app: App;
  registry: RouteRegistry;
}

export type RouteModule = (app: App, ctx: AppContext) => void;

/** Each one may recognise a credential on the request and set `request.actor`; the first to do so wins. */
export type AuthenticationHook = (request: FastifyRequest, reply: FastifyReply, ctx: AppContext) => Promise<void>;

/** Devices first: on a `/key/<token>/…` route the token in the path is the only credential considered. */
const authenticationHooks: readonly AuthenticationHook[] = [deviceAuthentication, accountsAuthentication];

/** Every domain's routes, registered in one place so the route table reads as a list. */
export const domainRoutes: readonly RouteModule[] = [healthRoutes, accountRoutes, projectRoutes, auditRoutes, formRoutes, deviceRoutes, publicLinkRoutes, discoveryRoutes, submissionRoutes, submissionManagementRoutes, submissionDataRoutes, koboRoutes, projectKeyRoutes, exportRoutes, backupRoutes, webRoutes];

export async function buildServer(ctx: AppContext, logger: Logger, routes: readonly RouteModule[] = domainRoutes): Promise<BuiltServer> {
  const app = Fastify({
    loggerInstance: logger as FastifyBaseLogger,
    // Fastify's two lines per request are replaced by the one line of the onResponse hook below.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: () => randomUUID(),
    requestIdHeader: false,
    bodyLimit: ctx.config.bodyLimit,
    trustProxy: ctx.config.trustProxy,
    return503OnClosing: true,
    ...connectionLimits(ctx.config.http),
    ajv: { customOptions: { removeAdditional: false, allErrors: false } },
    schemaController: { compilersFactory: lazyCompilers },
  }).withTypeProvider<TypeBoxTypeProvider>() as App;

  // Connections beyond the limit are closed as they arrive, before they cost a parser or a request.
  app.server.maxConnections = ctx.config.http.maxConnections;

  const registry = new RouteRegistry();
  registry.attach(app);

  app.decorateRequest('actor', null as never);
  app.addHook('onRequest', async (request) => {
    request.actor = anonymous;
  });
  for (const hook of authenticationHooks) app.addHook('onRequest', (request, reply) => hook(request, reply, ctx));
  // Before validation: a caller without the right learns nothing about what the endpoint accepts.
  app.addHook('preValidation', (request) => authorize(request, ctx));

  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? null,
        url: redactUrl(request.url),
        status: reply.statusCode,
        durationMs: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  registerSecurityHeaders(app);
  // HSTS only means something over TLS: it is added when the request arrived over HTTPS.
  // Once shutdown starts, answers to in-flight requests close their connection: a keep-alive
  // socket left open would hold the shutdown until the client's idle timeout.
  let closing = false;
  app.addHook('preClose', async () => {
    closing = true;
  });
  app.addHook('onSend', async (request, reply) => {
    if (request.protocol === 'https') reply.header('strict-transport-security', 'max-age=31536000; includeSubDomains');
    if (closing) reply.header('connection', 'close');
  });

  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    try {
      done(null, parseJsonBody(body as string));
    } catch (err) {
      done(err as AppError, undefined);
    }
  });

  app.setErrorHandler((error: FastifyError, request, reply) => sendError(classify(error, request), request, reply));
  app.setNotFoundHandler((request, reply) => {
    const allowed = registry.allowedMethods(request.url);
    if (allowed.length > 0) {
      reply.header('allow', allowed.join(', '));
      return sendError(new AppError('route.method_not_allowed', `Use ${allowed.join(' or ')} at this address.`), request, reply);
    }
    return sendError(new AppError('route.not_found'), request, reply);
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Fieldkeep API',
        version: process.env.npm_package_version ?? '0.1.0',
        description: 'Every error is application/problem+json with a stable `code`.',
      },
    },
  });
  app.get('/api/openapi.json', { schema: { hide: true }, config: { permission: 'public' } }, async () => app.swagger());
  await app.register(async (docs) => {
    docs.addHook('onRoute', (options) => {
      options.config = { ...options.config, permission: 'public' };
    });
    await docs.register(swaggerUi, { routePrefix: '/api/docs', staticCSP: true,
      // The UI's own policy, held to ours where it is looser: never framed, no scheme upgrade on plain-HTTP installs.
      transformStaticCSP: (header) =>
        header.replace("frame-ancestors 'self'", "frame-ancestors 'none'").replace(/\s*upgrade-insecure-requests;?/, ''),
      uiConfig: { url: '/api/openapi.json' } });
  });

  for (const register of routes) register(app, ctx);

  app.addHook('onReady', async () => {
    const missing = registry.routesWithoutPermission();
    if (missing.length > 0) {
      throw new Error(`routes without a declared permission: ${missing.map((r) => `${r.method} ${r.url}`).join(', ')}`);
    }
  });
  await app.ready();
  return { app, registry };
}

/**
 * Fastify leaves Node's request timeout off and sockets without an idle timeout, so a client that
 * dribbles its headers or body a byte at a time could hold a connection (and its memory) for ever.
 * Node checks the header and request deadlines every `connectionsCheckingInterval`, so a deadline is
 * enforced within a quarter of the headers timeout (at most 5 s) of passing.
 */
function connectionLimits(limits: HttpSettings) {
  return {
    requestTimeout: limits.requestTimeoutMs,
    connectionTimeout: limits.idleTimeoutMs,
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: limits.requestTimeoutMs,
      connectionsCheckingInterval: Math.max(100, Math.min(5000, Math.floor(limits.headersTimeoutMs / 4))),
    },
  };
}

/** JSON bodies are parsed with keys that could pollute prototypes refused, not silently dropped. */
function parseJsonBody(body: string): unknown {
  if (body.length === 0) throw new AppError('request.malformed_json', 'The body is empty.');
  try {
    return secureJsonParse.parse(body, undefined, { protoAction: 'error', constructorAction: 'error' });
  } catch (err) {
    if (/forbidden prototype property/i.test((err as Error).message)) throw new AppError('request.forbidden_key');
    throw new AppError('request.malformed_json', 'The body could not be parsed as JSON.');
  }
}

function sendError(error: AppError, request: FastifyRequest, reply: FastifyReply) {
  const retryAfter = retryAfterSeconds(error.code);
  if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
  return reply
    .status(error.status)
    .type('application/problem+json; charset=utf-8')
    .send(toProblem(error, request.id));
}
