import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccountsError } from './errors.js';
import type { TotpParameters } from './totp.js';
import {
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  matchRecoveryCode,
  totpCode,
  totpProvisioningUri,
  totpQrSvg,
  verifyTotp,
} from './totp.js';

/** RFC 6238 appendix B: ASCII "1234567890…" keys of 20, 32 and 64 bytes (base32 by Python), 8 digits. */
const RFC_SECRETS = {
  SHA1: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ',
  SHA256: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZA',
  SHA512: 'GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGEZDGNA',
} as const;

const RFC_VECTORS: [number, keyof typeof RFC_SECRETS, string][] = [
  [59, 'SHA1', '94287082'],
  [59, 'SHA256', '46119246'],
  [59, 'SHA512', '90693936'],
  [1111111109, 'SHA1', '07081804'],
  [1111111109, 'SHA256', '68084774'],
  [1111111109, 'SHA512', '25091201'],
  [1111111111, 'SHA1', '14050471'],
  [1111111111, 'SHA256', '67062674'],
  [1111111111, 'SHA512', '99943326'],
  [1234567890, 'SHA1', '89005924'],
  [1234567890, 'SHA256', '91819424'],
  [1234567890, 'SHA512', '93441116'],
  [2000000000, 'SHA1', '69279037'],
  [2000000000, 'SHA256', '90698825'],
  [2000000000, 'SHA512', '38618901'],
  [20000000000, 'SHA1', '65353130'],
  [20000000000, 'SHA256', '77737706'],
  [20000000000, 'SHA512', '47863826'],
];

describe('TOTP: RFC 6238 test vectors', () => {
  it.each(RFC_VECTORS)('T=%i %s → %s', (seconds, algorithm, expected) => {
    const parameters: TotpParameters = { algorithm, digits: 8, period: 30 };
    const now = seconds * 1000;
    expect(totpCode(RFC_SECRETS[algorithm], { now, parameters })).toBe(expected);
    expect(verifyTotp(RFC_SECRETS[algorithm], expected, { now, parameters })).toBe(Math.floor(seconds / 30));
  });
});

describe('verifyTotp', () => {
  const secret = generateTotpSecret();
  const now = 1_750_000_000_000;
  const step = Math.floor(now / 30_000);
  const codeAt = (offsetSteps: number): string => totpCode(secret, { now: now + offsetSteps * 30_000 });

  it('accepts the current step and one either side, returning the step matched', () => {
    expect(verifyTotp(secret, codeAt(0), { now })).toBe(step);
    expect(verifyTotp(secret, codeAt(-1), { now })).toBe(step - 1);
    expect(verifyTotp(secret, codeAt(1), { now })).toBe(step + 1);
  });

  it('refuses codes two steps away', () => {
    expect(verifyTotp(secret, codeAt(-2), { now })).toBeNull();
    expect(verifyTotp(secret, codeAt(2), { now })).toBeNull();
  });

  it('refuses reuse of the same step or an earlier one', () => {
    const used = verifyTotp(secret, codeAt(0), { now });
    expect(used).toBe(step);
    expect(verifyTotp(secret, codeAt(0), { now, afterStep: step })).toBeNull();
    expect(verifyTotp(secret, codeAt(-1), { now, afterStep: step })).toBeNull();
    expect(verifyTotp(secret, codeAt(1), { now, afterStep: step })).toBe(step + 1);
  });

  it('ignores spaces, as apps display "123 456"', () => {
    const code = codeAt(0);
    expect(verifyTotp(secret, `${code.slice(0, 3)} ${code.slice(3)}`, { now })).toBe(step);
  });

  it.each(['', '12345', '1234567', 'abcdef', '12345a', '１２３４５６', null, 123456])('refuses the malformed code %s without throwing', (code) => {
    expect(verifyTotp(secret, code as string, { now })).toBeNull();
  });

  it('refuses a wrong code', () => {
    const windowCodes = new Set([codeAt(-1), codeAt(0), codeAt(1)]);
    const wrong = ['000000', '111111', '222222', '333333'].find((code) => !windowCodes.has(code)) ?? '';
    expect(verifyTotp(secret, wrong, { now })).toBeNull();
  });

  it('throws a typed error for a corrupt stored secret (a server fault, not user input)', () => {
    expect(() => verifyTotp('not base32!', '123456')).toThrow(AccountsError);
    expect(() => verifyTotp('not base32!', '123456')).toThrow(expect.objectContaining({ code: 'totp.bad_secret' }));
  });
});

