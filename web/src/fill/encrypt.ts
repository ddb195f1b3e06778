/**
 * Encryption for projects with end-to-end encryption, in the ODK envelope format (the crypto
 * module the server, the CLI and the browser share): the instance XML and its files leave the
 * engine and are encrypted with the project's public key before they are stored in the outbox or
 * sent, so plaintext is never written to the browser's database nor seen by the server. Loaded
 * only for encrypted forms.
 */
import { encryptSubmission } from '../../../src/crypto/envelope.js';
import { loadPublicKey } from '../../../src/crypto/keys.js';
import type { FilledForm } from './web-forms.js';
import { instanceFacts } from './instance.js';
import type { StoredPart } from './store.js';

export async function encryptFilled(filled: FilledForm, xml: string, publicKeyBase64: string): Promise<StoredPart[]> {
  const facts = instanceFacts(xml);
  const media = await Promise.all(filled.attachments.map(async (file) => ({ name: file.name, data: new Uint8Array(await file.arrayBuffer()) })));
  const envelope = await encryptSubmission({
    formId: facts.formId,
    version: facts.version,
    instanceId: facts.instanceId,
    publicKey: await loadPublicKey(publicKeyBase64),
    submissionXml: new TextEncoder().encode(xml),
    media,
  });
  return [
    { field: 'xml_submission_file', fileName: 'submission.xml', type: 'text/xml', blob: new Blob([envelope.manifestXml], { type: 'text/xml' }) },
    ...envelope.files.map((file) => ({ field: file.name, fileName: file.name, type: 'application/octet-stream', blob: new Blob([file.data as Uint8Array<ArrayBuffer>]) })),
  ];
}
