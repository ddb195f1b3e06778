/*
 * What the server reads from a submission's XML, and nothing more. A plaintext instance is parsed
 * against its form version's schema: the answers become JSON, and the values of binary fields are
 * the attachment names the submission needs. An encrypted envelope (INTEROP C3) is read only for
 * its form id, version, instanceID and file names (media files and the encrypted instance); the
 * bytes stay as they arrived. Every XML, schema or envelope error becomes the submission error a
 * phone is shown, with a stable code.
 */
import { CryptoError, checkFileName, parseEncryptedManifest } from '../crypto/index.js';
import { AppError, type ErrorCode } from '../server/errors.js';
import { XFormError, XmlError, parseXmlTree, submissionFields, submissionIdentity, type FormSchema, type InstanceIdentity, type SubmissionFields, type XmlElement } from '../xform/index.js';

/** Which form and version the XML says it belongs to: enough to find the schema. */
export interface SubmissionIdentity {
  formId: string;
  /** `''` when the instance has no version attribute, as ODK Central stores it. */
  version: string;
  encrypted: boolean;
  instanceId: string;
  /** The parsed document and all it says of itself, read again against the schema (parsed once). */
  document: { root: XmlElement; identity: InstanceIdentity };
}

export interface SubmissionContent {
  instanceId: string;
  deprecatedId: string | null;
  instanceName: string | null;
  encrypted: boolean;
  /** The answers as JSON text; null for an encrypted envelope. */
  fieldsJson: string | null;
  /** Files the submission needs: values of binary fields, or the envelope's files. */
  expected: ReadonlySet<string>;
  /** Every answer value, to tell whether an uploaded file is named anywhere in the XML. */
  answers: ReadonlySet<string>;
}

export function identifySubmission(xml: Uint8Array, maxBytes: number): SubmissionIdentity {
  return readOrRefuse(() => {
    const root = parseXmlTree(xml, { maxBytes });
    const identity = submissionIdentity(root);
    return { formId: identity.formId, version: identity.version ?? '', encrypted: identity.encrypted, instanceId: identity.instanceId, document: { root, identity } };
  });
}

export function readSubmissionContent(xml: Uint8Array, identified: SubmissionIdentity, schema: FormSchema): SubmissionContent {
  return readOrRefuse(() => {
    const { root, identity } = identified.document;
    const parsed = { ...identity, fields: submissionFields(root, identity, schema) };
    if (parsed.encrypted) {
      const manifest = parseEncryptedManifest(xml);
      const files = new Set([...manifest.mediaFiles, manifest.encryptedXmlFile]);
      return { instanceId: manifest.instanceId, deprecatedId: null, instanceName: null, encrypted: true, fieldsJson: null, expected: files, answers: files };
    }
    const prefix = `/${schema.rootName}/`;
    const binaryPaths = new Set(schema.fields.filter((field) => field.binary).map((field) => field.path.slice(prefix.length)));
    const expected = new Set<string>();
    const answers = new Set<string>();
    collectValues(parsed.fields, (path, value) => {
      answers.add(value);
      if (binaryPaths.has(path) && isPlainFileName(value)) expected.add(value);
    });
    return {
      instanceId: parsed.instanceId,
      deprecatedId: parsed.deprecatedId,
      instanceName: parsed.instanceName,
      encrypted: false,
      fieldsJson: JSON.stringify(parsed.fields),
      expected,
      answers,
    };
  });
}

/** A name a file may be stored under: a plain file name, no folders, NUL or control characters. */
export function isPlainFileName(name: string): boolean {
  try {
    checkFileName(name);
    return true;
  } catch {
    return false;
  }
}

function collectValues(fields: SubmissionFields, visit: (path: string, value: string) => void): void {
  for (const [path, value] of Object.entries(fields)) {
    if (typeof value === 'string') visit(path, value.trim());
    else for (const item of value) collectValues(item, visit);
  }
}

function readOrRefuse<T>(read: () => T): T {
  try {
    return read();
  } catch (err) {
    throw refusalOf(err);
  }
}

const xformErrorCodes: Partial<Record<string, ErrorCode>> = {
  'submission.missing_instance_id': 'submission.invalid_instance_id',
  'submission.bad_instance_id': 'submission.invalid_instance_id',
};

function refusalOf(err: unknown): unknown {
  if (err instanceof XmlError) {
    const code: ErrorCode = err.code === 'xml.doctype_forbidden' ? 'submission.doctype_forbidden' : err.code === 'xml.too_large' ? 'submission.too_large' : 'submission.invalid_xml';
    return new AppError(code, `The submission XML was refused (${err.code}): ${err.message}`);
  }
  if (err instanceof XFormError) return new AppError(xformErrorCodes[err.code] ?? 'submission.invalid_xml', err.message);
  if (err instanceof CryptoError) return new AppError('submission.invalid_envelope', err.message);
  return err;
}
