import { describe, expect, it } from 'vitest';
import { canonicalJson } from './canonical-json.js';
import { GENESIS_HASH, entryHash, type ChainedFields } from './chain.js';

describe('canonical JSON', () => {
  it('sorts keys at every depth, drops undefined members and writes no whitespace', () => {
    expect(canonicalJson({ b: 1, a: { d: [3, { z: null, y: true }], c: 'x' }, u: undefined })).toBe(
      '{"a":{"c":"x","d":[3,{"y":true,"z":null}]},"b":1}',
    );
  });

  it('orders keys by UTF-16 code units and escapes strings as JSON does', () => {
    expect(canonicalJson({ é: 1, z: 2, Z: 3, '\u2028': 'a"b\n' })).toBe('{"Z":3,"z":2,"é":1,"\u2028":"a\\"b\\n"}');
  });

  it.each([
    ['NaN', Number.NaN],
    ['Infinity', Number.POSITIVE_INFINITY],
    ['a Date', new Date(0)],
    ['a bigint', 1n],
    ['a function', () => 1],
  ])('refuses %s', (_label, value) => {
    expect(() => canonicalJson({ value })).toThrow(TypeError);
  });
});

describe('the entry hash', () => {
  const fields: ChainedFields = {
    id: 1,
    at: '2026-01-01T00:00:00.000Z',
    actorKind: 'user',
    actorId: 7,
    actorLabel: 'alice',
    address: '192.0.2.1',
    userAgent: null,
    action: 'user.login',
    resourceType: null,
    resourceId: null,
    projectId: null,
    details: {},
  };

  it('is SHA-256 over the previous hash bytes then the canonical JSON', async () => {
    const { createHash } = await import('node:crypto');
    const expected = createHash('sha256')
      .update(Buffer.concat([Buffer.alloc(32), Buffer.from(canonicalJson(fields), 'utf8')]))
      .digest('hex');
    expect(entryHash(GENESIS_HASH, fields)).toBe(expected);
  });

  it('changes when any field or the previous hash changes', () => {
    const base = entryHash(GENESIS_HASH, fields);
    expect(entryHash(GENESIS_HASH, { ...fields, actorLabel: 'mallory' })).not.toBe(base);
    expect(entryHash(GENESIS_HASH, { ...fields, details: { n: 1 } })).not.toBe(base);
    expect(entryHash('1'.repeat(64), fields)).not.toBe(base);
  });
});
