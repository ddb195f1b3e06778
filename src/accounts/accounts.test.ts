import { createHash } from 'node:crypto';
import { hash as bcryptHash } from '@node-rs/bcrypt';
import { Type } from 'typebox';
import { beforeAll, describe, expect, it } from 'vitest';
import { describeEachDatabase, type DatabaseKind } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer, type TestServer } from '../../test/support/server.js';
import { ensureSecretKey } from '../config/secret-key.js';
import { domainRoutes, type RouteModule } from '../server/app.js';
import { createAccountsContext, type AccountsContext } from './context.js';
import { passwordHashEvaluations } from './passwords.js';
import { totpCode } from './totp.js';
import { createUser, importUsers, setDisabled } from './users.js';

const PASSWORD = 'quiet lantern orbit 7 meadow';
const OTHER_PASSWORD = 'copper fjord ballast 19 tundra';

/** Fast hashing, and client addresses taken from X-Forwarded-For so each test is its own client. */
const testSettings = { FIELDKEEP_PASSWORD_ITERATIONS: '1000', FIELDKEEP_TRUST_PROXY: 'true' };

const probeRoutes: RouteModule = (app) => {
  app.get('/test/admin', { config: { permission: 'admin' }, schema: { response: { 200: Type.Object({ ok: Type.Boolean() }) } } }, async () => ({ ok: true }));
};

type Headers = Record<string, string>;

function harness(env: () => TestServer) {
  let clientNumber = 0;
  const secrets: string[] = [];
  const accounts = (): AccountsContext => createAccountsContext(env().server.database, ensureSecretKey(env().config), { info: () => {} });
  return {
    secrets,
    accounts,
    db: () => env().server.database.db,
    url: (path: string) => `${env().url}${path}`,
    /** Headers of a new, distinct client address (the throttle counts per address). */
    client: (extra: Headers = {}): Headers => ({ 'x-forwarded-for': `10.7.${Math.floor(++clientNumber / 250)}.${clientNumber % 250}`, ...extra }),
    makeUser: async (username: string, options: { email?: string; admin?: boolean; password?: string } = {}) => {
      const password = options.password ?? PASSWORD;
      const user = await createUser(accounts(), { username, email: options.email ?? `${username}@example.org`, password, isAdmin: options.admin ?? false }, { actorLabel: 'cli' });
      return { ...user, password };
    },
    remember: (...values: string[]) => secrets.push(...values),
  };
}

function sessionCookieOf(response: { headers: globalThis.Headers }): string {
  const header = response.headers.get('set-cookie') ?? '';
  return header.split(';')[0] ?? '';
}

async function signIn(h: ReturnType<typeof harness>, username: string, password: string, from: Headers, extra: Record<string, string> = {}) {
  const response = await call(h.url('/api/v1/sessions'), 'POST', from, { username, password, ...extra });
  const headers: Headers = { ...from, cookie: sessionCookieOf(response), 'x-csrf-token': response.body?.csrfToken ?? '' };
  if (response.status === 201) h.remember(headers.cookie!.split('=')[1]!, headers['x-csrf-token']!);
  return { response, headers };
}

