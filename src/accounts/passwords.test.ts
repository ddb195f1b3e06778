import { pbkdf2Sync } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccountsError } from './errors.js';
import {
  DEFAULT_PBKDF2_ITERATIONS,
  dummyVerify,
  hashPassword,
  inspectPasswordHash,
  passwordHashEvaluations,
  verifyPassword,
} from './passwords.js';

const FAST = { iterations: 1000 };

/**
 * Known answers. INTEROP.md section E gives the first three; the rest were made with Django 3.2.25,
 * python3-bcrypt 3.2.2 and python3-argon2 21.1.0 (Debian 12), independently of the code under test.
 */
const VECTORS = {
  interop600k: 'pbkdf2_sha256$600000$seasalt1234$7vCzSTVVhGus9fiU3hF+ic8CoQN4M84QRAShCN4hR5o=',
  interop260k: 'pbkdf2_sha256$260000$seasalt1234$GxXMaANP8hhZ9x3PB5I1MgrwZZuPtIgkeO5F909avOQ=',
  interopSha1: 'pbkdf2_sha1$260000$seasalt1234$bRd9MyJegL/sP4xVabqdMBx+jko=',
  djangoNonAscii: 'pbkdf2_sha256$260000$seasalt$YlZ2Vggtqdc61YjArZuoApoBh9JNGYoDRBUGu6tcJQo=', // 'lètmein'
  unicode22Salt: 'pbkdf2_sha256$1000$aTMILpT6Y3Ku5tQiTcl4xb$riadw4lDURg/sXO5bSvGPFcrhgIFlHtGIaDobpHEupA=', // 'pässwörd ☃'
  sha1OldSalt: 'pbkdf2_sha1$10000$oldsalt12345$4KwTllPur9dGRtgKaXNH4jG7u0M=',
  bcryptSha256: 'bcrypt_sha256$$2b$12$KLvOUAQmpQ1IsfWnCRFpvO3pRs87B6T1PArNarRAywEWObX/T2W1K',
  djangoBcrypt: 'bcrypt$$2b$12$NlJmkz.gXmThqdmNPRsEDuCfZxGlDazIS5EXPz0ASbbl.r3Ech81m',
  bare2y: '$2y$04$gZ119QzulPzVWE6.3h6Whu0og8AAaxW6v4Ou5CndGgwOqusdec3Sa',
  bare2a: '$2a$05$Vk.9VU50AM1Q2w4oAj9VwO5NDWDsXVQlj34QlNwa5NWauv4/YbPc6',
  bare2bUnicode: '$2b$04$BHzXlrlE/QICoQUPpQJweuxDSFDTAPhKn7DnTkM5AO4SZ8vjns6tO', // 'lètmein ☃'
  argon2id: 'argon2$argon2id$v=19$m=102400,t=2,p=8$c2Vhc2FsdDEyMzQ$5FBWXED7IkRU7VpBwwUuWw',
  argon2i: 'argon2$argon2i$v=19$m=512,t=2,p=2$EBbdCOpdN10qaHFxtIkLcw$al3+W1M7vrV8jrXFxi4haw',
  argon2iVersion16: 'argon2$argon2i$m=512,t=2,p=2$b2xkc2FsdHNhbHQx$yUKhw/7L4di8AumZCRLk1w',
  // 100-byte passwords ('x' × 72 + 'A' × 28), Django's bcrypt_sha256 and Python's (truncating) plain bcrypt.
  bcryptSha256Long: 'bcrypt_sha256$$2b$10$THq33qM7MD7NQnSJxLp6FuqTZCbxrUmeyaxKhTJ/agFJZcRS5ILgW',
  plainBcryptLong: '$2b$04$GlqgXbjOrCc3C7FA9fi.4.f8FnmxAMqtky/cRW0IhVX9XlOYI4QYu',
};

