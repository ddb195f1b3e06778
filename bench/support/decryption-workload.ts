/**
 * The decryption benchmark's workload, run unchanged in Node (imported) and in Chromium (bundled):
 * envelopes are made first, untimed; then whole small submissions are decrypted (RSA-bound: the
 * key and the signature) and one large attachment is streamed through the AES-CFB decryptor.
 */
import { SubmissionDecryptor, decryptSubmission, encryptSubmission, generatePrivateKey } from '../../src/crypto/index.js';

export interface WorkloadResult {
  submissions: number;
  submissionsPerSecond: number;
  mediaMegabytes: number;
  mediaMegabytesPerSecond: number;
}

const CHUNK = 1024 * 1024;

export async function runWorkload(options: { submissions: number; mediaMegabytes: number }): Promise<WorkloadResult> {
  const key = await generatePrivateKey(2048);
  const xml = new TextEncoder().encode(`<data id="bench" version="1">${'<q>some answer text</q>'.repeat(40)}<meta><instanceID>uuid:x</instanceID></meta></data>`);
  const envelopes = [];
  for (let i = 0; i < options.submissions; i += 1) {
    const encrypted = await encryptSubmission({ formId: 'bench', version: '1', instanceId: `uuid:bench-${i}`, publicKey: key.publicKey, submissionXml: xml });
    envelopes.push({ manifest: encrypted.manifest, files: new Map(encrypted.files.map((f) => [f.name, f.data])) });
  }
  let start = performance.now();
  for (const envelope of envelopes) {
    const result = await decryptSubmission(envelope.manifest, key, envelope.files);
    if (result.signature !== 'valid') throw new Error('benchmark envelope did not verify');
  }
  const submissionSeconds = (performance.now() - start) / 1000;

  const media = new Uint8Array(options.mediaMegabytes * CHUNK);
  for (let offset = 0; offset < media.length; offset += 65536) crypto.getRandomValues(media.subarray(offset, offset + 65536));
  const large = await encryptSubmission({ formId: 'bench', instanceId: 'uuid:large', publicKey: key.publicKey, submissionXml: xml, media: [{ name: 'video.mp4', data: media }] });
  const encryptedMedia = large.files[0]!.data;
  const decryptor = await SubmissionDecryptor.open(large.manifest, key);
  start = performance.now();
  const fileDecryptor = decryptor.fileDecryptor('video.mp4.enc');
  let plainBytes = 0;
  for (let offset = 0; offset < encryptedMedia.length; offset += CHUNK) plainBytes += fileDecryptor.update(encryptedMedia.subarray(offset, offset + CHUNK)).length;
  plainBytes += fileDecryptor.final().length;
  const mediaSeconds = (performance.now() - start) / 1000;
  if (plainBytes !== media.length) throw new Error('benchmark media did not round-trip');

  return {
    submissions: options.submissions,
    submissionsPerSecond: options.submissions / submissionSeconds,
    mediaMegabytes: options.mediaMegabytes,
    mediaMegabytesPerSecond: options.mediaMegabytes / mediaSeconds,
  };
}
