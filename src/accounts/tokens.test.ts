import { createHash, createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { AccountsError } from './errors.js';
import {
  TOKEN_SECRET_LENGTH,
  constantTimeEqual,
  generateToken,
  hashToken,
  isWellFormedToken,
  keyedHash,
  randomFromAlphabet,
} from './tokens.js';

const SERVER_KEY = Buffer.alloc(32, 7);

describe('generateToken', () => {
  it.each([
    ['opaque', /^[A-Za-z0-9]{43}$/],
    ['api', /^fk_pat_[A-Za-z0-9]{43}$/],
    ['device', /^fk_dev_[A-Za-z0-9]{43}$/],
    ['public', /^fk_pub_[A-Za-z0-9]{43}$/],
  ] as const)('makes %s tokens of the documented shape', (kind, pattern) => {
    const token = generateToken(kind);
    expect(token).toMatch(pattern);
    expect(isWellFormedToken(kind, token)).toBe(true);
  });

  it('carries at least 256 bits of randomness in the secret part', () => {
    expect(TOKEN_SECRET_LENGTH * Math.log2(62)).toBeGreaterThanOrEqual(256);
    const tokens = new Set(Array.from({ length: 1000 }, () => generateToken('opaque')));
    expect(tokens.size).toBe(1000);
  });

  it('needs no escaping in a URL path segment (device tokens travel in /key/<token>/…)', () => {
    const token = generateToken('device');
    expect(encodeURIComponent(token)).toBe(token);
    expect(new URL(`https://example.org/key/${token}/projects/1/formList`).pathname.split('/')[2]).toBe(token);
  });

  it('draws characters uniformly from the alphabet (no modulo bias)', () => {
    const counts = new Map<string, number>();
    for (const character of randomFromAlphabet('abc', 30_000)) counts.set(character, (counts.get(character) ?? 0) + 1);
    // 256 % 3 = 1: without rejection, 'b' and 'c' would trail 'a' by about 1/85 (≈ 117 of 10,000).
    for (const count of counts.values()) expect(Math.abs(count - 10_000)).toBeLessThan(400);
    expect([...counts.keys()].sort()).toEqual(['a', 'b', 'c']);
  });
});

describe('isWellFormedToken', () => {
  const api = generateToken('api');
  it.each([
    ['a token of another kind', 'api', generateToken('device')],
    ['the prefix alone', 'api', 'fk_pat_'],
    ['one character short', 'api', api.slice(0, -1)],
    ['one character long', 'api', `${api}A`],
    ["Central's alphabet", 'opaque', `${'A'.repeat(42)}$`],
    ['trailing newline', 'api', `${api}\n`],
    ['not a string', 'api', 42],
    ['undefined', 'opaque', undefined],
  ] as const)('rejects %s', (_label, kind, candidate) => {
    expect(isWellFormedToken(kind, candidate)).toBe(false);
  });
});

describe('hashToken', () => {
  it('is the lowercase hex SHA-256 of the whole token', () => {
    expect(hashToken('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    const token = generateToken('api');
    expect(hashToken(token)).toBe(createHash('sha256').update(token).digest('hex'));
  });
});

describe('constantTimeEqual', () => {
  it('compares strings and bytes of any length without throwing', () => {
    expect(constantTimeEqual('secret', 'secret')).toBe(true);
    expect(constantTimeEqual('secret', 'secreT')).toBe(false);
    expect(constantTimeEqual('secret', 'secret-and-more')).toBe(false);
    expect(constantTimeEqual('', '')).toBe(true);
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(Buffer.from([1, 2, 3]), Buffer.from([1, 2]))).toBe(false);
  });
});

describe('keyedHash', () => {
  it('is HMAC-SHA256 over length-prefixed UTF-8 parts', () => {
    const expected = createHmac('sha256', SERVER_KEY)
      .update(Buffer.from([0, 0, 0, 5]))
      .update('alice')
      .update(Buffer.from([0, 0, 0, 6]))
      .update('pässw')
      .digest('hex');
    expect(keyedHash(SERVER_KEY, ['alice', 'pässw'])).toBe(expected);
  });

  it('keeps part boundaries: ["ab","c"] and ["a","bc"] differ, as do user:pass splits at a colon', () => {
    expect(keyedHash(SERVER_KEY, ['ab', 'c'])).not.toBe(keyedHash(SERVER_KEY, ['a', 'bc']));
    expect(keyedHash(SERVER_KEY, ['alice', 'x:y'])).not.toBe(keyedHash(SERVER_KEY, ['alice:x', 'y']));
  });

  it('depends on the key', () => {
    expect(keyedHash(SERVER_KEY, ['alice', 'pw'])).not.toBe(keyedHash(Buffer.alloc(32, 8), ['alice', 'pw']));
  });

  it('refuses a key shorter than 32 bytes', () => {
    expect(() => keyedHash(Buffer.alloc(31), ['x'])).toThrow(AccountsError);
    expect(() => keyedHash(Buffer.alloc(31), ['x'])).toThrow(expect.objectContaining({ code: 'token.weak_key' }));
  });
});