const LONG_A = 'x'.repeat(72) + 'A'.repeat(28);
const LONG_B = 'x'.repeat(72) + 'B'.repeat(28);

describe('hashPassword', () => {
  it("writes Django's exact pbkdf2_sha256 format", async () => {
    const encoded = await hashPassword('correct horse battery', FAST);
    expect(encoded).toMatch(/^pbkdf2_sha256\$1000\$[a-zA-Z0-9]{22}\$[A-Za-z0-9+/]{43}=$/);
  });

  it('computes PBKDF2-HMAC-SHA256 of the UTF-8 password and salt, 32 bytes, base64', async () => {
    const password = 'pässwörd ☃';
    const [, iterations, salt, key] = (await hashPassword(password, FAST)).split('$');
    const expected = pbkdf2Sync(Buffer.from(password, 'utf8'), Buffer.from(salt ?? '', 'utf8'), Number(iterations), 32, 'sha256');
    expect(key).toBe(expected.toString('base64'));
  });

  it('uses a fresh salt every time', async () => {
    const first = await hashPassword('same password', FAST);
    const second = await hashPassword('same password', FAST);
    expect(first.split('$')[2]).not.toBe(second.split('$')[2]);
  });

  it('defaults to 1,000,000 iterations', async () => {
    expect(DEFAULT_PBKDF2_ITERATIONS).toBe(1_000_000);
    expect(await hashPassword('correct horse battery')).toMatch(/^pbkdf2_sha256\$1000000\$/);
  });

  it.each([0, -1, 1.5, Number.NaN, 10_000_001])('refuses the iteration setting %s with a typed error', async (iterations) => {
    await expect(hashPassword('x', { iterations })).rejects.toThrow(AccountsError);
    await expect(hashPassword('x', { iterations })).rejects.toMatchObject({ code: 'password.bad_iterations' });
  });

});

describe('verifyPassword: known answers', () => {
  it.each([
    ['INTEROP E, 600,000 iterations', VECTORS.interop600k, 'correct horse'],
    ['INTEROP E, 260,000 iterations', VECTORS.interop260k, 'correct horse'],
    ['INTEROP E, pbkdf2_sha1', VECTORS.interopSha1, 'correct horse'],
    ['Django, non-ASCII password', VECTORS.djangoNonAscii, 'lètmein'],
    ['pbkdf2_sha1 with a 12-character salt', VECTORS.sha1OldSalt, 'correct horse'],
    ['Django bcrypt_sha256', VECTORS.bcryptSha256, 'correct horse'],
    ['Django plain bcrypt', VECTORS.djangoBcrypt, 'correct horse'],
    ['bare $2y$ (PHP / Central style)', VECTORS.bare2y, 'correct horse'],
    ['bare $2a$', VECTORS.bare2a, 'correct horse'],
    ['bare $2b$, non-ASCII password', VECTORS.bare2bUnicode, 'lètmein ☃'],
    ['Django argon2id (m=100 MiB, t=2, p=8)', VECTORS.argon2id, 'correct horse'],
    ['Django argon2i', VECTORS.argon2i, 'correct horse'],
    ['argon2i without a version field (v=16)', VECTORS.argon2iVersion16, 'correct horse'],
  ])('%s: right password verifies and asks for a rehash, wrong one fails', async (_label, encoded, password) => {
    expect(await verifyPassword(password, encoded)).toEqual({ ok: true, needsRehash: true });
    expect(await verifyPassword(`${password}!`, encoded)).toEqual({ ok: false, needsRehash: false });
  });

  it('accepts a current-format hash without asking for a rehash', async () => {
    expect(await verifyPassword('pässwörd ☃', VECTORS.unicode22Salt, FAST)).toEqual({ ok: true, needsRehash: false });
  });

  it('asks for a rehash when the iteration count differs from the setting, in either direction', async () => {
    expect(await verifyPassword('pässwörd ☃', VECTORS.unicode22Salt, { iterations: 2000 })).toEqual({ ok: true, needsRehash: true });
    const stronger = await hashPassword('pässwörd ☃', { iterations: 2000 });
    expect(await verifyPassword('pässwörd ☃', stronger, FAST)).toEqual({ ok: true, needsRehash: true });
  });

  it('asks for a rehash of a salt shorter than 128 bits even at the current count', async () => {
    expect(await verifyPassword('correct horse', VECTORS.interop600k, { iterations: 600_000 })).toEqual({ ok: true, needsRehash: true });
  });

  it('round-trips its own hashes and rejects a near miss', async () => {
    const encoded = await hashPassword('Tr0ub4dor&3 horse', FAST);
    expect(await verifyPassword('Tr0ub4dor&3 horse', encoded, FAST)).toEqual({ ok: true, needsRehash: false });
    expect((await verifyPassword('Tr0ub4dor&3 hors', encoded, FAST)).ok).toBe(false);
    expect((await verifyPassword('', encoded, FAST)).ok).toBe(false);
  });
});

