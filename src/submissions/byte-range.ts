/*
 * HTTP downloads of stored files: one byte range (RFC 9110 §14), and an RFC 6266
 * Content-Disposition. Several ranges in one request are answered with the whole file, which the
 * RFC allows and which keeps multipart/byteranges out of the server. Blobs are encrypted at rest
 * and decrypt as a stream, so a range is cut from the decrypted stream.
 */
import { Transform, type Readable } from 'node:stream';

export interface ByteRange {
  start: number;
  /** Inclusive. */
  end: number;
}

/** The range asked for; null to send the whole file; `unsatisfiable` for a 416. */
export function parseRange(header: string | undefined, size: number): ByteRange | null | 'unsatisfiable' {
  if (header === undefined) return null;
  const match = /^bytes=(\d*)-(\d*)$/.exec(header.trim());
  if (!match || (match[1] === '' && match[2] === '')) return null;
  const [first, last] = [match[1]!, match[2]!];
  if (first === '') {
    const suffix = Number(last);
    if (suffix === 0 || size === 0) return 'unsatisfiable';
    return { start: Math.max(size - suffix, 0), end: size - 1 };
  }
  const start = Number(first);
  if (start >= size) return 'unsatisfiable';
  const end = last === '' ? size - 1 : Math.min(Number(last), size - 1);
  return end < start ? null : { start, end };
}

/** The bytes `range.start..range.end` of a stream; the source is destroyed once they have passed. */
export function sliceStream(source: Readable, range: ByteRange): Readable {
  let position = 0;
  const slice = new Transform({
    transform(chunk: Buffer, _encoding, done) {
      const from = Math.max(range.start - position, 0);
      const to = Math.min(range.end + 1 - position, chunk.length);
      position += chunk.length;
      if (to > from) this.push(chunk.subarray(from, to));
      if (position > range.end) {
        this.push(null);
        source.unpipe(slice);
        source.destroy();
      }
      done();
    },
  });
  source.on('error', (err) => slice.destroy(err));
  return source.pipe(slice);
}

/**
 * `attachment; filename="…"; filename*=UTF-8''…`: an ASCII fallback for old clients and the exact
 * name, percent-encoded, for everyone else (RFC 6266 §4.3, RFC 8187).
 */
export function contentDisposition(fileName: string): string {
  const fallback = fileName.replace(/[^\x20-\x7e]|["\\%]/g, '_');
  const encoded = encodeURIComponent(fileName).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${fallback}"; filename*=UTF-8''${encoded}`;
}