describe('TOTP enrolment', () => {
  it('generates 160-bit base32 secrets, different every time', () => {
    const secret = generateTotpSecret();
    expect(secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(generateTotpSecret()).not.toBe(secret);
  });

  it('builds an otpauth:// URI with issuer Fieldkeep and the standard parameters', () => {
    const secret = generateTotpSecret();
    const uri = new URL(totpProvisioningUri(secret, 'alice@example.org'));
    expect(uri.protocol).toBe('otpauth:');
    expect(uri.host).toBe('totp');
    expect(decodeURIComponent(uri.pathname)).toBe('/Fieldkeep:alice@example.org');
    expect(Object.fromEntries(uri.searchParams)).toEqual({
      issuer: 'Fieldkeep',
      secret,
      algorithm: 'SHA1',
      digits: '6',
      period: '30',
    });
  });

  it('encodes awkward account names safely', () => {
    const uri = totpProvisioningUri(generateTotpSecret(), 'bob smith&co?x=1', { issuer: 'Fieldkeep (Acme)' });
    const parsed = new URL(uri);
    expect(parsed.searchParams.get('issuer')).toBe('Fieldkeep (Acme)');
    expect(decodeURIComponent(parsed.pathname)).toBe('/Fieldkeep (Acme):bob smith&co?x=1');
  });

  it('refuses an empty account name', () => {
    expect(() => totpProvisioningUri(generateTotpSecret(), '')).toThrow(expect.objectContaining({ code: 'totp.bad_label' }));
  });

  it('renders the URI as an SVG QR code with a quiet zone', async () => {
    const uri = totpProvisioningUri(generateTotpSecret(), 'alice');
    const svg = await totpQrSvg(uri);
    expect(svg.startsWith('<svg')).toBe(true);
    const [, size] = /viewBox="0 0 (\d+) \1"/.exec(svg) ?? [];
    // A version-N QR code has 17 + 4N modules a side; plus a 4-module margin on each side.
    expect((Number(size) - 8 - 17) % 4).toBe(0);
    expect(await totpQrSvg(uri)).toBe(svg);
  });

  it('refuses to render an oversized URI', async () => {
    await expect(totpQrSvg(`otpauth://totp/x?secret=${'A'.repeat(3000)}`)).rejects.toMatchObject({ code: 'totp.uri_too_long' });
  });
});

describe('recovery codes', () => {
  it('generates ten xxxxx-xxxxx codes with their SHA-256 hashes', () => {
    const { codes, hashes } = generateRecoveryCodes();
    expect(codes).toHaveLength(10);
    expect(new Set(codes).size).toBe(10);
    for (const [index, code] of codes.entries()) {
      expect(code).toMatch(/^[0-9a-hjkmnp-tv-z]{5}-[0-9a-hjkmnp-tv-z]{5}$/);
      expect(hashes[index]).toBe(createHash('sha256').update(code.replace('-', '')).digest('hex'));
    }
  });

  it('matches a typed code to the index of its stored hash', () => {
    const { codes, hashes } = generateRecoveryCodes();
    expect(matchRecoveryCode(codes[3] ?? '', hashes)).toBe(3);
    expect(matchRecoveryCode(codes[9] ?? '', hashes)).toBe(9);
  });

  it('forgives case, spaces, a missing hyphen and i/l/o for 1/1/0', () => {
    const stored = [hashRecoveryCode('01abc-d1e0f') ?? ''];
    for (const typed of ['01ABC-D1E0F', ' 01abc d1e0f ', '01abcd1e0f', 'oiabc-dle0f', 'OLabc-DIeOf']) {
      expect(matchRecoveryCode(typed, stored)).toBe(0);
    }
  });

  it('refuses a code that was consumed (its hash removed) or never issued', () => {
    const { codes, hashes } = generateRecoveryCodes();
    const index = matchRecoveryCode(codes[0] ?? '', hashes);
    const remaining = hashes.filter((_, i) => i !== index);
    expect(matchRecoveryCode(codes[0] ?? '', remaining)).toBeNull();
    expect(matchRecoveryCode('00000-00000', hashes)).toBeNull();
  });

  it.each(['', 'abc', '01abc-d1e0', '01abc-d1e0f0', '01abc-d1e0u', '01abc_d1e0f', 'x'.repeat(10_000), null])(
    'refuses the malformed input %s without throwing',
    (typed) => {
      const { hashes } = generateRecoveryCodes();
      expect(hashRecoveryCode(typed as string)).toBeNull();
      expect(matchRecoveryCode(typed as string, hashes)).toBeNull();
    },
  );

  it('draws every character of the 32-symbol alphabet (10 characters: 50 bits a code)', () => {
    const characters = new Set(generateRecoveryCodes(200).codes.join('').replace(/-/g, ''));
    expect(characters.size).toBe(32);
  });
});
