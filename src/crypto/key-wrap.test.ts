import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  MIN_SCRYPT_PARAMETERS,
  WRAPPED_KEY_FORMAT,
  createRecoveryFile,
  generatePrivateKey,
  loadPrivateKey,
  openRecoveryFile,
  openSealedPrivateKey,
  privateKeyToPkcs8,
  publicKeyToBase64Spki,
  readWrappedPrivateKey,
  sameKeyPair,
  sealPrivateKey,
  unwrapPrivateKey,
  wrapPrivateKey,
} from './index.js';
import type { WrappedPrivateKey } from './index.js';

const privateKey = await loadPrivateKey(readFileSync('/work/shared/testdata/odk-encryption/priv.pem', 'utf8'));
const PASSPHRASE = 'correct horse battery staple';

async function expectCode(promise: Promise<unknown> | (() => unknown), code: string): Promise<void> {
  const settled = typeof promise === 'function' ? Promise.resolve().then(promise) : promise;
  await expect(settled).rejects.toBeInstanceOf(CryptoError);
  await expect(settled).rejects.toMatchObject({ code });
}

/** One wrap shared by the tests: each scrypt run costs 128 MiB and a fraction of a second. */
const wrapped = wrapPrivateKey(privateKey, PASSPHRASE);

// Every test runs scrypt (128 MiB, seconds on a busy machine) at least once.
describe('private key wrapping', { timeout: 120_000 }, () => {
  it('round-trips through the JSON text and records its parameters', async () => {
    const blob = await wrapped;
    expect(blob).toMatchObject({
      format: WRAPPED_KEY_FORMAT,
      version: 1,
      kdf: { name: 'scrypt', N: 131072, r: 8, p: 1 },
      cipher: { name: 'AES-256-GCM' },
      publicKey: publicKeyToBase64Spki(privateKey),
    });
    expect(Buffer.from(blob.kdf.salt, 'base64')).toHaveLength(16);
    expect(Buffer.from(blob.cipher.iv, 'base64')).toHaveLength(12);
    const unwrapped = await unwrapPrivateKey(JSON.stringify(blob), PASSPHRASE);
    expect(sameKeyPair(unwrapped, privateKey.publicKey)).toBe(true);
  });

  it('uses fresh salt and IV on every wrap', async () => {
    const again = await wrapPrivateKey(privateKey, PASSPHRASE);
    const blob = await wrapped;
    expect(again.kdf.salt).not.toBe(blob.kdf.salt);
    expect(again.ciphertext).not.toBe(blob.ciphertext);
  });

  it('treats composed and decomposed accents in the passphrase alike (NFC)', async () => {
    const blob = await wrapPrivateKey(privateKey, 'caf\u00e9 au lait noir');
    expect(sameKeyPair(await unwrapPrivateKey(blob, 'cafe\u0301 au lait noir'), privateKey.publicKey)).toBe(true);
  });

  it('refuses a wrong passphrase', async () => {
    await expectCode(unwrapPrivateKey(await wrapped, 'correct horse battery stapler'), 'crypto.wrong_passphrase');
  });

  it('refuses a tampered ciphertext, salt or public key', async () => {
    const blob = await wrapped;
    const ciphertext = Buffer.from(blob.ciphertext, 'base64');
    ciphertext[5] = (ciphertext[5] ?? 0) ^ 0x01;
    await expectCode(unwrapPrivateKey({ ...blob, ciphertext: ciphertext.toString('base64') }, PASSPHRASE), 'crypto.wrong_passphrase');
    const salt = Buffer.from(blob.kdf.salt, 'base64');
    salt[0] = (salt[0] ?? 0) ^ 0x01;
    await expectCode(unwrapPrivateKey({ ...blob, kdf: { ...blob.kdf, salt: salt.toString('base64') } }, PASSPHRASE), 'crypto.wrong_passphrase');
    const publicKey = `${blob.publicKey.slice(0, 40)}B${blob.publicKey.slice(41)}`;
    expect(publicKey).not.toBe(blob.publicKey);
    await expectCode(unwrapPrivateKey({ ...blob, publicKey }, PASSPHRASE), 'crypto.wrong_passphrase');
  });

  it('refuses malformed blobs and unknown versions', async () => {
    const blob = await wrapped;
    await expectCode(unwrapPrivateKey('{not json', PASSPHRASE), 'crypto.bad_wrapped_key');
    await expectCode(unwrapPrivateKey({ ...blob, version: 2 } as unknown as WrappedPrivateKey, PASSPHRASE), 'crypto.bad_wrapped_key');
    await expectCode(unwrapPrivateKey({ ...blob, cipher: { ...blob.cipher, iv: 'AAAA' } }, PASSPHRASE), 'crypto.bad_wrapped_key');
    await expectCode(unwrapPrivateKey({ ...blob, ciphertext: '' }, PASSPHRASE), 'crypto.bad_wrapped_key');
    await expectCode(unwrapPrivateKey('[]', PASSPHRASE), 'crypto.bad_wrapped_key');
  });

  it('refuses parameters below the floor, on wrap and on unwrap', async () => {
    await expectCode(wrapPrivateKey(privateKey, PASSPHRASE, { ...MIN_SCRYPT_PARAMETERS, N: 2 ** 14 }), 'crypto.weak_kdf_parameters');
    await expectCode(wrapPrivateKey(privateKey, PASSPHRASE, { ...MIN_SCRYPT_PARAMETERS, r: 4 }), 'crypto.weak_kdf_parameters');
    const blob = await wrapped;
    await expectCode(unwrapPrivateKey({ ...blob, kdf: { ...blob.kdf, N: 2 ** 16 } }, PASSPHRASE), 'crypto.weak_kdf_parameters');
  });

  it('refuses parameters large enough to exhaust memory, and malformed ones', async () => {
    const blob = await wrapped;
    await expectCode(unwrapPrivateKey({ ...blob, kdf: { ...blob.kdf, N: 2 ** 24 } }, PASSPHRASE), 'crypto.bad_wrapped_key');
    await expectCode(unwrapPrivateKey({ ...blob, kdf: { ...blob.kdf, N: 2 ** 20, r: 16 } }, PASSPHRASE), 'crypto.bad_wrapped_key');
    await expectCode(unwrapPrivateKey({ ...blob, kdf: { ...blob.kdf, N: 131073 } }, PASSPHRASE), 'crypto.bad_wrapped_key');
  });

  it('refuses a short passphrase when wrapping', async () => {
    await expectCode(wrapPrivateKey(privateKey, 'short'), 'crypto.weak_passphrase');
  });
});

