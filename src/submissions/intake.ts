/*
 * Reads an OpenRosa submission's multipart body part by part, in whatever order the parts come.
 * The XML part (`xml_submission_file`, as a file or, from hand-made clients, a plain field) is the
 * one large part held in memory, within the XML cap. Small attachments are held too, up to
 * `BUFFERED_FILE_BYTES` for the whole request; these and the XML are stored only once the body has
 * been read and found acceptable, so a refused request writes nothing of them, and a hostile body
 * of a thousand tiny parts costs parsing, not a thousand synced files. Every other file part is streamed straight into the blob store, so memory stays
 * flat whatever the attachments weigh; its blob write starts as soon as the part begins and the
 * next part is read while it finishes (its fsync). The caller awaits every write before it commits.
 *
 * Limits: the whole body (XML, files and fields) may carry at most `maxBytes`; busboy caps the part
 * count, the field count and size, and the header count. Exceeding any of them is a 413. A refusal
 * found in the XML (malformed, DOCTYPE, bad name) does not stop reading: the rest of the body is
 * drained (within the limits) so the client is not cut off mid-upload before it reads the answer.
 */
import { finished } from 'node:stream/promises';
import type { Readable } from 'node:stream';
import type { Multipart } from '@fastify/multipart';
import { BlobError, type BlobStore, type StoredBlob } from '../blobs/index.js';
import { AppError } from '../server/errors.js';
import { identifySubmission, isPlainFileName, type SubmissionIdentity } from './content.js';

export const XML_PART = 'xml_submission_file';
/** The text part ODK Collect adds to every POST of a split submission but the last. */
export const INCOMPLETE_PART = '*isIncomplete*';

/** busboy's limits; the byte limits come from the settings. */
export const PART_LIMITS = {
  /** Collect sends at most about 100 attachments per POST; Enketo batches by size. */
  parts: 1000,
  /** Text fields: `*isIncomplete*`, Enketo's CSRF token, an XML sent as a field. */
  fields: 16,
  fieldSize: 1024 * 1024,
  fieldNameSize: 1024,
  headerPairs: 64,
} as const;

/**
 * Attachments held in memory per request until the body is accepted (a phone's signature or a
 * small photo); beyond this a part streams to the store as it arrives.
 */
export const BUFFERED_FILE_BYTES = 256 * 1024;

export interface IntakeLimits {
  /** The whole body: XML, files and fields together. */
  maxBytes: number;
  /** The XML part, which is read into memory. */
  maxXmlBytes: number;
}

export interface ReceivedFile {
  name: string;
  contentType: string;
  blob: StoredBlob;
}

export interface ReceivedRequest {
  /** The XML exactly as it arrived. */
  xml: Buffer;
  xmlBlob: StoredBlob;
  identity: SubmissionIdentity;
  files: ReceivedFile[];
  /** Collect's `*isIncomplete*` was sent: more POSTs with further files follow. */
  incomplete: boolean;
}

interface PendingFile {
  name: string;
  contentType: string;
  /** A streamed part's write, under way; or a small part's content, stored once the body is accepted. */
  content: Promise<StoredBlob> | Buffer;
}

export async function receiveParts(parts: AsyncIterable<Multipart>, blobs: BlobStore, limits: IntakeLimits): Promise<ReceivedRequest> {
  const state = new Intake(blobs, limits);
  try {
    for await (const part of parts) await state.take(part);
  } catch (err) {
    throw asRefusal(err);
  }
  return state.finish();
}

class Intake {
  private total = 0;
  private xml: { bytes: Buffer; identity: SubmissionIdentity } | undefined;
  private readonly files: PendingFile[] = [];
  private incomplete = false;
  /** Bytes of small attachments held in memory (BUFFERED_FILE_BYTES). */
  private buffered = 0;
  /** The first reason to refuse found so far; the body is still read to its end. */
  private refusal: unknown;

  constructor(
    private readonly blobs: BlobStore,
    private readonly limits: IntakeLimits,
  ) {}

  async take(part: Multipart): Promise<void> {
    if (!part.fieldname && !(part.type === 'file' && part.filename)) {
      return this.refusePart(part, new AppError('submission.malformed_multipart', 'A part has no name: every part needs Content-Disposition: form-data; name="…".'));
    }
    if (part.fieldname === XML_PART) return this.takeXml(part);
    if (part.type === 'field') return this.takeField(part.fieldname, String(part.value), part.valueTruncated);
    const name = part.filename || part.fieldname;
    if (this.refusal !== undefined) return drain(part.file);
    if (!isPlainFileName(name)) {
      return this.refusePart(part, new AppError('submission.bad_attachment_name', `The attachment name ${JSON.stringify(name.slice(0, 80))} is not a plain file name: no folders, NUL or control characters, at most 255 characters.`));
    }
    const contentType = part.mimetype || 'application/octet-stream';
    const chunks = part.file[Symbol.asyncIterator]() as AsyncIterator<Buffer>;
    const head = await this.readSmall(chunks);
    if (head.whole) {
      this.files.push({ name, contentType, content: Buffer.concat(head.chunks) });
      return;
    }
    const blob = this.blobs.put(resume(head.chunks, chunks), { maxBytes: this.remaining() });
    // A store that failed (a full or failing disk) is not asked to write anything else for this request.
    blob.catch((err: unknown) => this.refuse(asRefusal(err)));
    const ended = await finished(part.file).then(
      () => true,
      () => false,
    );
    // A stream that failed failed because the store stopped reading it: the store's error says why.
    if (!ended) await blob;
    this.count(part.file.bytesRead as number);
    this.files.push({ name, contentType, content: blob });
  }

