import { describe, expect, it } from 'vitest';
import { parseFilter } from './data-filter.js';

const refusal = (text: string) => {
  try {
    parseFilter(text);
  } catch (err) {
    return (err as { code: string }).code;
  }
  return 'accepted';
};

describe('MongoDB-style filters', () => {
  it('reads the operators Kobo users send into one tree', () => {
    expect(parseFilter('{"a": "x", "b": {"$gte": 1, "$lt": 5}, "$or": [{"c": null}, {"d": {"$in": ["p", 2]}}]}')).toEqual({
      kind: 'and',
      of: [
        { kind: 'compare', field: 'a', op: 'eq', value: 'x' },
        { kind: 'compare', field: 'b', op: 'gte', value: 1 },
        { kind: 'compare', field: 'b', op: 'lt', value: 5 },
        { kind: 'or', of: [{ kind: 'exists', field: 'c', exists: false }, { kind: 'in', field: 'd', values: ['p', 2], negated: false }] },
      ],
    });
    expect(parseFilter('{"a": {"$ne": null}}')).toEqual({ kind: 'exists', field: 'a', exists: true });
    expect(parseFilter('{"a": true}')).toEqual({ kind: 'compare', field: 'a', op: 'eq', value: 'true' });
    expect(parseFilter('{"g/q": {"$nin": ["x"]}}')).toEqual({ kind: 'in', field: 'g/q', values: ['x'], negated: true });
  });

  it('turns literal regular expressions into text matches, and refuses the rest', () => {
    const match = (pattern: string, options?: string) => parseFilter(JSON.stringify({ a: { $regex: pattern, ...(options ? { $options: options } : {}) } }));
    expect(match('^ab')).toMatchObject({ match: 'prefix', text: 'ab', caseInsensitive: false });
    expect(match('ab$', 'i')).toMatchObject({ match: 'suffix', text: 'ab', caseInsensitive: true });
    expect(match('^a\\.b$')).toMatchObject({ match: 'exact', text: 'a.b' });
    expect(match('a b')).toMatchObject({ match: 'contains', text: 'a b' });
    expect(match('price \\$')).toMatchObject({ match: 'contains', text: 'price $' });
    for (const pattern of ['a.b', 'a|b', '[ab]', 'a+', '(a)', '\\w', 'a^b']) expect(refusal(JSON.stringify({ a: { $regex: pattern } })), pattern).toBe('submission.query_unsupported');
    expect(refusal('{"a": {"$regex": "x", "$options": "s"}}')).toBe('submission.query_unsupported');
    expect(refusal('{"a": {"$options": "i"}}')).toBe('submission.query_invalid');
  });

  it('refuses unknown operators and malformed or oversized queries', () => {
    expect(refusal('{"a": {"$elemMatch": {}}}')).toBe('submission.query_unsupported');
    expect(refusal('{"$text": {"$search": "x"}}')).toBe('submission.query_unsupported');
    expect(refusal('{"a": {"$in": []}}')).toBe('submission.query_invalid');
    expect(refusal('{"a": {"$in": "x"}}')).toBe('submission.query_invalid');
    expect(refusal('{"a": {"$gt": {}}}')).toBe('submission.query_invalid');
    expect(refusal('{"a": {"$exists": "yes"}}')).toBe('submission.query_invalid');
    expect(refusal('{"$or": []}')).toBe('submission.query_invalid');
    expect(refusal('{"__proto__": 1}')).toBe('submission.query_invalid');
    expect(refusal('{"a b": 1}')).toBe('submission.query_invalid');
    expect(refusal(JSON.stringify({ a: { $in: Array.from({ length: 1001 }, (_, i) => i) } }))).toBe('submission.query_invalid');
    expect(refusal(JSON.stringify(Object.fromEntries(Array.from({ length: 201 }, (_, i) => [`f${i}`, 1]))))).toBe('submission.query_invalid');
    expect(refusal(`{"a": "${'x'.repeat(1001)}"}`)).toBe('submission.query_invalid');
    expect(refusal('x'.repeat(20_001))).toBe('submission.query_invalid');
    expect(refusal('[]')).toBe('submission.query_invalid');
  });
});
