/**
 * The XML documents the OpenRosa API serves, written exactly as ODK Collect parses them
 * (reference/INTEROP.md A3–A6): the form list and manifest in their namespaces, every `<xform>`
 * and `<mediaFile>` with all required children (Collect rejects a whole list over one missing
 * child), hashes as `md5:` and 32 lowercase hex digits, and the OpenRosaResponse envelope whose
 * first `<message>` Collect and Enketo show to the person holding the phone.
 */

const FORM_LIST_NS = 'http://openrosa.org/xforms/xformsList';
const MANIFEST_NS = 'http://openrosa.org/xforms/xformsManifest';
const RESPONSE_NS = 'http://openrosa.org/http/response';

export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

const element = (name: string, text: string) => `<${name}>${escapeXml(text)}</${name}>`;

function md5Hash(hex: string): string {
  if (!/^[0-9a-fA-F]{32}$/.test(hex)) throw new Error(`not an MD5 digest: ${hex}`);
  return `md5:${hex.toLowerCase()}`;
}

export interface FormListEntry {
  formId: string;
  name: string;
  /** Blank when the form has no version; Collect reads blank as none. */
  version: string;
  /** MD5 (hex) of the exact bytes served at downloadUrl. */
  md5: string;
  downloadUrl: string;
  /** Only when the form has media files. */
  manifestUrl?: string;
  descriptionText?: string;
}

export function formListXml(forms: readonly FormListEntry[], verbose = false): string {
  const items = forms.map((form) =>
    [
      '<xform>',
      element('formID', form.formId),
      element('name', form.name || form.formId),
      element('version', form.version),
      element('hash', md5Hash(form.md5)),
      verbose && form.descriptionText ? element('descriptionText', form.descriptionText) : '',
      element('downloadUrl', form.downloadUrl),
      form.manifestUrl ? element('manifestUrl', form.manifestUrl) : '',
      '</xform>',
    ].join(''),
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<xforms xmlns="${FORM_LIST_NS}">${items.join('')}</xforms>`;
}

export interface ManifestEntry {
  filename: string;
  md5: string;
  downloadUrl: string;
}

export function manifestXml(files: readonly ManifestEntry[]): string {
  const items = files.map(
    (file) => `<mediaFile>${element('filename', file.filename)}${element('hash', md5Hash(file.md5))}${element('downloadUrl', file.downloadUrl)}</mediaFile>`,
  );
  return `<?xml version="1.0" encoding="UTF-8"?>\n<manifest xmlns="${MANIFEST_NS}">${items.join('')}</manifest>`;
}

/** `nature` is empty for success and `error` for failures, as ODK Central and KoBoToolbox send. */
export function openRosaResponseXml(message: string, nature: '' | 'error' = ''): string {
  return `<?xml version="1.0" encoding="UTF-8"?>\n<OpenRosaResponse xmlns="${RESPONSE_NS}" items="0"><message nature="${nature}">${escapeXml(message)}</message></OpenRosaResponse>`;
}

/** What a submission response advertises as the most a client should send in one POST. */
export function openRosaHeaders(now: Date, acceptContentLength?: number): Record<string, string> {
  return {
    'x-openrosa-version': '1.0',
    date: now.toUTCString(),
    'content-language': 'en',
    ...(acceptContentLength !== undefined ? { 'x-openrosa-accept-content-length': String(acceptContentLength) } : {}),
  };
}
