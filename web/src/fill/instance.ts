/** Reading the few facts the fill page needs from an XForm and from the instance XML the engine writes. */

const XFORMS_NS = 'http://www.w3.org/2002/xforms';

export interface FormFacts {
  /** The project's public key (base64 SubjectPublicKeyInfo) when the form is encrypted. */
  encryptionKey: string | null;
  /** The form itself has a meta/deprecatedID element (pyxform never writes one). */
  definesDeprecatedId: boolean;
}

export function formFacts(formXml: string): FormFacts {
  const document = new DOMParser().parseFromString(formXml, 'application/xml');
  const submission = document.getElementsByTagNameNS(XFORMS_NS, 'submission')[0];
  const key = submission?.getAttribute('base64RsaPublicKey')?.trim() ?? '';
  const primary = document.getElementsByTagNameNS(XFORMS_NS, 'instance')[0];
  return { encryptionKey: key === '' ? null : key, definesDeprecatedId: primary !== undefined && primary.getElementsByTagNameNS('*', 'deprecatedID').length > 0 };
}

export interface InstanceFacts {
  formId: string;
  version: string | null;
  instanceId: string;
}

export function instanceFacts(xml: string): InstanceFacts {
  const root = new DOMParser().parseFromString(xml, 'application/xml').documentElement;
  const meta = Array.from(root.children).find((child) => child.localName === 'meta');
  const instanceId = meta === undefined ? '' : (Array.from(meta.children).find((child) => child.localName === 'instanceID')?.textContent?.trim() ?? '');
  if (instanceId === '') throw new Error('The form engine wrote an instance without meta/instanceID.');
  return { formId: root.getAttribute('id') ?? '', version: root.getAttribute('version'), instanceId };
}

/**
 * A resumed draft is reopened through the engine's edit mode, which records the draft's earlier
 * instanceID as meta/deprecatedID. The draft was never sent, so that element is taken out again
 * (as text, leaving every other byte as the engine wrote it); otherwise the server would look for
 * a submission to replace.
 */
export function withoutDeprecatedId(xml: string): string {
  return xml.replace(/<((?:[A-Za-z_][\w.-]*:)?deprecatedID)(?:\s[^>]*)?(?:\/>|>[^<]*<\/\1>)/, '');
}
