import multipart from '@fastify/multipart';
import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { projectAccessOf } from '../access/index.js';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { PART_LIMITS, receiveParts, storeSubmission, type SubmissionOutcome } from '../submissions/index.js';
import { DEFAULT_XML_LIMITS } from '../xform/index.js';
import { openRosaResponseXml } from './documents.js';
import { openRosaPaths, registerOpenRosaRoutes } from './plugin.js';

const Params = Type.Object({ projectId: Type.String({ pattern: '^[0-9]+$' }), token: Type.Optional(Type.String()) });
/** Collect adds `deviceID` to every request; other parameters are tolerated and ignored. */
const Query = Type.Object({ deviceID: Type.Optional(Type.String()) });
const MAX_DEVICE_ID_LENGTH = 255;

/**
 * The OpenRosa submission endpoint (INTEROP.md A6): HEAD and GET answer 204 with the OpenRosa
 * headers (Collect requires exactly 204 before it POSTs, and reads the size it may send from
 * `X-OpenRosa-Accept-Content-Length`); POST takes the multipart body, streamed, and answers 201
 * (stored), 202 (a duplicate that added nothing) or an error, always as an OpenRosaResponse
 * envelope. The multipart parser is registered here only, with this endpoint's limits.
 */
export function submissionRoutes(app: App, ctx: AppContext): void {
  const maxBytes = ctx.config.submissionMaxBytes;
  const maxXmlBytes = Math.min(DEFAULT_XML_LIMITS.maxBytes, maxBytes);
  registerOpenRosaRoutes(app, ctx, async (scope) => {
    await scope.register(multipart, {
      preservePath: true,
      throwFileSizeLimit: true,
      limits: { ...PART_LIMITS, files: PART_LIMITS.parts, fileSize: maxBytes },
    });
    // A refusal can come before the body is read to its end (a limit, a broken multipart): the
    // multipart parser has stopped reading it, so the rest is discarded here, without holding it,
    // and the connection is not kept for another request. Otherwise the socket stays open with
    // the body unread, and the client and a graceful shutdown both wait on it.
    scope.addHook('onSend', async (request, reply) => {
      if (!request.raw.complete) reply.header('connection', 'close');
    });
    scope.addHook('onResponse', async (request) => {
      if (request.raw.complete) return;
      request.raw.unpipe();
      request.raw.resume();
    });
    const tags = ['openrosa'];
    for (const url of openRosaPaths('/projects/:projectId/submission')) {
      scope.route({
        method: ['GET', 'HEAD'],
        url,
        exposeHeadRoute: false,
        config: { permission: 'submission.create' },
        schema: { tags, summary: 'OpenRosa submission pre-flight: 204 with the largest POST accepted.', params: Params, querystring: Query },
        handler: async (_request, reply) => reply.status(204).send(),
      });
      scope.post(
        url,
        { config: { permission: 'submission.create' }, schema: { tags, summary: 'OpenRosa submission: multipart with xml_submission_file and attachments.', params: Params, querystring: Query } },
        async (request, reply) => {
          refuseOversizeBody(request, maxBytes);
          if (!request.isMultipart()) throw new AppError('submission.not_multipart');
          const received = await receiveParts(request.parts(), ctx.blobs, { maxBytes, maxXmlBytes });
          const scopeOfRequest = { ctx, access: projectAccessOf(request), source: auditSource(request) };
          const outcome = await storeSubmission(scopeOfRequest, received, { deviceId: deviceIdOf(request) });
          return reply.status(outcome.status).type('text/xml; charset=utf-8').send(openRosaResponseXml(messageOf(outcome)));
        },
      );
    }
  });
}

/** A declared length over the limit is refused before a byte of the body is read. */
function refuseOversizeBody(request: FastifyRequest, maxBytes: number): void {
  const declared = Number(request.headers['content-length']);
  if (Number.isFinite(declared) && declared > maxBytes) {
    throw new AppError('submission.too_large', `The request is ${declared} bytes; this server accepts at most ${maxBytes} bytes in one submission request.`);
  }
}

function deviceIdOf(request: FastifyRequest): string | null {
  const deviceId = (request.query as { deviceID?: string }).deviceID;
  return deviceId ? deviceId.slice(0, MAX_DEVICE_ID_LENGTH) : null;
}

function messageOf(outcome: SubmissionOutcome): string {
  if (outcome.kind === 'duplicate') return 'Duplicate submission: it was already received, and this upload added nothing new.';
  const received = outcome.kind === 'edited' ? 'The edited submission was received.' : 'Full submission upload was successful!';
  if (outcome.missing.length === 0) return received;
  return `Submission received; still waiting for ${outcome.missing.length} attachment(s): ${outcome.missing.slice(0, 10).join(', ')}.`;
}