describeEachDatabase('accounts over HTTP', (kind: DatabaseKind) => {
  const env = useTestServer(kind, testSettings, [...domainRoutes, probeRoutes]);
  const h = harness(env);
  const auditRows = (action: string) => h.db().selectFrom('audit_log').selectAll().where('action', '=', action).orderBy('id').execute();

  it('logs how to create the first admin when no account exists', () => {
    const line = env().logs.find((l) => String(l.msg).includes('No accounts exist yet'));
    expect(line?.msg).toContain('fieldkeep user create --username NAME --email EMAIL --admin');
  });

  describe('sign-in and sessions', () => {
    beforeAll(async () => {
      await h.makeUser('alice', { email: 'Alice@Example.org' });
    });

    it('signs in by username or email (any case), sets an HttpOnly SameSite=Lax cookie and returns a CSRF token', async () => {
      const byName = await signIn(h, 'alice', PASSWORD, h.client({ 'user-agent': 'test-browser/1' }));
      expect(byName.response.status).toBe(201);
      expect(byName.response.body).toMatchObject({ user: { username: 'alice', email: 'Alice@Example.org', isAdmin: false }, csrfToken: expect.stringMatching(/^[0-9a-f]{64}$/) });
      const cookie = byName.response.headers.get('set-cookie')!;
      // Plain HTTP in development: the plain-named cookie, without Secure (browsers would drop a Secure one).
      expect(cookie).toMatch(/^fieldkeep_session=[A-Za-z0-9]{43}; Max-Age=\d+; Path=\/; HttpOnly; SameSite=Lax$/);
      expect(byName.response.headers.get('cache-control')).toBe('no-store');
      const me = await call(h.url('/api/v1/users/me'), 'GET', byName.headers);
      expect(me.body).toMatchObject({ username: 'alice' });

      const byEmail = await signIn(h, '  ALICE@example.ORG ', PASSWORD, h.client());
      expect(byEmail.response.status).toBe(201);
      expect(byEmail.headers.cookie).not.toBe(byName.headers.cookie);
    });

    it('stores only the SHA-256 of the session token', async () => {
      const { headers } = await signIn(h, 'alice', PASSWORD, h.client());
      const token = headers.cookie!.split('=')[1]!;
      const rows = await h.db().selectFrom('sessions').selectAll().execute();
      expect(rows.some((r) => r.token_hash === createHash('sha256').update(token).digest('hex'))).toBe(true);
      expect(JSON.stringify(rows)).not.toContain(token);
    });

    it('requires the CSRF token on state-changing cookie requests', async () => {
      const { headers } = await signIn(h, 'alice', PASSWORD, h.client());
      const { 'x-csrf-token': csrf, ...withoutCsrf } = headers;
      expect((await call(h.url('/api/v1/sessions'), 'GET', withoutCsrf)).status).toBe(200);
      const missing = await call(h.url('/api/v1/sessions'), 'DELETE', withoutCsrf);
      expect(missing).toMatchObject({ status: 403, body: { code: 'session.csrf_invalid' } });
      const wrong = await call(h.url('/api/v1/users/me'), 'PATCH', { ...withoutCsrf, 'x-csrf-token': 'f'.repeat(64) }, { email: 'x@example.org' });
      expect(wrong).toMatchObject({ status: 403, body: { code: 'session.csrf_invalid' } });
      const current = await call(h.url('/api/v1/sessions/current'), 'GET', withoutCsrf);
      expect(current.body.csrfToken).toBe(csrf);
      expect((await call(h.url('/api/v1/sessions/current'), 'DELETE', headers)).status).toBe(204);
    });

    it('logs out on the server: the cookie is dead afterwards, as are forged and malformed ones', async () => {
      const { headers } = await signIn(h, 'alice', PASSWORD, h.client());
      const out = await call(h.url('/api/v1/sessions/current'), 'DELETE', headers);
      expect(out.status).toBe(204);
      expect(out.headers.get('set-cookie')).toMatch(/^fieldkeep_session=; Max-Age=0/);
      expect(await call(h.url('/api/v1/users/me'), 'GET', headers)).toMatchObject({ status: 401, body: { code: 'auth.required' } });
      for (const cookie of [`fieldkeep_session=${'A'.repeat(43)}`, 'fieldkeep_session=short', 'fieldkeep_session=%00%zz']) {
        expect((await call(h.url('/api/v1/users/me'), 'GET', { cookie })).status).toBe(401);
      }
    });

    it('lists sessions, ends one, and ends all', async () => {
      const first = await signIn(h, 'alice', PASSWORD, h.client({ 'user-agent': 'phone' }));
      const second = await signIn(h, 'alice', PASSWORD, h.client());
      const listed = await call(h.url('/api/v1/sessions'), 'GET', second.headers);
      expect(listed.body.filter((s: { current: boolean }) => s.current)).toHaveLength(1);
      const firstRow = listed.body.find((s: { userAgent: string | null }) => s.userAgent === 'phone');
      expect(firstRow).toMatchObject({ address: expect.stringMatching(/^10\.7\./), current: false });
      expect((await call(h.url(`/api/v1/sessions/${firstRow.id}`), 'DELETE', second.headers)).status).toBe(204);
      expect((await call(h.url('/api/v1/users/me'), 'GET', first.headers)).status).toBe(401);
      expect((await call(h.url(`/api/v1/sessions/${firstRow.id}`), 'DELETE', second.headers)).body.code).toBe('session.not_found');
      const all = await call(h.url('/api/v1/sessions'), 'DELETE', second.headers);
      expect(all.body.ended).toBeGreaterThanOrEqual(1);
      expect((await call(h.url('/api/v1/users/me'), 'GET', second.headers)).status).toBe(401);
    });

    it('ends a session after the idle timeout and after its absolute lifetime', async () => {
      const idle = await signIn(h, 'alice', PASSWORD, h.client());
      const absolute = await signIn(h, 'alice', PASSWORD, h.client());
      const hashOf = (headers: Headers) => createHash('sha256').update(headers.cookie!.split('=')[1]!).digest('hex');
      const longAgo = new Date(Date.now() - 121 * 60_000).toISOString();
      await h.db().updateTable('sessions').set({ last_seen_at: longAgo }).where('token_hash', '=', hashOf(idle.headers)).execute();
      await h.db().updateTable('sessions').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('token_hash', '=', hashOf(absolute.headers)).execute();
      expect((await call(h.url('/api/v1/users/me'), 'GET', idle.headers)).status).toBe(401);
      expect((await call(h.url('/api/v1/users/me'), 'GET', absolute.headers)).status).toBe(401);
      const left = await h.db().selectFrom('sessions').select('id').where('token_hash', 'in', [hashOf(idle.headers), hashOf(absolute.headers)]).execute();
      expect(left).toEqual([]);
    });

    it('refuses bad sign-in bodies with request.invalid, and wrong or unknown names alike', async () => {
      const post = (body: unknown) => call(h.url('/api/v1/sessions'), 'POST', h.client(), body);
      for (const body of [
        { username: 'alice', password: '' },
        { username: 'alice', password: 'x'.repeat(5000) },
        { username: '', password: PASSWORD },
        { password: PASSWORD },
        { username: 'alice', password: PASSWORD, admin: true },
      ]) {
        expect((await post(body)).body.code).toBe('request.invalid');
      }
      const wrong = await post({ username: 'alice', password: 'not the password' });
      const unknown = await post({ username: 'nobody-here', password: 'not the password' });
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      expect({ ...wrong.body, requestId: undefined }).toEqual({ ...unknown.body, requestId: undefined });
    });

    it('spends the same hash work on an unknown name as on a known one', async () => {
      const count = async (username: string) => {
        const before = passwordHashEvaluations();
        await call(h.url('/api/v1/sessions'), 'POST', h.client(), { username, password: 'wrong password here' });
        return passwordHashEvaluations() - before;
      };
      expect(await count('alice')).toBe(1);
      expect(await count('no-such-user')).toBe(1);
    });

    it('verifies the password exactly as typed: a 100-byte password that differs after byte 72 fails', async () => {
      const long = 'quiet lantern orbit 7 meadow copper fjord ballast 19 tundra walrus pepper mango kettle violet 42 harbour'.slice(0, 100);
      expect(Buffer.byteLength(long)).toBe(100);
      await h.makeUser('longpass', { password: long });
      expect((await signIn(h, 'longpass', `${long.slice(0, 72)}${'z'.repeat(28)}`, h.client())).response.status).toBe(401);
      expect((await signIn(h, 'longpass', long, h.client())).response.status).toBe(201);
    });

    it('upgrades an imported hash to the current format at the next successful sign-in', async () => {
      const imported = await bcryptHash(OTHER_PASSWORD, 4);
      await importUsers(h.accounts(), [{ line: 2, username: 'frommigration', email: null, hash: imported, isAdmin: false }], { actorLabel: 'cli' });
      expect((await signIn(h, 'frommigration', OTHER_PASSWORD, h.client())).response.status).toBe(201);
      const row = await h.db().selectFrom('users').select('password_hash').where('username', '=', 'frommigration').executeTakeFirstOrThrow();
      expect(row.password_hash).toMatch(/^pbkdf2_sha256\$1000\$[A-Za-z0-9]{22}\$/);
      expect((await signIn(h, 'frommigration', OTHER_PASSWORD, h.client())).response.status).toBe(201);
    });

    it('audits every attempt with time (UTC), address, user agent and outcome', async () => {
      await signIn(h, 'alice', 'wrong password again', h.client({ 'user-agent': 'audit-probe' }));
      const failed = (await auditRows('user.login_failed')).find((r) => r.user_agent === 'audit-probe');
      expect(failed).toMatchObject({ actor_label: 'alice', address: expect.stringMatching(/^10\.7\./), at: expect.stringMatching(/Z$/) });
      expect(JSON.parse(failed!.details)).toMatchObject({ reason: 'wrong password', purpose: 'sign-in' });
      expect((await auditRows('user.login')).length).toBeGreaterThan(0);
    });
  });

  describe('throttling', () => {
    it('slows an account down after 5 failures, answering 429 with Retry-After at once, and locks it after 15', async () => {
      const user = await h.makeUser('target');
      const guess = (password: string) => signIn(h, 'target', password, h.client()).then((r) => r.response);
      for (let i = 0; i < 5; i += 1) expect((await guess('wrong guess number')).status).toBe(401);
      const before = passwordHashEvaluations();
      const throttled = await guess(PASSWORD);
      expect(throttled).toMatchObject({ status: 429, body: { code: 'auth.throttled', retryAfterSeconds: 1 } });
      expect(throttled.headers.get('retry-after')).toBe('1');
      expect(throttled.body.detail).toMatch(/Try again in 1 second/);
      expect(passwordHashEvaluations()).toBe(before);
      // 14 failures, the last 10 minutes ago: the 512 s wait is over, and one more failure locks the account.
      const key = `user:${user.id}`;
      await h.db().updateTable('login_throttle').set({ failures: 14, last_failure_at: new Date(Date.now() - 600_000).toISOString() }).where('key', '=', key).execute();
      expect((await guess('wrong guess again')).status).toBe(401);
      const locked = await guess(PASSWORD);
      expect(locked).toMatchObject({ status: 429, body: { code: 'auth.locked' } });
      expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(1790);
      expect((await auditRows('user.locked')).some((r) => r.resource_id === String(user.id))).toBe(true);
      expect((await auditRows('user.login_throttled')).length).toBeGreaterThan(0);
      // The lock ends; failures are forgotten and the right password works.
      await h.db().updateTable('login_throttle').set({ last_failure_at: new Date(Date.now() - 31 * 60_000).toISOString() }).where('key', '=', key).execute();
      expect((await guess(PASSWORD)).status).toBe(201);
    });

    it('throttles and locks a name that does not exist exactly like one that does', async () => {
      const guess = () => signIn(h, 'ghost-account', 'wrong guess number', h.client()).then((r) => r.response);
      for (let i = 0; i < 5; i += 1) expect((await guess()).status).toBe(401);
      expect((await guess()).body.code).toBe('auth.throttled');
      await h.db().updateTable('login_throttle').set({ failures: 14, last_failure_at: new Date(Date.now() - 600_000).toISOString() }).where('key', 'like', 'name:%').execute();
      expect((await guess()).status).toBe(401);
      const locked = await guess();
      expect(locked.body.code).toBe('auth.locked');
    });

    it('lets many people behind one address sign in at once with their right passwords', async () => {
      const address = h.client();
      const names = Array.from({ length: 8 }, (_, i) => `office-${i}`);
      for (const name of names) await h.makeUser(name);
      for (let round = 0; round < 5; round += 1) {
        const answers = await Promise.all(names.map((name) => signIn(h, name, PASSWORD, address)));
        expect(answers.map((answer) => answer.response.status)).toEqual(names.map(() => 201));
      }
    });

    it('throttles a client address that tries many accounts', async () => {
      const address = h.client();
      for (let i = 0; i < 20; i += 1) expect((await signIn(h, `spray-${i}`, 'password1234', address)).response.status).toBe(401);
      await h.makeUser('sprayed');
      const refused = await signIn(h, 'sprayed', PASSWORD, address);
      expect(refused.response).toMatchObject({ status: 429, body: { code: 'auth.throttled' } });
      expect((await signIn(h, 'sprayed', PASSWORD, h.client())).response.status).toBe(201);
    });
  });

  describe('two-factor', () => {
    let secret: string;
    let recoveryCodes: string[];
    let headers: Headers;

    it('enrols with re-authentication, a QR code and a confirmation code, then gives 10 recovery codes', async () => {
      await h.makeUser('tess');
      headers = (await signIn(h, 'tess', PASSWORD, h.client())).headers;
      expect((await call(h.url('/api/v1/users/me/two-factor'), 'POST', headers, { currentPassword: 'wrong one' })).body.code).toBe('auth.reauthentication_failed');
      const start = await call(h.url('/api/v1/users/me/two-factor'), 'POST', headers, { currentPassword: PASSWORD });
      expect(start.status).toBe(201);
      secret = start.body.secret;
      h.remember(secret);
      expect(start.body.otpauthUri).toMatch(/^otpauth:\/\/totp\/Fieldkeep:tess\?/);
      expect(start.body.qrSvg).toContain('<svg');
      expect((await call(h.url('/api/v1/users/me/two-factor/confirm'), 'POST', headers, { code: '000000' })).body.code).toBe('auth.totp_invalid');
      const confirmed = await call(h.url('/api/v1/users/me/two-factor/confirm'), 'POST', headers, { code: totpCode(secret) });
      expect(confirmed.status).toBe(200);
      recoveryCodes = confirmed.body.recoveryCodes;
      expect(recoveryCodes).toHaveLength(10);
      const row = await h.db().selectFrom('users').selectAll().where('username', '=', 'tess').executeTakeFirstOrThrow();
      expect(row.totp_secret).not.toContain(secret);
      expect(JSON.stringify(await h.db().selectFrom('recovery_codes').selectAll().execute())).not.toContain(recoveryCodes[0]!.replace('-', ''));
    });

    it('asks for the code at sign-in, refuses wrong and reused codes, accepts a recovery code once', async () => {
      expect((await signIn(h, 'tess', PASSWORD, h.client())).response.body.code).toBe('auth.totp_required');
      expect((await signIn(h, 'tess', PASSWORD, h.client(), { totp: '123456' })).response.body.code).toBe('auth.totp_invalid');
      const next = totpCode(secret, { now: Date.now() + 30_000 });
      expect((await signIn(h, 'tess', PASSWORD, h.client(), { totp: next })).response.status).toBe(201);
      expect((await signIn(h, 'tess', PASSWORD, h.client(), { totp: next })).response.body.code).toBe('auth.totp_invalid');
      expect((await signIn(h, 'tess', PASSWORD, h.client(), { totp: recoveryCodes[0]! })).response.status).toBe(201);
      expect((await signIn(h, 'tess', PASSWORD, h.client(), { totp: recoveryCodes[0]! })).response.body.code).toBe('auth.totp_invalid');
      expect((await auditRows('user.recovery_code_used')).length).toBe(1);
    });

    it('refuses HTTP Basic with the password alone for a two-factor account', async () => {
      const basic = `Basic ${Buffer.from(`tess:${PASSWORD}`).toString('base64')}`;
      const answer = await call(h.url('/api/v1/users/me'), 'GET', { authorization: basic });
      expect(answer).toMatchObject({ status: 401, body: { code: 'auth.basic_two_factor' } });
    });

    it('turns off only with the password and a current code', async () => {
      const url = h.url('/api/v1/users/me/two-factor');
      expect((await call(url, 'DELETE', headers, { currentPassword: PASSWORD })).body.code).toBe('auth.reauthentication_failed');
      expect((await call(url, 'DELETE', headers, { currentPassword: PASSWORD, totp: '000000' })).body.code).toBe('auth.reauthentication_failed');
      expect((await call(url, 'DELETE', headers, { currentPassword: PASSWORD, totp: recoveryCodes[1]! })).status).toBe(204);
      expect((await signIn(h, 'tess', PASSWORD, h.client())).response.status).toBe(201);
    });

    it('keeps administrators without two-factor out of admin routes until they enrol', async () => {
      await h.makeUser('root', { admin: true });
      const admin = await signIn(h, 'root', PASSWORD, h.client());
      expect(await call(h.url('/test/admin'), 'GET', admin.headers)).toMatchObject({ status: 403, body: { code: 'auth.two_factor_enrolment_required' } });
      const start = await call(h.url('/api/v1/users/me/two-factor'), 'POST', admin.headers, { currentPassword: PASSWORD });
      await call(h.url('/api/v1/users/me/two-factor/confirm'), 'POST', admin.headers, { code: totpCode(start.body.secret) });
      expect(await call(h.url('/test/admin'), 'GET', admin.headers)).toMatchObject({ status: 200, body: { ok: true } });
    });
  });

  describe('the account itself', () => {
    let headers: Headers;
    beforeAll(async () => {
      await h.makeUser('maria');
      await h.makeUser('taken');
      headers = (await signIn(h, 'maria', PASSWORD, h.client())).headers;
    });

    it('changes the email only after re-authentication', async () => {
      const url = h.url('/api/v1/users/me');
      expect((await call(url, 'PATCH', headers, { email: 'new@example.org' })).body.code).toBe('auth.reauthentication_failed');
      expect((await call(url, 'PATCH', headers, { email: 'new@example.org', currentPassword: 'wrong' })).body.code).toBe('auth.reauthentication_failed');
      expect((await call(url, 'PATCH', headers, { email: 'taken@example.org', currentPassword: PASSWORD })).body.code).toBe('user.email_taken');
      expect((await call(url, 'PATCH', headers, { email: 'not an email', currentPassword: PASSWORD })).body.code).toBe('request.invalid');
      const changed = await call(url, 'PATCH', headers, { email: 'new@example.org', currentPassword: PASSWORD });
      expect(changed).toMatchObject({ status: 200, body: { email: 'new@example.org' } });
    });

    it('applies the password policy to a new password', async () => {
      const change = (newPassword: string) => call(h.url('/api/v1/users/me'), 'PATCH', headers, { newPassword, currentPassword: PASSWORD }).then((r) => r.body.code);
      expect(await change('short')).toBe('password.too_short');
      expect(await change('é'.repeat(600))).toBe('password.too_long');
      expect(await change('password123')).toBe('password.too_weak');
      expect(await change('maria-maria-maria')).toBe('password.contains_identity');
      expect(await change('x'.repeat(1025))).toBe('request.invalid');
    });

    it('a password change ends every other session and keeps this one', async () => {
      const other = await signIn(h, 'maria', PASSWORD, h.client());
      const changed = await call(h.url('/api/v1/users/me'), 'PATCH', headers, { newPassword: OTHER_PASSWORD, currentPassword: PASSWORD });
      expect(changed.status).toBe(200);
      expect((await call(h.url('/api/v1/users/me'), 'GET', other.headers)).status).toBe(401);
      expect((await call(h.url('/api/v1/users/me'), 'GET', headers)).status).toBe(200);
      expect((await signIn(h, 'maria', OTHER_PASSWORD, h.client())).response.status).toBe(201);
    });

    it('deletes the account after re-authentication, unless it owns projects', async () => {
      const project = await call(h.url('/api/v1/projects'), 'POST', headers, { name: 'Owned' });
      expect(project.status).toBe(201);
      const url = h.url('/api/v1/users/me');
      expect((await call(url, 'DELETE', headers, { currentPassword: 'wrong' })).body.code).toBe('auth.reauthentication_failed');
      expect((await call(url, 'DELETE', headers, { currentPassword: OTHER_PASSWORD })).body.code).toBe('user.owns_projects');
      await h.makeUser('leaver');
      const leaver = await signIn(h, 'leaver', PASSWORD, h.client());
      expect((await call(url, 'DELETE', leaver.headers, { currentPassword: PASSWORD })).status).toBe(204);
      expect((await signIn(h, 'leaver', PASSWORD, h.client())).response.status).toBe(401);
      expect((await auditRows('user.deleted')).length).toBe(1);
    });
  });

  describe('password reset by email', () => {
    const mailed = () => {
      const line = [...env().logs].reverse().find((l) => String(l.msg).startsWith('email not sent'));
      return /#token=([A-Za-z0-9]+)/.exec(String((line?.email as { text?: string } | undefined)?.text))?.[1];
    };

    it('answers the same whether or not the account exists, and mails a link only when it does', async () => {
      await h.makeUser('rosa', { email: 'rosa@example.org' });
      const before = env().logs.length;
      const unknown = await call(h.url('/api/v1/password-resets'), 'POST', h.client(), { email: 'nobody@example.org' });
      expect(env().logs.slice(before).some((l) => String(l.msg).startsWith('email not sent'))).toBe(false);
      const known = await call(h.url('/api/v1/password-resets'), 'POST', h.client(), { email: 'ROSA@example.org' });
      expect(known.status).toBe(202);
      expect({ ...known.body }).toEqual({ ...unknown.body });
      await expect.poll(mailed).toMatch(/^[A-Za-z0-9]{43}$/);
    });

    it('sets the password with a single-use token, ends every session, and refuses forged, reused and expired tokens', async () => {
      const session = await signIn(h, 'rosa', PASSWORD, h.client());
      const token = mailed()!;
      const confirm = (body: Record<string, string>) => call(h.url('/api/v1/password-resets/confirm'), 'POST', h.client(), body);
      expect((await confirm({ token, newPassword: 'short' })).body.code).toBe('password.too_short');
      expect((await confirm({ token: 'A'.repeat(43), newPassword: OTHER_PASSWORD })).body.code).toBe('password.reset_invalid');
      expect((await confirm({ token: 'not a token', newPassword: OTHER_PASSWORD })).body.code).toBe('password.reset_invalid');
      expect((await confirm({ token, newPassword: OTHER_PASSWORD })).status).toBe(204);
      expect((await call(h.url('/api/v1/users/me'), 'GET', session.headers)).status).toBe(401);
      expect((await confirm({ token, newPassword: 'another fine passphrase 12' })).body.code).toBe('password.reset_invalid');
      expect((await signIn(h, 'rosa', OTHER_PASSWORD, h.client())).response.status).toBe(201);

      await call(h.url('/api/v1/password-resets'), 'POST', h.client(), { email: 'rosa@example.org' });
      await expect.poll(() => mailed() !== token).toBe(true);
      await h.db().updateTable('password_resets').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).execute();
      expect((await confirm({ token: mailed()!, newPassword: 'another fine passphrase 12' })).body.code).toBe('password.reset_invalid');
    });

    it('throttles repeated reset requests for one address, known or not, with 429 and Retry-After', async () => {
      await h.makeUser('tessa', { email: 'tessa@example.org' });
      const from = h.client();
      for (const email of ['tessa@example.org', 'nobody-else@example.org']) {
        const answers = [];
        for (let i = 0; i < 6; i++) answers.push(await call(h.url('/api/v1/password-resets'), 'POST', from, { email }));
        expect(answers.slice(0, 5).every((a) => a.status === 202)).toBe(true);
        expect(answers[5]).toMatchObject({ status: 429, body: { code: 'auth.throttled' } });
        expect(Number(answers[5]!.headers.get('retry-after'))).toBeGreaterThan(0);
      }
    });
  });

  describe('API tokens and HTTP Basic', () => {
    let session: Headers;
    beforeAll(async () => {
      await h.makeUser('api-user');
      session = (await signIn(h, 'api-user', PASSWORD, h.client())).headers;
    });

    it('creates a token shown once and stored hashed; Bearer and Token both work; read-only tokens cannot write', async () => {
      const created = await call(h.url('/api/v1/tokens'), 'POST', session, { name: 'dashboard' });
      expect(created).toMatchObject({ status: 201, body: { name: 'dashboard', scope: 'read', token: expect.stringMatching(/^fk_pat_[A-Za-z0-9]{43}$/), expiresAt: null } });
      const token: string = created.body.token;
      h.remember(token);
      expect(JSON.stringify(await h.db().selectFrom('api_tokens').selectAll().execute())).not.toContain(token);
      expect((await call(h.url('/api/v1/users/me'), 'GET', { authorization: `Bearer ${token}` })).body.username).toBe('api-user');
      expect((await call(h.url('/api/v1/users/me'), 'GET', { authorization: `Token ${token}` })).body.username).toBe('api-user');
      const write = await call(h.url('/api/v1/sessions'), 'DELETE', { authorization: `Bearer ${token}` });
      expect(write.body.code).toBe('auth.token_read_only');
      const listed = await call(h.url('/api/v1/tokens'), 'GET', session);
      expect(listed.body[0]).toMatchObject({ name: 'dashboard', lastUsedAt: expect.any(String) });
      expect(listed.body[0].token).toBeUndefined();
    });

    it('refuses to mint a token with a token, and refuses revoked, expired, forged and malformed tokens', async () => {
      const write = await call(h.url('/api/v1/tokens'), 'POST', session, { name: 'script', scope: 'write', expiresInDays: 30 });
      const bearer = { authorization: `Bearer ${write.body.token}` };
      h.remember(write.body.token);
      expect((await call(h.url('/api/v1/tokens'), 'POST', bearer, { name: 'child' })).body.code).toBe('token.session_required');
      for (const authorization of ['Bearer fk_pat_short', `Bearer fk_pat_${'A'.repeat(43)}`, 'Bearer', 'Token abc']) {
        expect((await call(h.url('/api/v1/users/me'), 'GET', { authorization })).status).toBe(401);
      }
      await h.db().updateTable('api_tokens').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', write.body.id).execute();
      expect((await call(h.url('/api/v1/users/me'), 'GET', bearer)).body.code).toBe('auth.invalid_token');
      const another = await call(h.url('/api/v1/tokens'), 'POST', session, { name: 'to revoke' });
      expect((await call(h.url(`/api/v1/tokens/${another.body.id}`), 'DELETE', session)).status).toBe(204);
      expect((await call(h.url('/api/v1/users/me'), 'GET', { authorization: `Bearer ${another.body.token}` })).body.code).toBe('auth.invalid_token');
      expect((await call(h.url(`/api/v1/tokens/${another.body.id}`), 'DELETE', session)).body.code).toBe('token.not_found');
    });

    it('accepts Basic from loopback in development, caches the verification, and challenges a wrong password', async () => {
      await h.makeUser('phone');
      const basic = { authorization: `Basic ${Buffer.from(`phone:${PASSWORD}`).toString('base64')}` };
      const before = passwordHashEvaluations();
      expect((await call(h.url('/api/v1/users/me'), 'GET', basic)).body.username).toBe('phone');
      expect((await call(h.url('/api/v1/users/me'), 'GET', basic)).body.username).toBe('phone');
      expect(passwordHashEvaluations() - before).toBe(1);
      const wrong = await call(h.url('/api/v1/users/me'), 'GET', { authorization: `Basic ${Buffer.from('phone:nope nope nope').toString('base64')}` });
      expect(wrong.status).toBe(401);
      expect(wrong.headers.get('www-authenticate')).toBe('Basic realm="Fieldkeep", charset="UTF-8"');
      expect((await call(h.url('/api/v1/users/me'), 'GET', { authorization: 'Basic !!!' })).status).toBe(401);
    });

    it('accepts Basic only over TLS from other addresses', async () => {
      const basic = { authorization: `Basic ${Buffer.from(`phone:${PASSWORD}`).toString('base64')}` };
      expect((await call(h.url('/api/v1/users/me'), 'GET', { ...basic, ...h.client() })).body.code).toBe('auth.basic_insecure');
      expect((await call(h.url('/api/v1/users/me'), 'GET', { ...basic, ...h.client({ 'x-forwarded-proto': 'https' }) })).status).toBe(200);
    });

    it('stops a disabled user\'s sessions, tokens and cached Basic credential at once', async () => {
      await h.makeUser('leaving');
      const leaving = await signIn(h, 'leaving', PASSWORD, h.client());
      const token = (await call(h.url('/api/v1/tokens'), 'POST', leaving.headers, { name: 't' })).body.token;
      const basic = { authorization: `Basic ${Buffer.from(`leaving:${PASSWORD}`).toString('base64')}` };
      expect((await call(h.url('/api/v1/users/me'), 'GET', basic)).status).toBe(200);
      await setDisabled(h.accounts(), 'leaving', true, { actorLabel: 'cli' });
      expect((await call(h.url('/api/v1/users/me'), 'GET', leaving.headers)).status).toBe(401);
      expect((await call(h.url('/api/v1/users/me'), 'GET', { authorization: `Bearer ${token}` })).status).toBe(401);
      expect((await call(h.url('/api/v1/users/me'), 'GET', basic)).body.code).toBe('auth.account_disabled');
      expect((await signIn(h, 'leaving', PASSWORD, h.client())).response.body.code).toBe('auth.account_disabled');
    });
  });

  it('never writes a password, session or CSRF token, API token or TOTP secret to the log', () => {
    const log = env().rawLogs.join('\n');
    expect(h.secrets.length).toBeGreaterThan(10);
    for (const secret of [PASSWORD, OTHER_PASSWORD, ...h.secrets]) expect(log).not.toContain(secret);
  });
});