  /**
   * Reads the part while it fits in what is left of the request's buffer. `whole`: it ended within
   * it (and is counted); otherwise the chunks read so far lead the rest, which is still to come.
   */
  private async readSmall(chunks: AsyncIterator<Buffer>): Promise<{ whole: boolean; chunks: Buffer[] }> {
    const read: Buffer[] = [];
    let size = 0;
    while (this.buffered + size <= BUFFERED_FILE_BYTES) {
      const next = await chunks.next();
      if (next.done) {
        this.buffered += size;
        this.count(size);
        return { whole: true, chunks: read };
      }
      read.push(next.value);
      size += next.value.length;
    }
    return { whole: false, chunks: read };
  }

  async finish(): Promise<ReceivedRequest> {
    if (this.refusal !== undefined) throw this.refusal;
    if (this.xml === undefined) throw new AppError('submission.xml_missing', `The request has no ${XML_PART} part: send the submission XML in a part named ${XML_PART}.`);
    try {
      const [xmlBlob, ...stored] = await Promise.all([this.blobs.put(this.xml.bytes), ...this.files.map((file) => (Buffer.isBuffer(file.content) ? this.blobs.put(file.content) : file.content))]);
      return {
        xml: this.xml.bytes,
        xmlBlob: xmlBlob as StoredBlob,
        identity: this.xml.identity,
        files: this.files.map((file, i) => ({ name: file.name, contentType: file.contentType, blob: stored[i] as StoredBlob })),
        incomplete: this.incomplete,
      };
    } catch (err) {
      throw asRefusal(err);
    }
  }

  private async takeXml(part: Multipart): Promise<void> {
    const bytes =
      part.type === 'file' ? await readCapped(part.file, Math.min(this.limits.maxXmlBytes, this.remaining())) : this.fieldBytes(String(part.value), part.valueTruncated);
    this.count(bytes.length);
    if (this.xml !== undefined) return this.refuse(new AppError('submission.xml_repeated'));
    if (this.refusal !== undefined) return;
    try {
      this.xml = { bytes, identity: identifySubmission(bytes, this.limits.maxXmlBytes) };
    } catch (err) {
      this.refuse(err);
    }
  }

  private takeField(name: string, value: string, truncated: boolean): void {
    // busboy does not apply fieldNameSize to multipart, and cuts a part's header off at 80 kB: a
    // text part named that long is a file part whose filename and type were cut off, or abuse.
    if (name.length > PART_LIMITS.fieldNameSize) {
      return this.refuse(new AppError('submission.malformed_multipart', `A part's header is too long, or its name is longer than ${PART_LIMITS.fieldNameSize} characters.`));
    }
    this.fieldBytes(value, truncated);
    if (name === INCOMPLETE_PART) this.incomplete = true;
  }

  private fieldBytes(value: string, truncated: boolean): Buffer {
    if (truncated) throw tooLarge(`A text part may be at most ${PART_LIMITS.fieldSize} bytes; send the XML as a file part.`);
    const bytes = Buffer.from(value, 'utf8');
    this.count(bytes.length);
    return bytes;
  }

  private remaining(): number {
    return this.limits.maxBytes - this.total;
  }

  private count(bytes: number): void {
    this.total += bytes;
    if (this.total > this.limits.maxBytes) throw tooLarge();
  }

  /** Refuses the request for this part, reading past the part's content. */
  private refusePart(part: Multipart, err: AppError): Promise<void> | undefined {
    this.refuse(err);
    return part.type === 'file' ? drain(part.file) : undefined;
  }

  private refuse(err: unknown): void {
    this.refusal ??= err;
  }
}

async function readCapped(stream: Readable, maxBytes: number): Promise<Buffer> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of stream) {
    size += (chunk as Buffer).length;
    if (size > maxBytes) throw tooLarge(`The submission XML is larger than the ${maxBytes} bytes accepted.`);
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks, size);
}

/**
 * The chunks already read, then the rest of the part. A store that stops reading early ends this
 * generator, which then destroys the part's stream so the body moves on.
 */
async function* resume(read: Buffer[], rest: AsyncIterator<Buffer>): AsyncGenerator<Buffer> {
  try {
    yield* read;
    for (let next = await rest.next(); !next.done; next = await rest.next()) yield next.value;
  } finally {
    await rest.return?.();
  }
}

async function drain(stream: Readable): Promise<void> {
  stream.resume();
  await finished(stream).catch(() => {});
}

function tooLarge(detail?: string): AppError {
  return new AppError('submission.too_large', detail);
}

const LIMIT_ERRORS = new Set(['FST_PARTS_LIMIT', 'FST_FILES_LIMIT', 'FST_FIELDS_LIMIT', 'FST_REQ_FILE_TOO_LARGE']);

/** Errors of the multipart layer and the blob store, as the refusal a phone is shown. */
function asRefusal(err: unknown): unknown {
  if (err instanceof AppError) return err;
  if (err instanceof BlobError) return err.code === 'blob.too_large' ? tooLarge() : err;
  const code = (err as { code?: string }).code;
  if (code !== undefined && LIMIT_ERRORS.has(code)) {
    return tooLarge(`The request exceeds a multipart limit (${code}): at most ${PART_LIMITS.parts} parts, ${PART_LIMITS.fields} text parts, and the advertised total size.`);
  }
  // busboy's own errors carry no code; the plugin's start with FST_. File system errors pass through.
  if (code === undefined || code.startsWith('FST_')) {
    return new AppError('submission.malformed_multipart', `The multipart body could not be read: ${(err as Error).message}`);
  }
  return err;
}
