/**
 * A minimal S3-compatible server for tests, in-process on 127.0.0.1: path-style addressing and
 * exactly the calls Fieldkeep's backups make (PutObject, CreateMultipartUpload, UploadPart,
 * CompleteMultipartUpload, AbortMultipartUpload, ListObjectsV2 with continuation, GetObject,
 * DeleteObject). Objects and parts are kept in a temporary directory, so a test of streaming
 * measures the client, not the fake. Requests must carry a SigV4 Authorization header naming the
 * expected access key (the signature itself is not checked). Every call is recorded.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';

export interface FakeS3 {
  /** http://127.0.0.1:<port> */
  endpoint: string;
  accessKeyId: string;
  secretAccessKey: string;
  /** Each request as `<Operation> <key>`, in order. */
  calls: string[];
  /** The keys of a bucket, sorted. */
  keys(bucket: string): string[];
  object(bucket: string, key: string): Promise<Buffer>;
  /** Replaces an object's bytes in place (to damage an archive). */
  change(bucket: string, key: string, change: (bytes: Buffer) => Buffer): Promise<void>;
  /** Bytes of object and part bodies received so far, counted as they arrive. */
  bytesReceived(): number;
  /** Multipart uploads started and neither completed nor aborted. */
  openUploads(): number;
  /** Fail the next request whose operation matches, with this S3 error. */
  failNext(operation: string, error: { status: number; code: string }): void;
  close(): Promise<void>;
}

interface StoredObject {
  file: string;
  size: number;
  etag: string;
  modified: Date;
}

interface Upload {
  bucket: string;
  key: string;
  parts: Map<number, { file: string; etag: string; size: number }>;
}

const xmlEscape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');