describe('verifyPassword: no truncation', () => {
  it('our hashes tell apart two 100-byte passwords that differ only after byte 72', async () => {
    const encoded = await hashPassword(LONG_A, FAST);
    expect((await verifyPassword(LONG_A, encoded, FAST)).ok).toBe(true);
    expect((await verifyPassword(LONG_B, encoded, FAST)).ok).toBe(false);
  });

  it('bcrypt_sha256 tells them apart', async () => {
    expect((await verifyPassword(LONG_A, VECTORS.bcryptSha256Long)).ok).toBe(true);
    expect((await verifyPassword(LONG_B, VECTORS.bcryptSha256Long)).ok).toBe(false);
  });

  it('plain bcrypt refuses any password over 72 bytes rather than comparing a truncated prefix', async () => {
    // The stored hash was made (by truncating Python bcrypt) from LONG_A, i.e. from its first 72 bytes.
    expect((await verifyPassword(LONG_B, VECTORS.plainBcryptLong)).ok).toBe(false);
    expect((await verifyPassword(LONG_A, VECTORS.plainBcryptLong)).ok).toBe(false);
    expect((await verifyPassword(LONG_A.slice(0, 72), VECTORS.plainBcryptLong)).ok).toBe(true);
  });
});

describe('verifyPassword: unusable, malformed and hostile hashes never verify and never throw', () => {
  const valid = VECTORS.unicode22Salt;
  const password = 'pässwörd ☃';
  it.each([
    ['unusable marker alone', '!'],
    ['Django unusable password', '!Yx8c2PQ0fLr3nKTw9ZbVt1mHs6jD4gAeoUiN5kXq'],
    ['unusable marker in front of a valid hash', `!${valid}`],
    ['empty string', ''],
    ['algorithm only', 'pbkdf2_sha256$'],
    ['non-numeric iterations', 'pbkdf2_sha256$abc$aTMILpT6Y3Ku5tQiTcl4xb$riadw4lDURg/sXO5bSvGPFcrhgIFlHtGIaDobpHEupA='],
    ['zero iterations', valid.replace('$1000$', '$0$')],
    ['iteration bomb (10,000,001)', valid.replace('$1000$', '$10000001$')],
    ['iteration bomb (many digits)', valid.replace('$1000$', '$99999999999999$')],
    ['negative iterations', valid.replace('$1000$', '$-1000$')],
    ['missing padding', valid.slice(0, -1)],
    ['non-canonical base64', valid.replace('pA=', 'pB=')],
    ['key of the wrong length', 'pbkdf2_sha256$1000$aTMILpT6Y3Ku5tQiTcl4xb$bRd9MyJegL/sP4xVabqdMBx+jko='],
    ['empty salt', 'pbkdf2_sha256$1000$$riadw4lDURg/sXO5bSvGPFcrhgIFlHtGIaDobpHEupA='],
    ['extra field', `${valid}$extra`],
    ['unsupported legacy sha1', 'sha1$a1976$a36cc8cbf81742a8fb52e221aaeab48ed7f58ab4'],
    ['unsupported unsalted md5', '5f4dcc3b5aa765d61d8327deb882cf99'],
    ['bcrypt cost bomb (31)', '$2b$31$KLvOUAQmpQ1IsfWnCRFpvO3pRs87B6T1PArNarRAywEWObX/T2W1K'],
    ['bcrypt cost below 4', '$2b$03$KLvOUAQmpQ1IsfWnCRFpvO3pRs87B6T1PArNarRAywEWObX/T2W1K'],
    ['buggy $2x$ bcrypt', '$2x$04$gZ119QzulPzVWE6.3h6Whu0og8AAaxW6v4Ou5CndGgwOqusdec3Sa'],
    ['truncated bcrypt', VECTORS.bare2y.slice(0, -1)],
    ['argon2 memory bomb (4 GiB)', 'argon2$argon2id$v=19$m=4194304,t=2,p=8$c2Vhc2FsdDEyMzQ$5FBWXED7IkRU7VpBwwUuWw'],
    ['argon2 time bomb', 'argon2$argon2id$v=19$m=102400,t=1000,p=8$c2Vhc2FsdDEyMzQ$5FBWXED7IkRU7VpBwwUuWw'],
    ['argon2 zero lanes', 'argon2$argon2id$v=19$m=102400,t=2,p=0$c2Vhc2FsdDEyMzQ$5FBWXED7IkRU7VpBwwUuWw'],
    ['argon2d (not a Django variant)', 'argon2$argon2d$v=19$m=512,t=2,p=2$EBbdCOpdN10qaHFxtIkLcw$al3+W1M7vrV8jrXFxi4haw'],
    ['argon2 unknown version', 'argon2$argon2i$v=20$m=512,t=2,p=2$EBbdCOpdN10qaHFxtIkLcw$al3+W1M7vrV8jrXFxi4haw'],
    ['argon2 salt too short', 'argon2$argon2i$v=19$m=512,t=2,p=2$c2Fs$al3+W1M7vrV8jrXFxi4haw'],
    ['argon2 PHC string without the Django prefix', '$argon2i$v=19$m=512,t=2,p=2$EBbdCOpdN10qaHFxtIkLcw$al3+W1M7vrV8jrXFxi4haw'],
    ['huge string', `pbkdf2_sha256$1000$${'a'.repeat(100_000)}$riadw4lDURg/sXO5bSvGPFcrhgIFlHtGIaDobpHEupA=`],
  ])('%s', async (_label, encoded) => {
    expect(await verifyPassword(password, encoded, FAST)).toEqual({ ok: false, needsRehash: false });
  });

  it('survives NUL bytes and a megabyte password against every family', async () => {
    for (const encoded of [valid, VECTORS.bare2y, VECTORS.bcryptSha256, VECTORS.argon2i]) {
      expect((await verifyPassword('correct\u0000horse', encoded, FAST)).ok).toBe(false);
      expect((await verifyPassword('x'.repeat(1_000_000), encoded, FAST)).ok).toBe(false);
    }
  });

  it('treats non-string inputs (from a careless JSON body) as a failed check', async () => {
    expect(await verifyPassword(12345 as unknown as string, valid, FAST)).toEqual({ ok: false, needsRehash: false });
    expect(await verifyPassword(password, null as unknown as string, FAST)).toEqual({ ok: false, needsRehash: false });
  });
});

