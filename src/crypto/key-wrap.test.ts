import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { CryptoError, MIN_SCRYPT_PARAMETERS, WRAPPED_KEY_FORMAT, loadPrivateKey, publicKeyToBase64Spki, unwrapPrivateKey, wrapPrivateKey } from './index.js';
import type { WrappedPrivateKey } from './index.js';

const privateKey = loadPrivateKey(readFileSync('/work/shared/testdata/odk-encryption/priv.pem', 'utf8'));
const PASSPHRASE = 'correct horse battery staple';

async function expectCode(promise: Promise<unknown>, code: string): Promise<void> {
  await expect(promise).rejects.toBeInstanceOf(CryptoError);
  await expect(promise).rejects.toMatchObject({ code });
}

/** One wrap shared by the tests: each scrypt run costs 128 MiB and a fraction of a second. */
const wrapped = wrapPrivateKey(privateKey, PASSPHRASE);

describe('private key wrapping', () => {
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
    expect(unwrapped.equals(privateKey)).toBe(true);
  });

  it('uses fresh salt and IV on every wrap', async () => {
    const again = await wrapPrivateKey(privateKey, PASSPHRASE);
    const blob = await wrapped;
    expect(again.kdf.salt).not.toBe(blob.kdf.salt);
    expect(again.ciphertext).not.toBe(blob.ciphertext);
  });

  it('treats composed and decomposed accents in the passphrase alike (NFC)', async () => {
    const blob = await wrapPrivateKey(privateKey, 'caf\u00e9 au lait noir');
    expect((await unwrapPrivateKey(blob, 'cafe\u0301 au lait noir')).equals(privateKey)).toBe(true);
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
