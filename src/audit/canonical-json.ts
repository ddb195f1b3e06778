/**
 * Canonical JSON: the one byte sequence the audit chain hashes for an entry.
 *
 * Definition (stable; changing it invalidates every stored chain):
 * - Objects: members sorted by key, compared as UTF-16 code units (JavaScript's default string
 *   order, as RFC 8785 does); members whose value is `undefined` are left out.
 * - Arrays keep their order.
 * - Strings are written as `JSON.stringify` writes them; numbers must be finite and are written
 *   as `JSON.stringify` writes them (ECMAScript shortest round-trip form); `true`, `false`, `null`.
 * - No whitespace anywhere. The text is encoded as UTF-8 before hashing.
 * Anything else (functions, symbols, bigints, NaN, Infinity, class instances such as Date) is
 * refused, so a value cannot silently change its form between writing and verifying.
 */
export function canonicalJson(value: unknown): string {
  if (value === null) return 'null';
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return JSON.stringify(value);
    case 'number':
      if (!Number.isFinite(value)) throw new TypeError('canonical JSON has no form for a non-finite number');
      return JSON.stringify(value);
    case 'object':
      if (Array.isArray(value)) return `[${value.map((item: unknown) => canonicalJson(item)).join(',')}]`;
      if (Object.getPrototypeOf(value) !== Object.prototype && Object.getPrototypeOf(value) !== null) {
        throw new TypeError('canonical JSON takes plain objects only');
      }
      return `{${Object.keys(value)
        .filter((key) => (value as Record<string, unknown>)[key] !== undefined)
        .sort()
        .map((key) => `${JSON.stringify(key)}:${canonicalJson((value as Record<string, unknown>)[key])}`)
        .join(',')}}`;
    default:
      throw new TypeError(`canonical JSON has no form for a ${typeof value}`);
  }
}
