/*
 * Byte helpers that behave the same in Node and in browsers (no Buffer): base64, hex, UTF-8,
 * concatenation, randomness from WebCrypto, and a comparison whose time does not depend on where
 * two byte strings differ.
 */

const encoder = new TextEncoder();
const strictDecoder = new TextDecoder('utf-8', { fatal: true });
/** btoa/atob take strings of at most this many characters at a time without huge argument lists. */
const BASE64_CHUNK = 0x6000;

export function utf8(text: string): Uint8Array {
  return encoder.encode(text);
}

export function fromUtf8(bytes: Uint8Array): string {
  return strictDecoder.decode(bytes);
}

export function toBase64(bytes: Uint8Array): string {
  let out = '';
  for (let start = 0; start < bytes.length; start += BASE64_CHUNK) {
    out += btoa(String.fromCharCode(...bytes.subarray(start, start + BASE64_CHUNK)));
  }
  return out;
}

/** Standard base64 with padding; anything else (URL-safe alphabet, spaces, bad length) is refused. */
export function fromBase64(text: string): Uint8Array {
  if (!isBase64(text)) throw new TypeError('not standard base64');
  const binary = atob(text);
  const out = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i += 1) out[i] = binary.charCodeAt(i);
  return out;
}

export function fromBase64Url(text: string): Uint8Array {
  const standard = text.replace(/-/g, '+').replace(/_/g, '/');
  return fromBase64(standard.padEnd(Math.ceil(standard.length / 4) * 4, '='));
}

export function isBase64(text: string): boolean {
  return text.length % 4 === 0 && /^[A-Za-z0-9+/]*={0,2}$/.test(text);
}

/** A base64 string whose decoded length is within the bounds (counted without decoding it). */
export function isBase64Sized(value: unknown, minBytes: number, maxBytes: number): boolean {
  if (typeof value !== 'string' || !isBase64(value)) return false;
  const bytes = (value.length / 4) * 3 - (value.endsWith('==') ? 2 : value.endsWith('=') ? 1 : 0);
  return bytes >= minBytes && bytes <= maxBytes;
}

export function toHex(bytes: Uint8Array): string {
  let out = '';
  for (const byte of bytes) out += byte.toString(16).padStart(2, '0');
  return out;
}

export function concatBytes(parts: readonly Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((sum, part) => sum + part.length, 0));
  let offset = 0;
  for (const part of parts) {
    out.set(part, offset);
    offset += part.length;
  }
  return out;
}

export function randomBytes(length: number): Uint8Array {
  return crypto.getRandomValues(new Uint8Array(length));
}

export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let difference = 0;
  for (let i = 0; i < a.length; i += 1) difference |= (a[i] ?? 0) ^ (b[i] ?? 0);
  return difference === 0;
}
