/**
 * Accounts routes: thin — each declares its permission and schemas, and calls a service. Every
 * answer carries `Cache-Control: no-store` (they hold tokens and personal data), and throttled
 * answers carry `Retry-After`.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { Type } from 'typebox';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { changeAccount, createAccount, createPasswordLink } from './admin-users.js';
import { createApiToken, listTokens, revokeToken } from './api-tokens.js';
import { clientInfo } from './client.js';
import { accountsOf, type AccountsContext } from './context.js';
import { retryAfterOf } from './credentials.js';
import { completePasswordReset, requestPasswordReset } from './password-reset.js';
import { countUsers } from './queries.js';
import { listUsers } from './users.js';
import * as S from './schemas.js';
import { deleteMe, endAllSessions, endSession, getMe, listSessions, signIn, signOut, updateMe, type UserActor } from './service.js';
import { clearedSessionCookie, csrfTokenFor, currentSessionOf, sessionCookie, sessionCookieName } from './sessions.js';
import { confirmEnrolment, disableTwoFactor, newRecoveryCodes, startEnrolment } from './two-factor.js';

const TAGS = ['accounts'];

export function accountRoutes(app: App, ctx: AppContext): void {
  const accounts = accountsOf(ctx, app.log);
  app.addHook('onReady', async () => {
    if ((await countUsers(accounts.db)) === 0) {
      app.log.warn(
        'No accounts exist yet (there is no default account). Create the first administrator with: ' +
          'fieldkeep user create --username NAME --email EMAIL --admin   (it asks for the password, or reads it from standard input)',
      );
    }
  });
  void app.register(async (scope) => {
    scope.addHook('onSend', async (_request, reply) => {
      reply.header('cache-control', 'no-store');
    });
    scope.addHook('onError', async (_request, reply, error) => {
      const retryAfter = retryAfterOf(error);
      if (retryAfter !== undefined) reply.header('retry-after', String(retryAfter));
    });
    sessionRoutes(scope as App, accounts);
    meRoutes(scope as App, accounts);
    passwordResetRoutes(scope as App, accounts);
    tokenRoutes(scope as App, accounts);
    adminUserRoutes(scope as App, accounts);
  });
}

function userOf(request: FastifyRequest): UserActor {
  if (request.actor.kind !== 'user') throw new AppError('auth.required');
  return request.actor;
}

function clearCookie(request: FastifyRequest, reply: FastifyReply, accounts: AccountsContext): void {
  const secure = request.protocol === 'https';
  const name = sessionCookieName(accounts.config, secure);
  if (name !== null && currentSessionOf(request) !== undefined) reply.header('set-cookie', clearedSessionCookie(name, secure));
}

function sessionRoutes(app: App, accounts: AccountsContext): void {
  app.post(
    '/api/v1/sessions',
    {
      config: { permission: 'public' },
      schema: { tags: TAGS, summary: 'Sign in: sets the session cookie and returns the CSRF token.', body: S.SignInBody, response: { 201: S.SignedIn } },
    },
    async (request, reply) => {
      const client = clientInfo(request);
      const cookieName = sessionCookieName(accounts.config, client.secure);
      if (cookieName === null) throw new AppError('session.insecure_transport', 'Use https:// to sign in (or an API token for programs).');
      const { session, user } = await signIn(accounts, request.body, client);
      const maxAge = Math.floor((Date.parse(session.expiresAt) - Date.now()) / 1000);
      reply.header('set-cookie', sessionCookie(cookieName, session.token, maxAge, client.secure));
      return reply.status(201).send({ csrfToken: session.csrfToken, expiresAt: session.expiresAt, user });
    },
  );

  app.get(
    '/api/v1/sessions/current',
    {
      config: { permission: 'authenticated' },
      schema: { tags: TAGS, summary: 'The session this browser is signed in with, and its CSRF token (after a page reload).', response: { 200: S.CurrentSession } },
    },
    async (request) => {
      const current = currentSessionOf(request);
      if (current === undefined) throw new AppError('session.not_found', 'This request was not made with a browser session.');
      return { id: current.id, csrfToken: csrfTokenFor(accounts, current.token), user: await getMe(accounts, userOf(request)) };
    },
  );

  app.delete(
    '/api/v1/sessions/current',
    { config: { permission: 'authenticated' }, schema: { tags: TAGS, summary: 'Sign out: ends this session on the server.', response: { 204: Type.Null() } } },
    async (request, reply) => {
      const current = currentSessionOf(request);
      if (current === undefined) throw new AppError('session.not_found', 'This request was not made with a browser session.');
      await signOut(accounts, userOf(request), current.id, clientInfo(request));
      clearCookie(request, reply, accounts);
      return reply.status(204).send(null);
    },
  );

  app.get(
    '/api/v1/sessions',
    { config: { permission: 'authenticated' }, schema: { tags: TAGS, summary: 'Your sessions, newest first.', response: { 200: Type.Array(S.Session) } } },
    async (request) => listSessions(accounts, userOf(request), currentSessionOf(request)?.id),
  );

  app.delete(
    '/api/v1/sessions',
    { config: { permission: 'authenticated' }, schema: { tags: TAGS, summary: 'End all of your sessions, this one included.', response: { 200: S.EndedSessions } } },
    async (request, reply) => {
      const ended = await endAllSessions(accounts, userOf(request), clientInfo(request));
      clearCookie(request, reply, accounts);
      return { ended };
    },
  );

  app.delete(
    '/api/v1/sessions/:id',
    { config: { permission: 'authenticated' }, schema: { tags: TAGS, summary: 'End one of your sessions.', params: S.IdParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await endSession(accounts, userOf(request), request.params.id, clientInfo(request));
      return reply.status(204).send(null);
    },
  );
}

function meRoutes(app: App, accounts: AccountsContext): void {
  app.get(
    '/api/v1/users/me',
    { config: { permission: 'authenticated' }, schema: { tags: TAGS, summary: 'Your account.', response: { 200: S.User } } },
    async (request) => getMe(accounts, userOf(request)),
  );

  app.patch(
    '/api/v1/users/me',
    {
      config: { permission: 'authenticated' },
      schema: {
        tags: TAGS,
        summary: 'Change your email or password (give currentPassword, and totp when two-factor is on). A new password ends your other sessions.',
        body: S.MeChanges,
        response: { 200: S.User },
      },
    },
    async (request) => updateMe(accounts, userOf(request), request.body, clientInfo(request), currentSessionOf(request)?.id),
  );

  app.delete(
    '/api/v1/users/me',
    {
      config: { permission: 'authenticated' },
      schema: { tags: TAGS, summary: 'Delete your account (it must own no projects).', body: S.Reauthentication, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await deleteMe(accounts, userOf(request), request.body, clientInfo(request));
      clearCookie(request, reply, accounts);
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/users/me/two-factor',
    {
      config: { permission: 'authenticated' },
      schema: { tags: TAGS, summary: 'Start two-factor enrolment: returns the secret and its QR code.', body: S.Reauthentication, response: { 201: S.Enrolment } },
    },
    async (request, reply) => reply.status(201).send(await startEnrolment(accounts, userOf(request), request.body, clientInfo(request))),
  );

  app.post(
    '/api/v1/users/me/two-factor/confirm',
    {
      config: { permission: 'authenticated' },
      schema: { tags: TAGS, summary: 'Turn two-factor on with a code from the app; returns the recovery codes.', body: S.ConfirmTwoFactor, response: { 200: S.RecoveryCodes } },
    },
    async (request) => confirmEnrolment(accounts, userOf(request), request.body.code, clientInfo(request)),
  );

  app.delete(
    '/api/v1/users/me/two-factor',
    {
      config: { permission: 'authenticated' },
      schema: { tags: TAGS, summary: 'Turn two-factor off (password and a current code needed).', body: S.Reauthentication, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await disableTwoFactor(accounts, userOf(request), request.body, clientInfo(request));
      return reply.status(204).send(null);
    },
  );

  app.post(
    '/api/v1/users/me/two-factor/recovery-codes',
    {
      config: { permission: 'authenticated' },
      schema: { tags: TAGS, summary: 'Replace your recovery codes (password and a current code needed).', body: S.Reauthentication, response: { 200: S.RecoveryCodes } },
    },
    async (request) => newRecoveryCodes(accounts, userOf(request), request.body, clientInfo(request)),
  );
}

function passwordResetRoutes(app: App, accounts: AccountsContext): void {
  app.post(
    '/api/v1/password-resets',
    {
      config: { permission: 'public' },
      schema: { tags: TAGS, summary: 'Email a password reset link (the answer is the same whether or not the account exists).', body: S.ResetRequest, response: { 202: S.ResetAccepted } },
    },
    async (request, reply) => {
      await requestPasswordReset(accounts, request.body.email, clientInfo(request), request.log);
      return reply.status(202).send({ message: 'If an account has that email address, a reset link valid for one hour is on its way.' });
    },
  );

  app.post(
    '/api/v1/password-resets/confirm',
    {
      config: { permission: 'public' },
      schema: { tags: TAGS, summary: 'Set a new password with a reset token; ends every session.', body: S.ResetCompletion, response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      await completePasswordReset(accounts, request.body, clientInfo(request));
      return reply.status(204).send(null);
    },
  );
}

function tokenRoutes(app: App, accounts: AccountsContext): void {
  app.get(
    '/api/v1/tokens',
    { config: { permission: 'authenticated' }, schema: { tags: TAGS, summary: 'Your API tokens (never their secrets).', response: { 200: Type.Array(S.Token) } } },
    async (request) => listTokens(accounts, userOf(request)),
  );

  app.post(
    '/api/v1/tokens',
    {
      config: { permission: 'authenticated' },
      schema: { tags: TAGS, summary: 'Create an API token (from a browser session); the token is shown only in this answer.', body: S.TokenRequest, response: { 201: S.NewToken } },
    },
    async (request, reply) => {
      const actor = userOf(request);
      if (actor.credential !== 'session') throw new AppError('token.session_required');
      const { name, scope, expiresInDays } = request.body;
      const created = await createApiToken(accounts, actor.userId, { name, scope: scope ?? 'read', expiresInDays }, { actor, client: clientInfo(request) });
      return reply.status(201).send(created);
    },
  );

  app.delete(
    '/api/v1/tokens/:id',
    { config: { permission: 'authenticated' }, schema: { tags: TAGS, summary: 'Revoke one of your API tokens.', params: S.IdParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await revokeToken(accounts, userOf(request), request.params.id, clientInfo(request));
      return reply.status(204).send(null);
    },
  );
}

/** Accounts for instance administrators (the same changes as `fieldkeep user …`, from the browser). */
function adminUserRoutes(app: App, accounts: AccountsContext): void {
  const tags = ['admin'];
  const by = (request: FastifyRequest) => ({ actor: userOf(request), client: clientInfo(request) });

  app.get(
    '/api/v1/admin/users',
    { config: { permission: 'admin' }, schema: { tags, summary: 'Every account, oldest first.', response: { 200: Type.Array(S.User) } } },
    async () => listUsers(accounts),
  );

  app.post(
    '/api/v1/admin/users',
    {
      config: { permission: 'admin' },
      schema: { tags, summary: 'Create an account; the answer holds the link where its owner sets their password (no one else ever knows it).', body: S.AdminNewUser, response: { 201: S.AdminCreatedUser } },
    },
    async (request, reply) => reply.status(201).send(await createAccount(accounts, request.body, by(request))),
  );

  app.patch(
    '/api/v1/admin/users/:userId',
    { config: { permission: 'admin' }, schema: { tags, summary: 'Disable or enable an account, or give or take the administrator role (not your own).', params: S.UserIdParams, body: S.AccountChanges, response: { 200: S.User } } },
    async (request) => changeAccount(accounts, request.params.userId, request.body, by(request)),
  );

  app.post(
    '/api/v1/admin/users/:userId/password-link',
    {
      config: { permission: 'admin' },
      schema: { tags, summary: 'A new link where the account\'s owner sets a new password (replaces an earlier link; the password changes only when it is used).', params: S.UserIdParams, response: { 201: S.PasswordLink } },
    },
    async (request, reply) => reply.status(201).send(await createPasswordLink(accounts, request.params.userId, by(request))),
  );
}
