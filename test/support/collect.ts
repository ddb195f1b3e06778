/**
 * ODK Collect as a test client: the exact shape of its requests and the rules it reads answers
 * by (reference/INTEROP.md A1–A4), so a test fails wherever a real phone would.
 *
 * Requests: `User-Agent`, `X-OpenRosa-Version: 1.0`, and a `Date` written with Java's
 * `E, dd MMM yyyy hh:mm:ss zz` (Locale.US, GMT) — `hh` is the 12-hour clock, so the text is not
 * clean RFC 1123 — and `deviceID` appended to every URL's query.
 *
 * Answers: a GET is OpenRosa only with status 200 and an `X-OpenRosa-Version` header; a form
 * list or manifest also needs `text/xml` in its Content-Type. Form list: root `xforms` in the
 * list namespace, `xform` children in it (case-insensitive), and one `xform` without formID, name
 * or downloadUrl rejects the whole list; empty text is null; a hash must start with `md5:` or the
 * download fails. Manifest: root `manifest` in its namespace, and one `mediaFile` without
 * filename, hash or downloadUrl rejects the whole manifest; filenames are reduced to their
 * basename. Beyond Collect, hashes are held to `md5:` and 32 lowercase hex digits, since Collect
 * compares them with the lowercase MD5 it computes of the files it stored.
 */
import { createHash } from 'node:crypto';
import { childElements, parseXmlTree, textContent, type XmlElement } from '../../src/xform/index.js';

export const COLLECT_USER_AGENT = 'Dalvik/2.1.0 (Linux; U; Android 13; Pixel 6 Build/TQ3A.230805.001) org.odk.collect.android/v2024.3.2';
export const COLLECT_DEVICE_ID = 'collect:Wz0aQ2x8ZkP1rT7c';

const FORM_LIST_NS = 'http://openrosa.org/xforms/xformslist';
const MANIFEST_NS = 'http://openrosa.org/xforms/xformsmanifest';
const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

const two = (n: number) => String(n).padStart(2, '0');

/** Collect's `Date` header: 12-hour clock, no AM/PM marker. */
export function collectDate(now: Date): string {
  const hour12 = now.getUTCHours() % 12 === 0 ? 12 : now.getUTCHours() % 12;
  return `${DAYS[now.getUTCDay()]}, ${two(now.getUTCDate())} ${MONTHS[now.getUTCMonth()]} ${now.getUTCFullYear()} ${two(hour12)}:${two(now.getUTCMinutes())}:${two(now.getUTCSeconds())} GMT`;
}

export function collectHeaders(now = new Date()): Record<string, string> {
  return { 'user-agent': COLLECT_USER_AGENT, 'x-openrosa-version': '1.0', date: collectDate(now), 'accept-encoding': 'gzip' };
}

/** The URL as Collect requests it: `deviceID` appended to whatever query it already has. */
export function withDeviceId(url: string): string {
  return `${url}${url.includes('?') ? '&' : '?'}deviceID=${encodeURIComponent(COLLECT_DEVICE_ID)}`;
}

export interface CollectAnswer {
  status: number;
  headers: Headers;
  bytes: Buffer;
}

/** One GET as Collect sends it (extra headers, e.g. Basic credentials, added by the caller). */
export async function collectGet(url: string, extraHeaders: Record<string, string> = {}, method = 'GET'): Promise<CollectAnswer> {
  const response = await fetch(withDeviceId(url), { method, headers: { ...collectHeaders(), ...extraHeaders } });
  return { status: response.status, headers: response.headers, bytes: Buffer.from(await response.arrayBuffer()) };
}

/** Collect's transport rules for a form list or manifest; returns the XML text. */
export function collectXmlBody(answer: CollectAnswer): string {
  if (answer.status !== 200) throw new Error(`Collect needs status 200, got ${answer.status}`);
  if (answer.headers.get('x-openrosa-version') === null) throw new Error('no X-OpenRosa-Version header: Collect says the server is not OpenRosa');
  if (!(answer.headers.get('content-type') ?? '').toLowerCase().includes('text/xml')) throw new Error('Content-Type without text/xml: Collect suspects a network proxy');
  return answer.bytes.toString('utf8');
}

export interface CollectFormListEntry {
  formID: string;
  name: string;
  version: string | null;
  hash: string;
  downloadUrl: string;
  manifestUrl: string | null;
}

export interface CollectMediaFile {
  filename: string;
  /** The hash without its `md5:` prefix, as Collect keeps it. */
  md5: string;
  downloadUrl: string;
}

function childText(item: XmlElement, name: string): string | null {
  const child = childElements(item).find((c) => c.local === name);
  const text = child ? textContent(child).trim() : '';
  return text === '' ? null : text;
}

function requireMd5(hash: string | null, what: string): string {
  if (!hash?.startsWith('md5:')) throw new Error(`${what}: hash ${JSON.stringify(hash)} lacks md5: (FormWithNoHash)`);
  if (!/^md5:[0-9a-f]{32}$/.test(hash)) throw new Error(`${what}: hash ${JSON.stringify(hash)} is not md5: and 32 lowercase hex digits`);
  return hash;
}

export function parseCollectFormList(xml: string): CollectFormListEntry[] {
  const root = parseXmlTree(xml);
  if (root.local !== 'xforms' || root.uri.toLowerCase() !== FORM_LIST_NS) throw new Error(`not a form list: root ${root.name} in ${JSON.stringify(root.uri)}`);
  return childElements(root)
    .filter((c) => c.local.toLowerCase() === 'xform' && c.uri.toLowerCase() === FORM_LIST_NS)
    .map((item) => {
      const [formID, name, downloadUrl] = [childText(item, 'formID'), childText(item, 'name'), childText(item, 'downloadUrl')];
      if (formID === null || name === null || downloadUrl === null) throw new Error('an <xform> lacks formID, name or downloadUrl: Collect rejects the whole list');
      const hash = requireMd5(childText(item, 'hash'), formID);
      return { formID, name, version: childText(item, 'version'), hash, downloadUrl, manifestUrl: childText(item, 'manifestUrl') };
    });
}

export function parseCollectManifest(xml: string): CollectMediaFile[] {
  const root = parseXmlTree(xml);
  if (root.local !== 'manifest' || root.uri.toLowerCase() !== MANIFEST_NS) throw new Error(`not a manifest: root ${root.name} in ${JSON.stringify(root.uri)}`);
  return childElements(root)
    .filter((c) => c.local.toLowerCase() === 'mediafile' && c.uri.toLowerCase() === MANIFEST_NS)
    .map((item) => {
      const [filename, hash, downloadUrl] = [childText(item, 'filename'), childText(item, 'hash'), childText(item, 'downloadUrl')];
      if (filename === null || hash === null || downloadUrl === null) throw new Error('a <mediaFile> lacks filename, hash or downloadUrl: Collect rejects the whole manifest');
      return { filename: filename.split(/[\\/]/).pop() as string, md5: requireMd5(hash, filename).slice(4), downloadUrl };
    });
}

/** What Collect compares listed hashes with: the lowercase hex MD5 of the bytes it stored. */
export function md5Hex(bytes: Uint8Array): string {
  return createHash('md5').update(bytes).digest('hex');
}
