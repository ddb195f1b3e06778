/*
 * The little DER and PEM handling WebCrypto leaves to us: it imports private keys only as PKCS#8
 * and public keys only as SubjectPublicKeyInfo, while `openssl genrsa` writes PKCS#1. A PKCS#1
 * key is wrapped, unchanged, in the PKCS#8 or SPKI envelope for rsaEncryption.
 */
import { concatBytes, fromBase64, toBase64 } from './bytes.js';

const RSA_ALGORITHM_IDENTIFIER = new Uint8Array([0x30, 0x0d, 0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x0d, 0x01, 0x01, 0x01, 0x05, 0x00]);
const SEQUENCE = 0x30;
const OCTET_STRING = 0x04;
const BIT_STRING = 0x03;
const VERSION_ZERO = new Uint8Array([0x02, 0x01, 0x00]);

export interface Pem {
  label: string;
  der: Uint8Array;
}

/** The first PEM block of the text; null when there is none or its body is not base64. */
export function parsePem(text: string): Pem | null {
  const match = /-----BEGIN ([A-Z0-9 ]+)-----([\s\S]*?)-----END \1-----/.exec(text);
  if (!match) return null;
  const [, label = '', body = ''] = match;
  if (/^[A-Za-z-]+:/m.test(body)) return null;
  try {
    return { label, der: fromBase64(body.replace(/\s+/g, '')) };
  } catch {
    return null;
  }
}

export function formatPem(label: string, der: Uint8Array): string {
  const lines = toBase64(der).match(/.{1,64}/g) ?? [];
  return `-----BEGIN ${label}-----\n${lines.join('\n')}\n-----END ${label}-----\n`;
}

export function pkcs1PrivateToPkcs8(pkcs1: Uint8Array): Uint8Array {
  return tlv(SEQUENCE, concatBytes([VERSION_ZERO, RSA_ALGORITHM_IDENTIFIER, tlv(OCTET_STRING, pkcs1)]));
}

export function pkcs1PublicToSpki(pkcs1: Uint8Array): Uint8Array {
  return tlv(SEQUENCE, concatBytes([RSA_ALGORITHM_IDENTIFIER, tlv(BIT_STRING, concatBytes([new Uint8Array([0]), pkcs1]))]));
}

function tlv(tag: number, value: Uint8Array): Uint8Array {
  return concatBytes([new Uint8Array([tag]), derLength(value.length), value]);
}

function derLength(length: number): Uint8Array {
  if (length < 0x80) return new Uint8Array([length]);
  const bytes: number[] = [];
  for (let rest = length; rest > 0; rest = Math.floor(rest / 256)) bytes.unshift(rest % 256);
  return new Uint8Array([0x80 | bytes.length, ...bytes]);
}
