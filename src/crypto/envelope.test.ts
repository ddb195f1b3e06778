import { constants, createCipheriv, createHash, createPrivateKey, createPublicKey, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { Readable, Writable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from 'vitest';
import {
  CryptoError,
  FileEncryptor,
  SubmissionDecryptor,
  cipherChunks,
  decryptSubmission,
  encryptSubmission,
  generatePrivateKey,
  ivSeed,
  loadPrivateKey,
  loadPublicKey,
  parseEncryptedManifest,
  privateKeyToPem,
  publicKeyToBase64Spki,
  rsaOaepDecrypt,
  rsaOaepEncrypt,
  sameKeyPair,
  signatureSource,
  submissionIvs,
} from './index.js';
import type { EncryptedManifest } from './index.js';

const VECTORS = '/work/shared/testdata/odk-encryption';
const read = (path: string): Buffer => readFileSync(`${VECTORS}/${path}`);
const md5 = (data: Uint8Array): string => createHash('md5').update(data).digest('hex');

const privateKey = await loadPrivateKey(read('priv.pem').toString('utf8'));
const publicKey = await loadPublicKey(read('pub.der'));
const hex = (data: Uint8Array | undefined): string => Buffer.from(data ?? []).toString('hex');
const same = (a: Uint8Array | undefined, b: Uint8Array): boolean => Buffer.from(a ?? []).equals(b);
const FIXED_AES_KEY = Buffer.from(Array.from({ length: 32 }, (_, i) => i));
const FIXED_OAEP_SEED = Buffer.from(Array.from({ length: 32 }, (_, i) => 0x5a + i));
const INSTANCE_ID = 'uuid:6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60';
const ENC_FILES = ['photo.jpg.enc', 'audit.csv.enc', 'submission.xml.enc'];

const katManifest = (): EncryptedManifest => parseEncryptedManifest(read('enc/submission.xml'));
const katFiles = (): Map<string, Buffer> => new Map(ENC_FILES.map((name) => [name, read(`enc/${name}`)]));

async function expectCryptoError(run: () => unknown, code: string): Promise<void> {
  let caught: unknown;
  try {
    await run();
  } catch (error) {
    caught = error;
  }
  expect(caught).toBeInstanceOf(CryptoError);
  expect((caught as CryptoError).code).toBe(code);
}

describe('known answers from testdata/odk-encryption', () => {
  it('derives the listed IV seed and IVs, incrementing one byte per file', () => {
    expect(hex(ivSeed(INSTANCE_ID, FIXED_AES_KEY))).toBe('33ab78dcd5ce7fc51e4527c2f850d9cd');
    expect(submissionIvs(INSTANCE_ID, FIXED_AES_KEY, 3).map(hex)).toEqual([
      '34ab78dcd5ce7fc51e4527c2f850d9cd',
      '34ac78dcd5ce7fc51e4527c2f850d9cd',
      '34ac79dcd5ce7fc51e4527c2f850d9cd',
    ]);
  });

  it('decrypts enc/ to the plaintexts with a valid signature', async () => {
    const result = await decryptSubmission(katManifest(), privateKey, katFiles(), { requireValidSignature: true });
    expect(result.signature).toBe('valid');
    expect(same(result.submissionXml, read('plain/submission.xml'))).toBe(true);
    expect(result.media.map((file) => file.name)).toEqual(['photo.jpg', 'audit.csv']);
    expect(same(result.media[0]?.data, read('plain/photo.jpg'))).toBe(true);
    expect(same(result.media[1]?.data, read('plain/audit.csv'))).toBe(true);
    expect(result.media.map((file) => md5(file.data))).toEqual(['72de03d96498b3097347f2fdc7d82894', '1f563db3263393c0a7e6c20eb72c5c49']);
    expect(md5(result.submissionXml)).toBe('22cecbb521ac56e5bb9fc10776a0a9e9');
  });

  it('builds the exact signature source whose MD5 the README lists', () => {
    const manifest = katManifest();
    const source = signatureSource({
      formId: manifest.formId,
      version: manifest.version,
      base64EncryptedKey: manifest.base64EncryptedKey,
      instanceId: manifest.instanceId,
      files: ['photo.jpg', 'audit.csv', 'submission.xml'].map((name) => ({ name, md5Hex: md5(read(`plain/${name}`)) })),
    });
    expect(source).toBe(read('enc/signature-source.txt').toString('utf8'));
    expect(md5(Buffer.from(source))).toBe('5d98466c15969d9495253f18660b2910');
  });

  it('decrypts enc2/ (made by another implementation with a random key and seed)', async () => {
    const [instanceId, key, signature] = read('enc2/manifest.txt').toString('utf8').trim().split('\n');
    const manifest: EncryptedManifest = {
      formId: 'kat_form',
      version: '2024010101',
      instanceId: instanceId ?? '',
      base64EncryptedKey: key ?? '',
      mediaFiles: ['photo.jpg.enc'],
      encryptedXmlFile: 'submission.xml.enc',
      base64EncryptedElementSignature: signature ?? null,
    };
    const files = new Map(['photo.jpg.enc', 'submission.xml.enc'].map((name) => [name, read(`enc2/${name}`)]));
    const result = await decryptSubmission(manifest, privateKey, files);
    expect(result.signature).toBe('valid');
    expect(same(result.submissionXml, read('plain/submission.xml'))).toBe(true);
    expect(same(result.media[0]?.data, read('plain/photo.jpg'))).toBe(true);
  });

  it('reproduces enc/ byte for byte from the fixed AES key and OAEP seed', async () => {
    const encrypted = await encryptSubmission({
      formId: 'kat_form',
      version: '2024010101',
      instanceId: INSTANCE_ID,
      publicKey,
      submissionXml: read('plain/submission.xml'),
      media: [
        { name: 'photo.jpg', data: read('plain/photo.jpg') },
        { name: 'audit.csv', data: read('plain/audit.csv') },
      ],
      aesKey: FIXED_AES_KEY,
      oaepSeed: FIXED_OAEP_SEED,
    });
    expect(encrypted.manifestXml).toBe(read('enc/submission.xml').toString('utf8'));
    expect(encrypted.files.map((file) => file.name)).toEqual(ENC_FILES);
    for (const file of encrypted.files) expect(same(file.data, read(`enc/${file.name}`))).toBe(true);
  });
});

describe('encryption with random keys', () => {
  it('round-trips, and OpenSSL accepts our OAEP encoding', async () => {
    const media = [{ name: 'big.bin', data: randomBytes(100_003) }];
    const submissionXml = Buffer.from('<data id="f"><meta><instanceID>uuid:x</instanceID></meta></data>');
    const first = await encryptSubmission({ formId: 'f', instanceId: 'uuid:x', publicKey, submissionXml, media });
    const second = await encryptSubmission({ formId: 'f', instanceId: 'uuid:x', publicKey, submissionXml, media });
    expect(first.manifest.base64EncryptedKey).not.toBe(second.manifest.base64EncryptedKey);
    expect(first.manifestXml).not.toContain('version=');
    const openSslKey = createPrivateKey(read('priv.pem'));
    const aesKey = privateDecrypt({ key: openSslKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, Buffer.from(first.manifest.base64EncryptedKey, 'base64'));
    expect(aesKey).toHaveLength(32);

    const manifest = parseEncryptedManifest(first.manifestXml);
    const result = await decryptSubmission(manifest, privateKey, new Map(first.files.map((file) => [file.name, file.data])));
    expect(result.signature).toBe('valid');
    expect(same(result.submissionXml, submissionXml)).toBe(true);
    expect(same(result.media[0]?.data, media[0]?.data ?? Buffer.alloc(0))).toBe(true);
  });

  it('keeps an empty version in the manifest and the signature, as Collect does', async () => {
    const encrypted = await encryptSubmission({ formId: 'f', version: '', instanceId: 'uuid:v', publicKey, submissionXml: Buffer.from('<x/>') });
    expect(encrypted.manifestXml).toContain('id="f" version="" encrypted="yes"');
    const manifest = parseEncryptedManifest(encrypted.manifestXml);
    expect(manifest.version).toBe('');
    const files = new Map(encrypted.files.map((file) => [file.name, file.data]));
    expect((await decryptSubmission(manifest, privateKey, files)).signature).toBe('valid');
    expect((await decryptSubmission({ ...manifest, version: null }, privateKey, files)).signature).toBe('invalid');
  });

  it('pads every length to the next 16-byte block, always adding 1–16 bytes', async () => {
    for (const length of [0, 1, 15, 16, 17, 41, 48, 190]) {
      const encrypted = await encryptSubmission({ formId: 'f', instanceId: 'uuid:y', publicKey, submissionXml: Buffer.alloc(length, 0x61) });
      expect(encrypted.files[0]?.data.length).toBe((Math.floor(length / 16) + 1) * 16);
    }
  });

  it('gives the same ciphertext whatever the chunking, as one-shot OpenSSL CFB does', async () => {
    const data = randomBytes(1000);
    const iv = randomBytes(16);
    const padded = Buffer.concat([data, Buffer.alloc(8, 8)]);
    const openSsl = createCipheriv('aes-256-cfb', FIXED_AES_KEY, iv).setAutoPadding(false).update(padded);
    for (const size of [1, 7, 16, 33, 1000]) {
      const encryptor = new FileEncryptor(FIXED_AES_KEY, iv);
      const parts = [...chunksOf(data, size)].map((chunk) => encryptor.update(chunk));
      expect(Buffer.concat([...parts, encryptor.final()]).equals(openSsl)).toBe(true);
    }
  });

  it('wraps the IV byte 0xff to 0x00 and comes back to byte 0 after 16 files', async () => {
    let instanceId = '';
    for (let i = 0; ivSeed(instanceId, FIXED_AES_KEY)[0] !== 0xff; i += 1) instanceId = `uuid:wrap-${i}`;
    const seed = ivSeed(instanceId, FIXED_AES_KEY);
    const ivs = submissionIvs(instanceId, FIXED_AES_KEY, 17);
    expect(ivs[0]?.[0]).toBe(0x00);
    expect(same(ivs[0]?.subarray(1), seed.subarray(1))).toBe(true);
    expect(ivs[16]?.[0]).toBe(0x01);
    expect(ivs[16]?.[15]).toBe(((seed[15] ?? 0) + 1) & 0xff);

    const media = Array.from({ length: 17 }, (_, i) => ({ name: `f${i}.txt`, data: Buffer.from(`file ${i}`) }));
    const encrypted = await encryptSubmission({ formId: 'f', instanceId, publicKey, submissionXml: Buffer.from('<x/>'), media, aesKey: FIXED_AES_KEY });
    const result = await decryptSubmission(encrypted.manifest, privateKey, new Map(encrypted.files.map((file) => [file.name, file.data])));
    expect(result.signature).toBe('valid');
    expect(result.media.map((file) => Buffer.from(file.data).toString())).toEqual(media.map((file) => file.data.toString()));
  });

  it('OAEP-encrypts with a fixed seed deterministically and decrypts through OpenSSL', async () => {
    const message = Buffer.from('sixteen byte msg');
    const once = await rsaOaepEncrypt(publicKey, message, FIXED_OAEP_SEED);
    expect(same(await rsaOaepEncrypt(publicKey, message, FIXED_OAEP_SEED), once)).toBe(true);
    expect(same((await rsaOaepDecrypt(privateKey, once)) ?? undefined, message)).toBe(true);
    const openSslKey = createPrivateKey(read('priv.pem'));
    expect(privateDecrypt({ key: openSslKey, padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' }, once).equals(message)).toBe(true);
    await expectCryptoError(() => rsaOaepEncrypt(publicKey, Buffer.alloc(191)), 'crypto.bad_input');
  });
});

describe('streaming decryption', () => {
  it('decrypts a large attachment chunk by chunk without holding it whole', async () => {
    const photo = randomBytes(8 * 1024 * 1024 + 5);
    const encrypted = await encryptSubmission({
      formId: 'f',
      instanceId: 'uuid:stream',
      publicKey,
      submissionXml: Buffer.from('<data/>'),
      media: [{ name: 'photo.jpg', data: photo }],
    });
    const decryptor = await SubmissionDecryptor.open(parseEncryptedManifest(encrypted.manifestXml), privateKey);
    const md5s = new Map<string, string>();
    const output = createHash('md5');
    let largestChunk = 0;
    for (const file of encrypted.files) {
      const fileDecryptor = decryptor.fileDecryptor(file.name);
      const hash = file.name === 'photo.jpg.enc' ? output : createHash('md5');
      await pipeline(
        Readable.from(chunksOf(file.data, 65_537)),
        (source: AsyncIterable<Uint8Array>) => cipherChunks(fileDecryptor, source),
        new Writable({
          write(chunk: Buffer, _encoding, callback) {
            largestChunk = Math.max(largestChunk, chunk.length);
            hash.update(chunk);
            callback();
          },
        }),
      );
      md5s.set(file.name, fileDecryptor.md5Hex);
    }
    expect(output.digest('hex')).toBe(md5(photo));
    expect(md5s.get('photo.jpg.enc')).toBe(md5(photo));
    expect(largestChunk).toBeLessThanOrEqual(65_537 + 16);
    expect(await decryptor.signature(md5s)).toBe('valid');
  });

  it('reports a bad padding as a stream error, not a crash', async () => {
    const data = Buffer.from(read('enc/photo.jpg.enc'));
    data[data.length - 1] = (data[data.length - 1] ?? 0) ^ 0x01;
    const decryptor = await SubmissionDecryptor.open(katManifest(), privateKey);
    const fileDecryptor = decryptor.fileDecryptor('photo.jpg.enc');
    const run = pipeline(Readable.from([data]), (source: AsyncIterable<Uint8Array>) => cipherChunks(fileDecryptor, source), new Writable({ write: (_c, _e, cb) => cb() }));
    await expect(run).rejects.toMatchObject({ code: 'crypto.bad_padding' });
  });
});

describe('refusing tampered or incomplete envelopes', () => {
  it('flags a changed byte inside a file through the signature', async () => {
    const files = katFiles();
    const photo = Buffer.from(files.get('photo.jpg.enc') ?? []);
    photo[3] = (photo[3] ?? 0) ^ 0x40;
    files.set('photo.jpg.enc', photo);
    expect((await decryptSubmission(katManifest(), privateKey, files)).signature).toBe('invalid');
    await expectCryptoError(() => decryptSubmission(katManifest(), privateKey, files, { requireValidSignature: true }), 'crypto.signature_mismatch');
  });

  it('refuses a changed final block as bad padding', async () => {
    const files = katFiles();
    const xml = Buffer.from(files.get('submission.xml.enc') ?? []);
    xml[xml.length - 1] = (xml[xml.length - 1] ?? 0) ^ 0x10;
    files.set('submission.xml.enc', xml);
    await expectCryptoError(() => decryptSubmission(katManifest(), privateKey, files), 'crypto.bad_padding');
  });

  it('refuses truncated and empty files', async () => {
    const files = katFiles();
    files.set('audit.csv.enc', (files.get('audit.csv.enc') ?? Buffer.alloc(0)).subarray(0, 60));
    await expectCryptoError(() => decryptSubmission(katManifest(), privateKey, files), 'crypto.truncated');
    files.set('audit.csv.enc', Buffer.alloc(0));
    await expectCryptoError(() => decryptSubmission(katManifest(), privateKey, files), 'crypto.truncated');
  });

  it('detects swapped files', async () => {
    const files = katFiles();
    files.set('photo.jpg.enc', read('enc/audit.csv.enc').subarray(0, 48));
    await expect(decryptSubmission(katManifest(), privateKey, files, { requireValidSignature: true })).rejects.toBeInstanceOf(CryptoError);
  });

  it('refuses a missing file and an unknown one', async () => {
    const files = katFiles();
    files.delete('audit.csv.enc');
    await expectCryptoError(() => decryptSubmission(katManifest(), privateKey, files), 'crypto.missing_file');
    const decryptor = await SubmissionDecryptor.open(katManifest(), privateKey);
    await expectCryptoError(() => decryptor.fileDecryptor('other.enc'), 'crypto.unknown_file');
    await expectCryptoError(() => decryptor.signature(new Map()), 'crypto.missing_file');
  });

  it('refuses the wrong private key, and finds the right one among several', async () => {
    const other = await loadPrivateKey(generateKeyPairSync('rsa', { modulusLength: 2048 }).privateKey.export({ format: 'pem', type: 'pkcs8' }) as string);
    await expectCryptoError(() => decryptSubmission(katManifest(), other, katFiles()), 'crypto.bad_key');
    expect((await decryptSubmission(katManifest(), [other, privateKey], katFiles())).signature).toBe('valid');
  });

  it('refuses a tampered wrapped key', async () => {
    const manifest = katManifest();
    const key = Buffer.from(manifest.base64EncryptedKey, 'base64');
    key[10] = (key[10] ?? 0) ^ 0x01;
    await expectCryptoError(() => decryptSubmission({ ...manifest, base64EncryptedKey: key.toString('base64') }, privateKey, katFiles()), 'crypto.bad_key');
    await expectCryptoError(() => decryptSubmission({ ...manifest, base64EncryptedKey: 'AAAA' }, privateKey, katFiles()), 'crypto.bad_key');
  });

  it('refuses a key wrapped with SHA-1 OAEP (Java SunJCE default)', async () => {
    const sha1Wrapped = publicEncrypt({ key: read('pub.pem'), padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha1' }, FIXED_AES_KEY);
    const manifest = { ...katManifest(), base64EncryptedKey: sha1Wrapped.toString('base64') };
    await expectCryptoError(() => SubmissionDecryptor.open(manifest, privateKey), 'crypto.bad_key');
  });

  it('reports a tampered signature as invalid and a missing one as absent', async () => {
    const manifest = katManifest();
    const signature = Buffer.from(manifest.base64EncryptedElementSignature ?? '', 'base64');
    signature[0] = (signature[0] ?? 0) ^ 0x01;
    const tampered = { ...manifest, base64EncryptedElementSignature: signature.toString('base64') };
    expect((await decryptSubmission(tampered, privateKey, katFiles())).signature).toBe('invalid');
    await expectCryptoError(() => decryptSubmission(tampered, privateKey, katFiles(), { requireValidSignature: true }), 'crypto.signature_mismatch');
    const unsigned = { ...manifest, base64EncryptedElementSignature: null };
    expect((await decryptSubmission(unsigned, privateKey, katFiles())).signature).toBe('absent');
    await expectCryptoError(() => decryptSubmission(unsigned, privateKey, katFiles(), { requireValidSignature: true }), 'crypto.signature_missing');
  });

  it('flags a manifest whose version was changed', async () => {
    expect((await decryptSubmission({ ...katManifest(), version: '2024010102' }, privateKey, katFiles())).signature).toBe('invalid');
  });

  it('refuses attachment names that are paths or clash with submission.xml', async () => {
    const submissionXml = Buffer.from('<x/>');
    for (const name of ['../evil.jpg', 'a/b.jpg', 'submission.xml', 'nul\u0000.jpg']) {
      await expect(encryptSubmission({ formId: 'f', instanceId: 'uuid:z', publicKey, submissionXml, media: [{ name, data: submissionXml }] })).rejects.toBeInstanceOf(CryptoError);
    }
  });
});

describe('key loading', () => {
  it('reads private keys as PEM (PKCS#1 and PKCS#8) and DER, public keys as SPKI base64, PEM and DER', async () => {
    const fromDer = await loadPrivateKey(read('priv.pk8.der'));
    expect(sameKeyPair(fromDer, publicKey)).toBe(true);
    expect(sameKeyPair(await loadPrivateKey(await privateKeyToPem(privateKey)), publicKey)).toBe(true);
    const base64 = publicKeyToBase64Spki(privateKey);
    expect(base64).toHaveLength(392);
    expect(base64.startsWith('MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA95fc0m1fiNMv8T2g')).toBe(true);
    expect(base64).toBe(read('pub.der').toString('base64'));
    expect(publicKeyToBase64Spki(await loadPublicKey(base64))).toBe(base64);
    expect(publicKeyToBase64Spki(await loadPublicKey(read('pub.pem').toString('utf8')))).toBe(base64);
    const pkcs1Public = createPublicKey(read('pub.pem')).export({ format: 'pem', type: 'pkcs1' }).toString();
    expect(publicKeyToBase64Spki(await loadPublicKey(pkcs1Public))).toBe(base64);
  });

  it('generates 2048- and 3072-bit key pairs that ODK envelopes round-trip through', async () => {
    for (const bits of [2048, 3072] as const) {
      const generated = await generatePrivateKey(bits);
      expect(generated.modulusBits).toBe(bits);
      const encrypted = await encryptSubmission({ formId: 'f', instanceId: 'uuid:g', publicKey: generated.publicKey, submissionXml: Buffer.from('<g/>') });
      const files = new Map(encrypted.files.map((file) => [file.name, file.data]));
      expect((await decryptSubmission(encrypted.manifest, generated, files)).signature).toBe('valid');
    }
  });

  it('refuses garbage and non-RSA keys with stable codes', async () => {
    await expectCryptoError(() => loadPublicKey('not a key!'), 'crypto.bad_public_key');
    await expectCryptoError(() => loadPrivateKey(Buffer.from('junk')), 'crypto.bad_private_key');
    await expectCryptoError(() => loadPrivateKey('-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----'), 'crypto.bad_private_key');
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' });
    await expectCryptoError(() => loadPublicKey(ec.publicKey.export({ format: 'der', type: 'spki' })), 'crypto.bad_public_key');
    await expectCryptoError(() => loadPrivateKey(ec.privateKey.export({ format: 'der', type: 'pkcs8' })), 'crypto.bad_private_key');
  });
});

function* chunksOf(data: Uint8Array, size: number): Generator<Uint8Array> {
  for (let offset = 0; offset < data.length; offset += size) yield data.subarray(offset, offset + size);
}