describe('member copies and recovery files', { timeout: 120_000 }, () => {
  it("seals the project key to a member's public key, which only that member's private key opens", async () => {
    const member = await generatePrivateKey();
    const outsider = await generatePrivateKey();
    const sealed = await sealPrivateKey(privateKey, member.publicKey);
    expect(JSON.stringify(sealed)).not.toContain(Buffer.from(await privateKeyToPkcs8(privateKey)).toString('base64').slice(40, 80));
    expect(sameKeyPair(await openSealedPrivateKey(JSON.stringify(sealed), member), privateKey.publicKey)).toBe(true);
    await expectCode(openSealedPrivateKey(sealed, outsider), 'crypto.bad_key');
    const ciphertext = Buffer.from(sealed.ciphertext, 'base64');
    ciphertext[0] = (ciphertext[0] ?? 0) ^ 0x01;
    await expectCode(openSealedPrivateKey({ ...sealed, ciphertext: ciphertext.toString('base64') }, member), 'crypto.bad_sealed_key');
    await expectCode(openSealedPrivateKey({ ...sealed, publicKey: publicKeyToBase64Spki(outsider) }, member), 'crypto.bad_sealed_key');
    await expectCode(openSealedPrivateKey('{"format":"other"}', member), 'crypto.bad_sealed_key');
  });

  it('writes a recovery file that opens with its passphrase only', async () => {
    const text = await createRecoveryFile(privateKey, 'recovery words kept in a safe', 'Project 7 (Household survey)');
    expect(JSON.parse(text)).toMatchObject({ format: 'fieldkeep.recovery-file', label: 'Project 7 (Household survey)' });
    expect(sameKeyPair(await openRecoveryFile(text, 'recovery words kept in a safe'), privateKey.publicKey)).toBe(true);
    await expectCode(openRecoveryFile(text, 'recovery words kept in a box'), 'crypto.wrong_passphrase');
    await expectCode(openRecoveryFile('{}', 'recovery words kept in a safe'), 'crypto.bad_wrapped_key');
  });

  it('checks the shape of a wrapped key without its passphrase', async () => {
    const blob = await wrapped;
    expect(readWrappedPrivateKey(JSON.stringify(blob))).toEqual(blob);
    await expectCode(() => readWrappedPrivateKey({ ...blob, kdf: { ...blob.kdf, N: 1024 } }), 'crypto.weak_kdf_parameters');
  });
});
