import type { FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import { projectAccessOf } from '../access/index.js';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { EnableBody, EncryptionView, KeyChange, KeySetupBody, OwnKeyBody, OwnKeyView, SettingsBody, ShareBody, SharingView } from './schemas.js';
import * as keys from './service.js';

const ProjectParams = Type.Object({ projectId: Type.Integer({ minimum: 1 }) });
const MemberParams = Type.Object({ projectId: Type.Integer({ minimum: 1 }), userId: Type.Integer({ minimum: 1 }) });
const MemberKeyParams = Type.Object({ ...MemberParams.properties, keyId: Type.Integer({ minimum: 1 }) });
const tags = ['encryption'];

function scopeOf(request: FastifyRequest, ctx: AppContext): keys.KeyScope {
  return { ctx, access: projectAccessOf(request), source: auditSource(request) };
}

function signedInUser(request: FastifyRequest): number {
  if (request.actor.kind !== 'user') throw new AppError('auth.required');
  return request.actor.userId;
}

/**
 * End-to-end encryption of a project: turning it on, rotating, sharing the key with members, and
 * each person's own key. Bodies carry public keys and wrapped or sealed private keys only.
 */
export function projectKeyRoutes(app: App, ctx: AppContext): void {
  const base = '/api/v1/projects/:projectId/encryption';

  app.get(base, { config: { permission: 'submission.read' }, schema: { tags, summary: "The project's encryption: its keys (public halves; the wrapped private keys to the owner only) and the copies sealed for you.", params: ProjectParams, response: { 200: EncryptionView } } }, async (request) =>
    keys.encryptionStatus(scopeOf(request, ctx)),
  );

  app.post(
    base,
    { config: { permission: 'project.transfer' }, schema: { tags, summary: 'Turn on end-to-end encryption with a key pair made in your browser (or a public key you made yourself); every form gets the public key in a new version.', params: ProjectParams, body: EnableBody, response: { 201: KeyChange } } },
    async (request, reply) => reply.status(201).send(await keys.enableEncryption(scopeOf(request, ctx), request.body)),
  );

  app.patch(base, { config: { permission: 'project.transfer' }, schema: { tags, summary: 'Allow or forbid decryption on the server (an export carrying the passphrase).', params: ProjectParams, body: SettingsBody, response: { 200: Type.Object({ ok: Type.Literal(true) }) } } }, async (request) => {
    await keys.setServerDecryption(scopeOf(request, ctx), request.body.allowServerDecryption);
    return { ok: true as const };
  });

  app.post(
    `${base}/rotate`,
    { config: { permission: 'project.transfer' }, schema: { tags, summary: 'Rotate: a new key pair for new data; the old key is kept (retired) for the data already sent.', params: ProjectParams, body: KeySetupBody, response: { 201: KeyChange } } },
    async (request, reply) => reply.status(201).send(await keys.rotateKey(scopeOf(request, ctx), request.body)),
  );

  app.get(`${base}/members`, { config: { permission: 'project.share' }, schema: { tags, summary: "The project's people with their own public keys and the project keys each holds a copy of.", params: ProjectParams, response: { 200: SharingView } } }, async (request) =>
    keys.sharingState(scopeOf(request, ctx)),
  );

  app.put(
    `${base}/members/:userId/keys/:keyId`,
    { config: { permission: 'project.share' }, schema: { tags, summary: "Give a member a project key, sealed in your browser to the member's own public key.", params: MemberKeyParams, body: ShareBody, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await keys.shareKey(scopeOf(request, ctx), request.params.userId, request.params.keyId, request.body.sealedPrivateKey);
      return reply.status(204).send(null);
    },
  );

  app.delete(`${base}/members/:userId`, { config: { permission: 'project.share' }, schema: { tags, summary: "Revoke: delete every copy of the project's keys the member holds.", params: MemberParams, response: { 200: Type.Object({ removed: Type.Integer() }) } } }, async (request) =>
    keys.revokeKeys(scopeOf(request, ctx), request.params.userId),
  );

  app.get('/api/v1/users/me/encryption-key', { config: { permission: 'authenticated' }, schema: { tags, summary: 'Your own key pair (the private key wrapped by your passphrase), or null.', response: { 200: OwnKeyView } } }, async (request) => ({
    key: await keys.ownKey(ctx, signedInUser(request)),
  }));

  app.put(
    '/api/v1/users/me/encryption-key',
    { config: { permission: 'authenticated' }, schema: { tags, summary: 'Set your own key pair; copies of project keys sealed to a previous one are voided.', body: OwnKeyBody, response: { 200: Type.Object({ voidedCopies: Type.Integer() }) } } },
    async (request) => keys.setOwnKey(ctx, auditSource(request), signedInUser(request), request.body),
  );
}
