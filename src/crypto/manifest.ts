/*
 * The encrypted-submission manifest: the XML an ODK client posts as `xml_submission_file` in place
 * of the submission. Parsed strictly but by local name, in either namespace
 * (`http://www.opendatakit.org/xforms/encrypted` from Collect and Web Forms,
 * `http://opendatakit.org/submissions` from the spec and Aggregate) and in any element order (Web
 * Forms writes the key, encryptedXmlFile, media, meta; Collect writes key, meta, media,
 * encryptedXmlFile, signature). Anything else inside is refused: the server reads only id,
 * version, instanceID and file names from it, so it must not carry surprises. XML-level problems
 * (DOCTYPE, malformed, over the caps) surface as the XML layer's own `xml.*` errors.
 */
import { attributeValue, childElements, parseXmlTree, textContent } from '../xform/xml.js';
import type { XmlElement } from '../xform/xml.js';
import { CryptoError } from './errors.js';

export interface EncryptedManifest {
  formId: string;
  version: string | null;
  instanceId: string;
  base64EncryptedKey: string;
  /** Encrypted media file names (`photo.jpg.enc`), in encryption order. */
  mediaFiles: string[];
  /** Name of the encrypted submission, `submission.xml.enc` from ODK clients. */
  encryptedXmlFile: string;
  base64EncryptedElementSignature: string | null;
}

export const ENCRYPTED_NAMESPACE = 'http://www.opendatakit.org/xforms/encrypted';
const OPENROSA_NAMESPACE = 'http://openrosa.org/xforms';
const ENCRYPTED_SUFFIX = '.enc';
const MAX_FILE_NAME_LENGTH = 255;
const MAX_ID_LENGTH = 255;
const MANIFEST_LIMITS = { maxBytes: 1024 * 1024, maxDepth: 4, maxElements: 10_000 };

export function parseEncryptedManifest(xml: Uint8Array | string): EncryptedManifest {
  const root = parseXmlTree(xml, MANIFEST_LIMITS);
  if (attributeValue(root, 'encrypted') !== 'yes') {
    throw bad('the root element has no encrypted="yes" attribute, so this is not an encrypted submission');
  }
  const formId = attributeValue(root, 'id', '')?.trim();
  if (!formId) throw bad('the root element has no id attribute naming the form');
  const singles = new Map<string, string>();
  const mediaFiles: string[] = [];
  for (const child of root.children) {
    if (typeof child === 'string') {
      if (child.trim() !== '') throw bad('it contains stray text');
      continue;
    }
    if (child.local === 'media') mediaFiles.push(fileName(onlyChild(child, 'file')));
    else if (child.local === 'meta') setOnce(singles, 'instanceID', leafText(onlyChild(child, 'instanceID')));
    else if (SINGLE_ELEMENTS.has(child.local)) setOnce(singles, child.local, leafText(child));
    else throw bad(`it contains an unexpected <${child.name}> element`);
  }
  const encryptedXmlFile = fileName(required(singles, 'encryptedXmlFile'));
  checkUniqueNames([...mediaFiles, encryptedXmlFile]);
  return {
    formId,
    version: attributeValue(root, 'version') ?? null,
    instanceId: instanceIdOf(required(singles, 'instanceID')),
    base64EncryptedKey: base64(required(singles, 'base64EncryptedKey'), 'base64EncryptedKey'),
    mediaFiles,
    encryptedXmlFile,
    base64EncryptedElementSignature: optionalBase64(singles.get('base64EncryptedElementSignature'), 'base64EncryptedElementSignature'),
  };
}