describeEachDatabase('accounts in production behind TLS', (kind) => {
  const env = useTestServer(kind, { ...testSettings, FIELDKEEP_ENV: 'production', FIELDKEEP_SECRET_KEY: 'k'.repeat(48) });
  const h = harness(env);
  const tls = { 'x-forwarded-proto': 'https' };

  it('refuses browser sign-in over plain HTTP', async () => {
    await h.makeUser('prod');
    const answer = await call(h.url('/api/v1/sessions'), 'POST', h.client(), { username: 'prod', password: PASSWORD });
    expect(answer).toMatchObject({ status: 403, body: { code: 'session.insecure_transport' } });
  });

  it('sets a __Host- cookie with Secure over HTTPS, and reads it only over HTTPS', async () => {
    const { response, headers } = await signIn(h, 'prod', PASSWORD, h.client(tls));
    expect(response.headers.get('set-cookie')).toMatch(/^__Host-fieldkeep_session=[A-Za-z0-9]{43}; Max-Age=\d+; Path=\/; HttpOnly; Secure; SameSite=Lax$/);
    expect(response.headers.get('strict-transport-security')).toContain('max-age=31536000');
    expect((await call(h.url('/api/v1/users/me'), 'GET', headers)).status).toBe(200);
    const { 'x-forwarded-proto': _, ...plain } = headers;
    expect((await call(h.url('/api/v1/users/me'), 'GET', plain)).status).toBe(401);
    const renamed = { ...headers, cookie: headers.cookie!.replace('__Host-', '') };
    expect((await call(h.url('/api/v1/users/me'), 'GET', renamed)).status).toBe(401);
  });

  it('refuses Basic over plain HTTP even from loopback', async () => {
    const answer = await call(h.url('/api/v1/users/me'), 'GET', { authorization: `Basic ${Buffer.from(`prod:${PASSWORD}`).toString('base64')}` });
    expect(answer.body.code).toBe('auth.basic_insecure');
  });
});

