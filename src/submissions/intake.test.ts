import { randomBytes } from 'node:crypto';
import Fastify from 'fastify';
import multipart from '@fastify/multipart';
import { describe, expect, it } from 'vitest';
import type { BlobStore, StoredBlob } from '../blobs/index.js';
import { multipartBody, type Part } from '../openrosa/submission-client.test-support.js';
import { BUFFERED_FILE_BYTES, PART_LIMITS, receiveParts } from './intake.js';

const MAX_BYTES = 10 * 1024 * 1024;
const XML = `<?xml version="1.0"?><data id="f"><meta><instanceID>uuid:6b2f0d1e-3c4a-4b5c-8d6e-7f8091a2b3c4</instanceID></meta></data>`;

/** A store whose every put fails at once, before reading any content, as one whose disk has failed would. */
function failingStore(): BlobStore & { puts: number } {
  const store = {
    puts: 0,
    put: async (): Promise<StoredBlob> => {
      store.puts += 1;
      throw Object.assign(new Error('EIO: i/o error, open'), { code: 'EIO', syscall: 'open' });
    },
    get: () => Promise.reject(new Error('unused')),
    has: () => Promise.resolve(false),
    deleteUnlessInUse: () => Promise.resolve('absent' as const),
  };
  return store;
}

async function receiveWith(store: BlobStore, parts: Part[]) {
  const app = Fastify();
  await app.register(multipart, { throwFileSizeLimit: true, limits: { ...PART_LIMITS, files: PART_LIMITS.parts, fileSize: MAX_BYTES } });
  app.post('/', async (request) => {
    const received = await receiveParts(request.parts(), store, { maxBytes: MAX_BYTES, maxXmlBytes: 1024 * 1024 });
    return { files: received.files.length };
  });
  const body = multipartBody(parts);
  try {
    return await app.inject({ method: 'POST', url: '/', headers: { 'content-type': body.contentType }, payload: body.body });
  } finally {
    await app.close();
  }
}

describe('the submission intake', () => {
  it('fails the request with the store\'s error once a write fails, and asks the store to write nothing more for it', async () => {
    const store = failingStore();
    const photo = randomBytes(BUFFERED_FILE_BYTES + 4 * 1024 * 1024);
    const answer = await receiveWith(store, [
      { name: 'xml_submission_file', filename: 'instance.xml', contentType: 'text/xml', body: XML },
      { name: 'big.jpg', filename: 'big.jpg', contentType: 'image/jpeg', body: photo },
      { name: 'after.jpg', filename: 'after.jpg', contentType: 'image/jpeg', body: 'JPEG' },
    ]);
    expect(answer.statusCode).toBe(500);
    expect(answer.json()).toMatchObject({ message: 'EIO: i/o error, open' });
    // Not the small attachment after it, nor the XML, which are held until the body is accepted.
    expect(store.puts).toBe(1);
  });
});
