/**
 * A backup location on S3-compatible storage, `s3://bucket/prefix`. An archive is streamed up as a
 * multipart upload (one PutObject when it fits in one part), so memory holds a few parts whatever
 * the archive's size, and the object appears under its name only when the upload completes; a
 * failed upload is aborted, leaving nothing. Requests are signed with the configured key, or the
 * AWS SDK's default credentials when none is configured. No request or error message carries a key.
 *
 * The SDK is loaded when a location is first used, not with the module: it holds about 24 MB of
 * resident memory, which a server that backs up to a directory (or not at all) should not carry.
 */
import { PassThrough, Readable, type Writable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';
import type { BackupS3Settings } from '../config/config.js';
import { BackupError } from './errors.js';
import type { BackupLocation } from './location.js';

/**
 * 16 MiB parts: S3 allows 10,000 parts, so an archive may reach 156 GiB; with two parts uploading
 * while the next fills, the upload holds about 64 MiB.
 */
const PART_BYTES = 16 * 1024 * 1024;
const PARTS_IN_FLIGHT = 2;
const SIDECAR_MAX_BYTES = 64 * 1024;

export interface S3LocationOptions {
  /** Size of each part of a multipart upload (at least 5 MiB, S3's minimum). */
  partBytes?: number;
}

type Sdk = typeof import('@aws-sdk/client-s3') & Pick<typeof import('@aws-sdk/lib-storage'), 'Upload'>;

let sdk: Promise<Sdk> | undefined;

function loadSdk(): Promise<Sdk> {
  sdk ??= Promise.all([import('@aws-sdk/client-s3'), import('@aws-sdk/lib-storage')]).then(([client, storage]) => ({ ...client, Upload: storage.Upload }));
  return sdk;
}

interface Connection {
  sdk: Sdk;
  client: S3Client;
}

export class S3Location implements BackupLocation {
  readonly name: string;
  private connection: Promise<Connection> | undefined;
  private readonly keyPrefix: string;
  private readonly partBytes: number;

  constructor(
    private readonly settings: BackupS3Settings,
    private readonly bucket: string,
    prefix: string,
    options: S3LocationOptions = {},
  ) {
    this.name = `s3://${bucket}${prefix === '' ? '' : `/${prefix}`}`;
    this.keyPrefix = prefix === '' ? '' : `${prefix}/`;
    this.partBytes = options.partBytes ?? PART_BYTES;
  }

  private connect(): Promise<Connection> {
    this.connection ??= loadSdk().then((loaded) => ({ sdk: loaded, client: this.newClient(loaded) }));
    return this.connection;
  }

  private newClient(loaded: Sdk): S3Client {
    const settings = this.settings;
    return new loaded.S3Client({
      region: settings.region,
      ...(settings.endpoint === undefined ? {} : { endpoint: settings.endpoint }),
      forcePathStyle: settings.pathStyle,
      ...(settings.accessKeyId !== undefined && settings.secretAccessKey !== undefined
        ? { credentials: { accessKeyId: settings.accessKeyId, secretAccessKey: settings.secretAccessKey } }
        : {}),
      // Checksums only where S3 requires them: several S3-compatible services reject the
      // streaming checksum trailers the SDK would otherwise add. Each archive's own SHA-256 (in
      // its sidecar) and its entries' digests are what prove it intact.
      requestChecksumCalculation: 'WHEN_REQUIRED',
      responseChecksumValidation: 'WHEN_REQUIRED',
      requestHandler: { connectionTimeout: 30_000, requestTimeout: 300_000 },
    });
  }

  private key(file: string): string {
    return `${this.keyPrefix}${file}`;
  }

  describe(file: string): string {
    return `s3://${this.bucket}/${this.key(file)}`;
  }

  async writeArchive<T>(file: string, write: (sink: Writable) => Promise<T>): Promise<T> {
    const { sdk: loaded, client } = await this.connect();
    const body = new PassThrough();
    const upload = new loaded.Upload({
      client,
      params: { Bucket: this.bucket, Key: this.key(file), Body: body, ContentType: 'application/octet-stream' },
      partSize: this.partBytes,
      queueSize: PARTS_IN_FLIGHT,
      leavePartsOnError: false,
    });
    // Settles with the upload's error, or undefined once the object is complete.
    const uploaded = upload.done().then(
      () => undefined,
      (err: unknown) => err,
    );
    // A failed upload stops reading: the writer is stopped too, rather than left waiting on a full stream.
    void uploaded.then((err) => err !== undefined && body.destroy(err as Error));
    let result: T;
    try {
      result = await write(body);
    } catch (err) {
      // The upload then fails reading its body and aborts the multipart upload before it settles.
      body.destroy(err as Error);
      const uploadError = await uploaded;
      // When the storage failed first, the writer only saw its stream end: the storage's error is the cause.
      throw fromStorage(uploadError) ? this.failure('upload', file, uploadError) : err;
    }
    const uploadError = await uploaded;
    if (uploadError !== undefined) throw this.failure('upload', file, uploadError);
    return result;
  }

  async writeSidecar(file: string, text: string): Promise<void> {
    await this.send('put', `${file}.json`, ({ sdk: loaded, client }) =>
      client.send(new loaded.PutObjectCommand({ Bucket: this.bucket, Key: this.key(`${file}.json`), Body: text, ContentType: 'application/json' })),
    );
  }

  async names(): Promise<string[]> {
    const names: string[] = [];
    let token: string | undefined;
    do {
      const continuation = token;
      const page = await this.send('list', '', ({ sdk: loaded, client }) =>
        client.send(new loaded.ListObjectsV2Command({ Bucket: this.bucket, Prefix: this.keyPrefix, ...(continuation === undefined ? {} : { ContinuationToken: continuation }) })),
      );
      for (const object of page.Contents ?? []) {
        const rest = object.Key?.slice(this.keyPrefix.length) ?? '';
        if (rest !== '' && !rest.includes('/')) names.push(rest);
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token !== undefined);
    return names;
  }

  async readSidecar(file: string): Promise<string | undefined> {
    const { sdk: loaded, client } = await this.connect();
    try {
      const object = await client.send(new loaded.GetObjectCommand({ Bucket: this.bucket, Key: this.key(`${file}.json`) }));
      if (object.Body === undefined || (object.ContentLength ?? 0) > SIDECAR_MAX_BYTES) {
        (object.Body as Readable | undefined)?.destroy();
        return undefined;
      }
      return await object.Body.transformToString('utf8');
    } catch (err) {
      if (isMissing(err)) return undefined;
      throw this.failure('get', `${file}.json`, err);
    }
  }

  async read(file: string): Promise<Readable> {
    const { sdk: loaded, client } = await this.connect();
    try {
      const object = await client.send(new loaded.GetObjectCommand({ Bucket: this.bucket, Key: this.key(file) }));
      if (!(object.Body instanceof Readable)) throw new Error('the response has no body');
      return object.Body;
    } catch (err) {
      if (isMissing(err)) throw new BackupError('backup.not_an_archive', `There is no archive ${this.describe(file)}.`);
      throw this.failure('get', file, err);
    }
  }

  async remove(file: string): Promise<void> {
    for (const name of [file, `${file}.json`]) {
      await this.send('delete', name, ({ sdk: loaded, client }) => client.send(new loaded.DeleteObjectCommand({ Bucket: this.bucket, Key: this.key(name) })));
    }
  }

  close(): void {
    void this.connection?.then(({ client }) => client.destroy());
  }

  private async send<R>(operation: string, file: string, request: (connection: Connection) => Promise<R>): Promise<R> {
    const connection = await this.connect();
    try {
      return await request(connection);
    } catch (err) {
      throw this.failure(operation, file, err);
    }
  }

  /** What the storage said, with where, and a hint for the usual causes; never a key. */
  private failure(operation: string, file: string, err: unknown): unknown {
    if (err instanceof BackupError) return err;
    const where = file === '' ? this.name : this.describe(file);
    if (isServiceError(err)) {
      const status = err.$metadata.httpStatusCode;
      const hint =
        err.name === 'NoSuchBucket'
          ? ': create the bucket, or correct FIELDKEEP_BACKUP_DIR'
          : status === 403 || ['InvalidAccessKeyId', 'SignatureDoesNotMatch', 'AccessDenied'].includes(err.name)
            ? ': check FIELDKEEP_BACKUP_S3_ACCESS_KEY_ID and FIELDKEEP_BACKUP_S3_SECRET_ACCESS_KEY, and that the key may put, list, get and delete objects there'
            : '';
      return new BackupError('backup.storage_failed', `S3 ${operation} of ${where} failed: ${err.name}${status === undefined ? '' : ` (HTTP ${status})`}: ${err.message}${hint}.`);
    }
    const message = err instanceof Error ? err.message : String(err);
    return new BackupError('backup.storage_failed', `S3 ${operation} of ${where} failed: ${message} (check FIELDKEEP_BACKUP_S3_ENDPOINT and the network).`);
  }
}

interface ServiceError extends Error {
  $fault: 'client' | 'server';
  $metadata: { httpStatusCode?: number };
}

/** An error of a request to the storage (the SDK marks each with its metadata), not one the writer passed on. */
function fromStorage(err: unknown): boolean {
  return typeof err === 'object' && err !== null && '$metadata' in err;
}

/** What the service answered with an error status (the SDK's S3ServiceException, told by shape so the SDK loads only when used). */
function isServiceError(err: unknown): err is ServiceError {
  return err instanceof Error && fromStorage(err) && '$fault' in err;
}

function isMissing(err: unknown): boolean {
  return isServiceError(err) && (err.name === 'NoSuchKey' || err.$metadata.httpStatusCode === 404) && err.name !== 'NoSuchBucket';
}