/** Collect's exact bytes: no XML declaration, its element order, a newline after meta and each media. */
export function serializeEncryptedManifest(manifest: EncryptedManifest): string {
  const version = manifest.version === null ? '' : ` version="${escapeXml(manifest.version, true)}"`;
  const media = manifest.mediaFiles.map((name) => `<media><file>${escapeXml(name)}</file></media>\n`).join('');
  const signature =
    manifest.base64EncryptedElementSignature === null
      ? ''
      : `<base64EncryptedElementSignature>${manifest.base64EncryptedElementSignature}</base64EncryptedElementSignature>`;
  return (
    `<data xmlns="${ENCRYPTED_NAMESPACE}" id="${escapeXml(manifest.formId, true)}"${version} encrypted="yes">` +
    `<base64EncryptedKey>${manifest.base64EncryptedKey}</base64EncryptedKey>` +
    `<orx:meta xmlns:orx="${OPENROSA_NAMESPACE}"><orx:instanceID>${escapeXml(manifest.instanceId)}</orx:instanceID></orx:meta>\n` +
    media +
    `<encryptedXmlFile>${escapeXml(manifest.encryptedXmlFile)}</encryptedXmlFile>${signature}</data>`
  );
}

/**
 * Checks an attachment name as ODK clients write them: a plain file name, no directories,
 * NUL or other control characters, at most 255 characters.
 */
export function checkFileName(name: string, what = 'file name'): string {
  if (!name || name.length > MAX_FILE_NAME_LENGTH || /[/\\\u0000-\u001f]/.test(name) || name === '.' || name === '..') {
    throw bad(`the ${what} "${name.slice(0, 80)}" is not a plain file name`);
  }
  return name;
}

const SINGLE_ELEMENTS = new Set(['base64EncryptedKey', 'encryptedXmlFile', 'base64EncryptedElementSignature']);

function onlyChild(element: XmlElement, local: string): XmlElement {
  const children = childElements(element);
  const child = children[0];
  if (children.length !== 1 || child?.local !== local) throw bad(`<${element.name}> must contain exactly one <${local}>`);
  return child;
}

function leafText(element: XmlElement): string {
  if (childElements(element).length > 0) throw bad(`<${element.name}> must contain only text`);
  return textContent(element).trim();
}

function setOnce(values: Map<string, string>, name: string, value: string): void {
  if (values.has(name)) throw bad(`it has more than one ${name}`);
  values.set(name, value);
}

function required(values: Map<string, string>, name: string): string {
  const value = values.get(name);
  if (!value) throw bad(`its ${name} is missing or empty`);
  return value;
}

function fileName(nameOrElement: string | XmlElement): string {
  const name = checkFileName(typeof nameOrElement === 'string' ? nameOrElement : leafText(nameOrElement), 'encrypted file name');
  if (!name.endsWith(ENCRYPTED_SUFFIX) || name.length === ENCRYPTED_SUFFIX.length) {
    throw bad(`the encrypted file name "${name}" does not end in ${ENCRYPTED_SUFFIX}`);
  }
  return name;
}

function checkUniqueNames(names: string[]): void {
  const seen = new Set<string>();
  for (const name of names) {
    if (seen.has(name)) throw bad(`the file ${name} is listed twice`);
    seen.add(name);
  }
}

function instanceIdOf(value: string): string {
  if (value.length > MAX_ID_LENGTH || /\s/.test(value)) throw bad('its instanceID is longer than 255 characters or contains spaces');
  return value;
}

function base64(value: string, name: string): string {
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(value) || value.length % 4 !== 0) throw bad(`its ${name} is not base64`);
  return value;
}

function optionalBase64(value: string | undefined, name: string): string | null {
  return value === undefined || value === '' ? null : base64(value, name);
}

const XML_ESCAPES: Readonly<Record<string, string>> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

/** Escapes as Collect's serializer does: `&`, `<`, `>` in text, and `"` too in attributes. */
function escapeXml(text: string, inAttribute = false): string {
  return text.replace(inAttribute ? /[&<>"]/g : /[&<>]/g, (char) => XML_ESCAPES[char] ?? char);
}

function bad(reason: string): CryptoError {
  return new CryptoError('crypto.bad_manifest', `The encrypted submission manifest is invalid: ${reason}.`);
}