describe('inspectPasswordHash (for user import)', () => {
  it('names the algorithm of every supported format', () => {
    expect(inspectPasswordHash(VECTORS.interop600k)).toEqual({ kind: 'supported', algorithm: 'pbkdf2_sha256' });
    expect(inspectPasswordHash(VECTORS.interopSha1)).toEqual({ kind: 'supported', algorithm: 'pbkdf2_sha1' });
    expect(inspectPasswordHash(VECTORS.bcryptSha256)).toEqual({ kind: 'supported', algorithm: 'bcrypt_sha256' });
    expect(inspectPasswordHash(VECTORS.djangoBcrypt)).toEqual({ kind: 'supported', algorithm: 'bcrypt' });
    expect(inspectPasswordHash(VECTORS.bare2y)).toEqual({ kind: 'supported', algorithm: 'bcrypt' });
    expect(inspectPasswordHash(VECTORS.argon2id)).toEqual({ kind: 'supported', algorithm: 'argon2' });
  });

  it('recognises unusable passwords', () => {
    expect(inspectPasswordHash('!abc')).toEqual({ kind: 'unusable' });
  });

  it('says why a hash is refused', () => {
    expect(inspectPasswordHash(VECTORS.interop600k.replace('600000', '20000000'))).toEqual({
      kind: 'invalid',
      reason: 'iteration count 20000000 is outside 1–10000000',
    });
    expect(inspectPasswordHash('$2b$31$KLvOUAQmpQ1IsfWnCRFpvO3pRs87B6T1PArNarRAywEWObX/T2W1K')).toEqual({
      kind: 'invalid',
      reason: 'bcrypt cost 31 is outside 4–15',
    });
    expect(inspectPasswordHash('md5$salt$abc')).toEqual({ kind: 'invalid', reason: 'unsupported algorithm "md5"' });
  });
});

