/**
 * A submission client for tests and benchmarks that writes requests byte for byte as the real
 * clients do (INTEROP.md A6) over plain node:http, so nothing adds or drops a header, and reads
 * the answer with ODK Collect's rules: 201 or 202 is success, anything else failure, and the
 * message shown is the text of the first `<message>` of an OpenRosaResponse.
 */
import { request as httpRequest, type Agent } from 'node:http';

export interface Part {
  name: string;
  filename?: string;
  contentType?: string;
  body: Buffer | string;
}

export interface Multipart {
  boundary: string;
  body: Buffer;
  contentType: string;
}

/**
 * okhttp's `MultipartBody` (Collect): each part has Content-Disposition, then Content-Type and
 * Content-Length when the body has them; browsers (Enketo) and Apache HttpClient (Briefcase) write
 * no part Content-Length. Text parts have no Content-Type.
 */
export function multipartBody(parts: readonly Part[], options: { partLengths?: boolean; boundary?: string } = {}): Multipart {
  const boundary = options.boundary ?? `----fieldkeep${Math.random().toString(16).slice(2)}`;
  const chunks: Buffer[] = [];
  for (const part of parts) {
    const body = Buffer.isBuffer(part.body) ? part.body : Buffer.from(part.body, 'utf8');
    const disposition = `form-data; name="${part.name}"${part.filename !== undefined ? `; filename="${part.filename}"` : ''}`;
    const headers = [`Content-Disposition: ${disposition}`];
    if (part.contentType) headers.push(`Content-Type: ${part.contentType}`);
    if (options.partLengths) headers.push(`Content-Length: ${body.length}`);
    chunks.push(Buffer.from(`--${boundary}\r\n${headers.join('\r\n')}\r\n\r\n`, 'utf8'), body, Buffer.from('\r\n'));
  }
  chunks.push(Buffer.from(`--${boundary}--\r\n`));
  return { boundary, body: Buffer.concat(chunks), contentType: `multipart/form-data; boundary=${boundary}` };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
}

/** One HTTP exchange with exactly these headers; `chunked` sends the body without a Content-Length. */
export function send(
  url: string,
  method: string,
  headers: Record<string, string>,
  body?: Buffer,
  options: { chunked?: boolean; agent?: Agent } = {},
): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      url,
      {
        method,
        headers: { ...headers, ...(body !== undefined && !options.chunked ? { 'content-length': String(body.length) } : {}) },
        ...(options.agent ? { agent: options.agent } : {}),
      },
      (response) => {
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, body: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    request.on('error', reject);
    if (body !== undefined && options.chunked) {
      // Several writes, so the body really goes out in chunks.
      for (let offset = 0; offset < body.length; offset += 64 * 1024) request.write(body.subarray(offset, offset + 64 * 1024));
      request.end();
    } else {
      request.end(body);
    }
  });
}

/** ODK Collect's `Date` header: `E, dd MMM yyyy hh:mm:ss zz` in Locale.US, GMT — a 12-hour clock. */
export function collectDate(now: Date): string {
  const days = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
  const months = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
  const two = (n: number) => String(n).padStart(2, '0');
  const hours12 = now.getUTCHours() % 12 === 0 ? 12 : now.getUTCHours() % 12;
  return `${days[now.getUTCDay()]}, ${two(now.getUTCDate())} ${months[now.getUTCMonth()]} ${now.getUTCFullYear()} ${two(hours12)}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())} GMT`;
}

/** The headers Collect sends on every request. */
export function collectHeaders(extra: Record<string, string> = {}): Record<string, string> {
  return { 'user-agent': 'org.odk.collect.android/v2024.3.0 okhttp/4.12.0', 'x-openrosa-version': '1.0', date: collectDate(new Date()), ...extra };
}

export interface CollectVerdict {
  success: boolean;
  /** The text of the first `<message>` of an OpenRosaResponse, as Collect shows it. */
  message: string | null;
}

/** How Collect reads a submission POST's answer (COL-UP, COL-MSG). */
export function collectVerdict(response: RawResponse): CollectVerdict {
  const success = response.status === 201 || response.status === 202;
  const envelope = response.body.includes('OpenRosaResponse') ? /<message(?:\s[^>]*)?>([\s\S]*?)<\/message>/.exec(response.body) : null;
  return { success, message: envelope ? unescapeXml(envelope[1] ?? '') : null };
}

function unescapeXml(text: string): string {
  return text.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[name] ?? '');
}