export async function startFakeS3(options: { buckets: string[]; listPageSize?: number }): Promise<FakeS3> {
  const dir = mkdtempSync(path.join(tmpdir(), 'fieldkeep-fake-s3-'));
  const accessKeyId = `AKIAFAKE${randomBytes(6).toString('hex').toUpperCase()}`;
  const secretAccessKey = randomBytes(30).toString('base64');
  const buckets = new Map<string, Map<string, StoredObject>>(options.buckets.map((b) => [b, new Map()]));
  const uploads = new Map<string, Upload>();
  const calls: string[] = [];
  const failures: Array<{ operation: string; status: number; code: string }> = [];
  const pageSize = options.listPageSize ?? 1000;
  let files = 0;
  let received = 0;

  const newFile = () => path.join(dir, String(++files));

  /** Streams the request body into a new file; returns its path, size and MD5 (the ETag S3 gives a single part). */
  async function saveBody(request: IncomingMessage): Promise<{ file: string; size: number; etag: string }> {
    const file = newFile();
    const md5 = createHash('md5');
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      md5.update(chunk);
      size += chunk.length;
      received += chunk.length;
    });
    await pipeline(request, createWriteStream(file));
    return { file, size, etag: `"${md5.digest('hex')}"` };
  }

  function sendError(response: ServerResponse, status: number, code: string, message: string): void {
    response.writeHead(status, { 'content-type': 'application/xml' });
    response.end(`<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${code}</Code><Message>${xmlEscape(message)}</Message></Error>`);
  }

  function sendXml(response: ServerResponse, body: string): void {
    response.writeHead(200, { 'content-type': 'application/xml' });
    response.end(`<?xml version="1.0" encoding="UTF-8"?>\n${body}`);
  }

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const url = new URL(request.url ?? '/', 'http://fake');
    const [, bucketName = '', ...keyParts] = url.pathname.split('/');
    const key = keyParts.map(decodeURIComponent).join('/');
    const query = url.searchParams;
    const method = request.method ?? 'GET';
    const operation =
      method === 'GET' && key === '' ? 'ListObjectsV2'
      : method === 'GET' ? 'GetObject'
      : method === 'PUT' && query.has('partNumber') ? 'UploadPart'
      : method === 'PUT' ? 'PutObject'
      : method === 'POST' && query.has('uploads') ? 'CreateMultipartUpload'
      : method === 'POST' && query.has('uploadId') ? 'CompleteMultipartUpload'
      : method === 'DELETE' && query.has('uploadId') ? 'AbortMultipartUpload'
      : method === 'DELETE' ? 'DeleteObject'
      : `unsupported ${method}`;
    calls.push(`${operation} ${key}`);

    const auth = request.headers.authorization ?? '';
    if (!auth.startsWith(`AWS4-HMAC-SHA256 Credential=${accessKeyId}/`)) {
      request.resume();
      return sendError(response, 403, 'InvalidAccessKeyId', 'The AWS Access Key Id you provided does not exist in our records.');
    }
    const failure = failures.findIndex((f) => f.operation === operation);
    if (failure >= 0) {
      const [f] = failures.splice(failure, 1);
      request.resume();
      return sendError(response, f!.status, f!.code, `injected failure of ${operation}`);
    }
    const bucket = buckets.get(bucketName);
    if (bucket === undefined) {
      request.resume();
      return sendError(response, 404, 'NoSuchBucket', 'The specified bucket does not exist');
    }

    switch (operation) {
      case 'PutObject': {
        const body = await saveBody(request);
        await replace(bucket, key, { file: body.file, size: body.size, etag: body.etag, modified: new Date() });
        response.writeHead(200, { etag: body.etag });
        return void response.end();
      }
      case 'CreateMultipartUpload': {
        request.resume();
        const uploadId = randomBytes(12).toString('hex');
        uploads.set(uploadId, { bucket: bucketName, key, parts: new Map() });
        return sendXml(response, `<InitiateMultipartUploadResult><Bucket>${bucketName}</Bucket><Key>${xmlEscape(key)}</Key><UploadId>${uploadId}</UploadId></InitiateMultipartUploadResult>`);
      }
      case 'UploadPart': {
        const upload = uploads.get(query.get('uploadId') ?? '');
        if (upload === undefined) {
          request.resume();
          return sendError(response, 404, 'NoSuchUpload', 'The specified upload does not exist.');
        }
        const body = await saveBody(request);
        upload.parts.set(Number(query.get('partNumber')), body);
        response.writeHead(200, { etag: body.etag });
        return void response.end();
      }
      case 'CompleteMultipartUpload': {
        const uploadId = query.get('uploadId') ?? '';
        const upload = uploads.get(uploadId);
        const listing = (await readBody(request)).toString('utf8');
        if (upload === undefined) return sendError(response, 404, 'NoSuchUpload', 'The specified upload does not exist.');
        const named = [...listing.matchAll(/<Part>\s*<ETag>([^<]*)<\/ETag>\s*<PartNumber>(\d+)<\/PartNumber>\s*<\/Part>/g)].map((m) => ({ etag: m[1]!.replace(/&quot;/g, '"'), number: Number(m[2]) }));
        if (named.length === 0 || named.some((p, i) => upload.parts.get(p.number)?.etag !== p.etag || (i > 0 && p.number <= named[i - 1]!.number))) {
          return sendError(response, 400, 'InvalidPart', 'One or more of the specified parts could not be found or are out of order.');
        }
        const file = newFile();
        const out = createWriteStream(file);
        let size = 0;
        for (const p of named) {
          const part = upload.parts.get(p.number)!;
          size += part.size;
          await pipeline(createReadStream(part.file), out, { end: false });
        }
        await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
        for (const part of upload.parts.values()) await rm(part.file, { force: true });
        uploads.delete(uploadId);
        const etag = `"${createHash('md5').update(named.map((p) => p.etag).join('')).digest('hex')}-${named.length}"`;
        await replace(bucket, key, { file, size, etag, modified: new Date() });
        return sendXml(response, `<CompleteMultipartUploadResult><Bucket>${bucketName}</Bucket><Key>${xmlEscape(key)}</Key><ETag>${xmlEscape(etag)}</ETag></CompleteMultipartUploadResult>`);
      }
      case 'AbortMultipartUpload': {
        request.resume();
        const uploadId = query.get('uploadId') ?? '';
        const upload = uploads.get(uploadId);
        if (upload !== undefined) for (const part of upload.parts.values()) await rm(part.file, { force: true });
        uploads.delete(uploadId);
        response.writeHead(204);
        return void response.end();
      }
      case 'ListObjectsV2': {
        request.resume();
        if (query.get('list-type') !== '2') return sendError(response, 400, 'InvalidArgument', 'only ListObjectsV2 is supported');
        const prefix = query.get('prefix') ?? '';
        const after = query.has('continuation-token') ? Buffer.from(query.get('continuation-token')!, 'base64url').toString('utf8') : '';
        const max = Math.min(pageSize, Number(query.get('max-keys') ?? 1000));
        const matching = [...bucket.keys()].filter((k) => k.startsWith(prefix) && k > after).sort();
        const page = matching.slice(0, max);
        const truncated = matching.length > page.length;
        const contents = page
          .map((k) => {
            const o = bucket.get(k)!;
            return `<Contents><Key>${xmlEscape(k)}</Key><LastModified>${o.modified.toISOString()}</LastModified><ETag>${xmlEscape(o.etag)}</ETag><Size>${o.size}</Size><StorageClass>STANDARD</StorageClass></Contents>`;
          })
          .join('');
        const next = truncated ? `<NextContinuationToken>${Buffer.from(page[page.length - 1]!, 'utf8').toString('base64url')}</NextContinuationToken>` : '';
        return sendXml(
          response,
          `<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>${bucketName}</Name><Prefix>${xmlEscape(prefix)}</Prefix><KeyCount>${page.length}</KeyCount><MaxKeys>${max}</MaxKeys><IsTruncated>${truncated}</IsTruncated>${contents}${next}</ListBucketResult>`,
        );
      }
      case 'GetObject': {
        request.resume();
        const object = bucket.get(key);
        if (object === undefined) return sendError(response, 404, 'NoSuchKey', 'The specified key does not exist.');
        response.writeHead(200, { 'content-length': String(object.size), etag: object.etag, 'last-modified': object.modified.toUTCString(), 'content-type': 'application/octet-stream' });
        await pipeline(createReadStream(object.file), response);
        return;
      }
      case 'DeleteObject': {
        request.resume();
        const object = bucket.get(key);
        if (object !== undefined) {
          bucket.delete(key);
          await rm(object.file, { force: true });
        }
        response.writeHead(204);
        return void response.end();
      }
      default:
        request.resume();
        return sendError(response, 501, 'NotImplemented', `${operation} is not implemented by the test fake`);
    }
  }

  async function replace(bucket: Map<string, StoredObject>, key: string, object: StoredObject): Promise<void> {
    const old = bucket.get(key);
    bucket.set(key, object);
    if (old !== undefined) await rm(old.file, { force: true });
  }

  async function readBody(request: IncomingMessage): Promise<Buffer> {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    return Buffer.concat(chunks);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch((err: unknown) => {
      if (!response.headersSent) sendError(response, 500, 'InternalError', String(err));
      else response.destroy();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('the fake S3 server has no port');

  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    accessKeyId,
    secretAccessKey,
    calls,
    keys: (bucket) => [...(buckets.get(bucket)?.keys() ?? [])].sort(),
    object: async (bucket, key) => {
      const object = buckets.get(bucket)?.get(key);
      if (object === undefined) throw new Error(`no object ${bucket}/${key}`);
      return readFile(object.file);
    },
    change: async (bucket, key, change) => {
      const object = buckets.get(bucket)?.get(key);
      if (object === undefined) throw new Error(`no object ${bucket}/${key}`);
      const bytes = change(await readFile(object.file));
      await writeFile(object.file, bytes);
      object.size = bytes.length;
    },
    bytesReceived: () => received,
    openUploads: () => uploads.size,
    failNext: (operation, error) => void failures.push({ operation, ...error }),
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