describe('equal work for unknown users', () => {
  async function evaluationsDuring(work: () => Promise<unknown>): Promise<number> {
    const before = passwordHashEvaluations();
    await work();
    return passwordHashEvaluations() - before;
  }

  it('every failed login path costs exactly one hash evaluation, like an unknown user', async () => {
    const known = await hashPassword('correct horse battery', FAST);
    const cheaper = await hashPassword('correct horse battery', { iterations: 500 });
    expect(await evaluationsDuring(() => dummyVerify('wrong', FAST))).toBe(1);
    expect(await evaluationsDuring(() => verifyPassword('wrong', known, FAST))).toBe(1);
    expect(await evaluationsDuring(() => verifyPassword('wrong', cheaper, FAST))).toBe(1);
    expect(await evaluationsDuring(() => verifyPassword('wrong', '!unusable', FAST))).toBe(1);
    expect(await evaluationsDuring(() => verifyPassword('wrong', 'garbage', FAST))).toBe(1);
    expect(await evaluationsDuring(() => verifyPassword('wrong', VECTORS.bare2y, FAST))).toBe(1);
    expect(await evaluationsDuring(() => verifyPassword(undefined as unknown as string, known, FAST))).toBe(1);
  });

  it('a successful login and a new hash are one evaluation each', async () => {
    const encoded = await hashPassword('correct horse battery', FAST);
    expect(await evaluationsDuring(() => verifyPassword('correct horse battery', encoded, FAST))).toBe(1);
    expect(await evaluationsDuring(() => hashPassword('correct horse battery', FAST))).toBe(1);
  });

  it('dummyVerify always fails', async () => {
    expect(await dummyVerify('anything', FAST)).toEqual({ ok: false, needsRehash: false });
  });
});

describe('never blocks the event loop: timers keep firing while a slow hash is computed', () => {
  it.each([
    ['a new 1,000,000-iteration hash', () => hashPassword('correct horse battery')],
    ['an Argon2id check (100 MiB)', () => verifyPassword('correct horse', VECTORS.argon2id)],
    ['a bcrypt check (cost 12)', () => verifyPassword('correct horse', VECTORS.djangoBcrypt)],
  ])('%s', async (_label, work) => {
    let ticks = 0;
    const timer = setInterval(() => (ticks += 1), 2);
    await work();
    clearInterval(timer);
    expect(ticks).toBeGreaterThanOrEqual(5);
  });
});
