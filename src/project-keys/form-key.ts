/*
 * Putting a project's public key into an XForm, as ODK Central does for managed encryption:
 * `<submission base64RsaPublicKey="…"/>` in the model (an existing `<submission>` keeps its other
 * attributes) and a suffix on the primary instance's `version`, `[encrypted:<base64 of the key's
 * creation time as 6 big-endian bytes of epoch milliseconds>]`, so phones see a new version and
 * fetch it. The text is edited in place, not re-serialised, so everything else stays byte for
 * byte; the result is then parsed again (by the caller) and must say what was intended.
 * Pure: text in, text out.
 */
import { toBase64 } from '../crypto/bytes.js';

const SUFFIX_PATTERN = /\[encrypted:[A-Za-z0-9+/]{8}\]$/;

export function versionSuffix(createdAt: Date): string {
  const bytes = new Uint8Array(6);
  let rest = createdAt.getTime();
  for (let i = 5; i >= 0; i -= 1) {
    bytes[i] = rest % 256;
    rest = Math.floor(rest / 256);
  }
  return `[encrypted:${toBase64(bytes)}]`;
}

/** The form's version with any earlier key's suffix replaced by this one. */
export function suffixedVersion(version: string | null, suffix: string): string {
  return `${(version ?? '').replace(SUFFIX_PATTERN, '')}${suffix}`;
}

export class FormKeyError extends Error {}

export function injectPublicKey(xform: string, base64PublicKey: string, version: string): string {
  const masked = maskNonMarkup(xform);
  const model = findStartTag(masked, 'model', 0);
  if (!model || model.selfClosing) throw new FormKeyError('the form has no <model> element');
  const modelEnd = masked.indexOf(`</${model.qualifiedName}>`, model.end);
  if (modelEnd < 0) throw new FormKeyError('the form\'s <model> is not closed');
  const edits: Array<{ start: number; end: number; text: string }> = [];

  const submission = findStartTag(masked, 'submission', model.end, modelEnd);
  if (submission) {
    edits.push({ start: submission.start, end: submission.end, text: withAttribute(xform.slice(submission.start, submission.end), 'base64RsaPublicKey', base64PublicKey) });
  } else {
    const prefix = model.qualifiedName.includes(':') ? `${model.qualifiedName.split(':')[0]}:` : '';
    edits.push({ start: model.end, end: model.end, text: `<${prefix}submission base64RsaPublicKey="${base64PublicKey}"/>` });
  }

  let instance = findStartTag(masked, 'instance', model.end, modelEnd);
  while (instance && /\sid\s*=/.test(xform.slice(instance.start, instance.end))) instance = findStartTag(masked, 'instance', instance.end, modelEnd);
  if (!instance || instance.selfClosing) throw new FormKeyError('the form has no primary <instance>');
  const root = /<[A-Za-z_][\w.:-]*(?:\s[^>]*?)?\/?>/g;
  root.lastIndex = instance.end;
  const rootMatch = root.exec(masked);
  if (!rootMatch || rootMatch.index >= modelEnd) throw new FormKeyError('the primary instance has no root element');
  const rootEnd = rootMatch.index + rootMatch[0].length;
  edits.push({ start: rootMatch.index, end: rootEnd, text: withAttribute(xform.slice(rootMatch.index, rootEnd), 'version', version) });

  let out = xform;
  for (const edit of edits.sort((a, b) => b.start - a.start)) out = out.slice(0, edit.start) + edit.text + out.slice(edit.end);
  return out;
}

interface StartTag {
  start: number;
  end: number;
  qualifiedName: string;
  selfClosing: boolean;
}

/** The first start tag with this local name (any prefix) between the offsets. */
function findStartTag(masked: string, local: string, from: number, to = masked.length): StartTag | null {
  const pattern = new RegExp(`<((?:[A-Za-z_][\\w.-]*:)?${local})(?=[\\s/>])[^>]*>`, 'g');
  pattern.lastIndex = from;
  const match = pattern.exec(masked);
  if (!match || match.index >= to) return null;
  return { start: match.index, end: match.index + match[0].length, qualifiedName: match[1] ?? local, selfClosing: match[0].endsWith('/>') };
}

/** Sets an attribute (unprefixed name) in a start tag's text, replacing its value if present. */
function withAttribute(tag: string, name: string, value: string): string {
  const escaped = value.replace(/&/g, '&amp;').replace(/"/g, '&quot;').replace(/</g, '&lt;');
  const existing = new RegExp(`(\\s${name}\\s*=\\s*)(?:"[^"]*"|'[^']*')`);
  if (existing.test(tag)) return tag.replace(existing, (_all, head: string) => `${head}"${escaped}"`);
  const close = tag.endsWith('/>') ? tag.length - 2 : tag.length - 1;
  return `${tag.slice(0, close).replace(/\s+$/, '')} ${name}="${escaped}"${tag.slice(close)}`;
}

/** Comments, CDATA and processing instructions blanked out (same length), so tags are found only in markup. */
function maskNonMarkup(xml: string): string {
  return xml.replace(/<!--[\s\S]*?-->|<!\[CDATA\[[\s\S]*?\]\]>|<\?[\s\S]*?\?>/g, (part) => ' '.repeat(part.length));
}
