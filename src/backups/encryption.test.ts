import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { setImmediate as nextTurn } from 'node:timers/promises';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import { afterAll, describe, expect, it } from 'vitest';
import { checkRecipient, decryptStream, encryptStream, parseIdentityFile } from './encryption.js';

const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-age-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('age encryption of archives', () => {
  it('streams both ways without buffering the file, even when the reader is slow', { timeout: 120_000 }, async () => {
    const identity = await generateX25519Identity();
    const chunk = Buffer.alloc(1024 * 1024, 0x5a);
    const total = 80;
    const file = path.join(dir, 'big.age');
    const source = Readable.from((function* () {
      for (let i = 0; i < total; i++) yield chunk;
    })());
    await pipeline(await encryptStream(source, { recipients: [await identityToRecipient(identity)] }), createWriteStream(file));

    const before = process.memoryUsage().arrayBuffers;
    let peak = 0;
    let read = 0;
    for await (const part of await decryptStream(createReadStream(file), { identities: [identity], passphrases: [] })) {
      read += (part as Buffer).length;
      peak = Math.max(peak, process.memoryUsage().arrayBuffers - before);
      await nextTurn();
    }
    expect(read).toBe(total * chunk.length);
    // Buffers await collection for a while, so the bound is loose; buffering the file would pass 80 MiB.
    expect(peak).toBeLessThan(48 * 1024 * 1024);
  });

  it('checks recipients and identity files as age-keygen writes them', async () => {
    const identity = await generateX25519Identity();
    const recipient = await identityToRecipient(identity);
    expect(checkRecipient(` ${recipient} `)).toBe(recipient);
    expect(() => checkRecipient('age1notakey')).toThrow(expect.objectContaining({ code: 'backup.bad_recipient' }));
    expect(parseIdentityFile(`# created: 2026-05-01\n# public key: ${recipient}\n${identity}\n`)).toEqual([identity]);
    expect(() => parseIdentityFile('# only a comment\n')).toThrow(expect.objectContaining({ code: 'backup.bad_identity' }));
    await expect(encryptStream(Readable.from([Buffer.from('x')]), { recipients: [recipient], passphrase: 'both' })).rejects.toMatchObject({ code: 'backup.encryption_required' });
  });
});
