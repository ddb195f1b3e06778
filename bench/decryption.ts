/**
 * Decryption benchmark (not a test): ODK envelopes decrypted by src/crypto, the same code in Node
 * and in headless Chromium (Debian's, through playwright-core): whole small submissions per second
 * (two RSA-2048 OAEP decryptions each: the AES key and the element signature) and MB/s of one
 * large attachment streamed in 1 MiB chunks through AES-256-CFB (@noble/ciphers) with MD5.
 *
 * The ceilings, measured in the same run, are the same operations in native code (Node's OpenSSL),
 * from a tight loop: two RSA-2048 OAEP-SHA256 private-key decryptions per submission, and
 * AES-256-CFB over the same bytes. The browser has no native CFB (WebCrypto lacks the mode), so
 * the JavaScript cipher is the price of decrypting in the page.
 *
 *   npx tsx bench/decryption.ts            (writes its section of BENCHMARKS.md)
 */
import { constants, createDecipheriv, generateKeyPairSync, privateDecrypt, publicEncrypt, randomBytes } from 'node:crypto';
import { bundleBrowserModule, openModulePage } from '../test/support/chromium.js';
import { runWorkload, type WorkloadResult } from './support/decryption-workload.js';
import { loadNow, machineLine, percentOf, printFigure, writeSection } from './support/report.js';

const options = { submissions: 500, mediaMegabytes: 64 };
const loadBefore = loadNow();

function nativeCeiling(): { submissionsPerSecond: number; mediaMegabytesPerSecond: number } {
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const oaep = { padding: constants.RSA_PKCS1_OAEP_PADDING, oaepHash: 'sha256' };
  const wrapped = publicEncrypt({ key: publicKey, ...oaep }, randomBytes(32));
  let start = performance.now();
  for (let i = 0; i < options.submissions * 2; i += 1) privateDecrypt({ key: privateKey, ...oaep }, wrapped);
  const submissionsPerSecond = options.submissions / ((performance.now() - start) / 1000);
  const media = randomBytes(options.mediaMegabytes * 1024 * 1024);
  const decipher = createDecipheriv('aes-256-cfb', randomBytes(32), randomBytes(16));
  start = performance.now();
  for (let offset = 0; offset < media.length; offset += 1024 * 1024) decipher.update(media.subarray(offset, offset + 1024 * 1024));
  decipher.final();
  return { submissionsPerSecond, mediaMegabytesPerSecond: options.mediaMegabytes / ((performance.now() - start) / 1000) };
}

const node = await runWorkload(options);
const page = await openModulePage('http://127.0.0.1:9', await bundleBrowserModule('bench/support/decryption-workload.ts', 'DecryptionBench'), 'DecryptionBench');
let chromium: WorkloadResult;
let chromiumVersion: string;
try {
  chromium = await page.page.evaluate((o) => (window as unknown as { DecryptionBench: { runWorkload: typeof runWorkload } }).DecryptionBench.runWorkload(o), options);
  chromiumVersion = page.context.browser()?.version() ?? (await page.page.evaluate(() => navigator.userAgent.match(/Chrome\/([\d.]+)/)?.[1] ?? 'unknown'));
} finally {
  await page.close();
}
const ceiling = nativeCeiling();

for (const [where, result] of [['node', node], ['chromium', chromium]] as const) {
  printFigure({ bench: 'decryption', metric: 'whole submissions', where, value: result.submissionsPerSecond, unit: 'submissions/s', better: 'higher', ceiling: ceiling.submissionsPerSecond });
  printFigure({ bench: 'decryption', metric: 'attachment', where, value: result.mediaMegabytesPerSecond, unit: 'MB/s', better: 'higher', ceiling: ceiling.mediaMegabytesPerSecond });
}

const row = (where: string, r: WorkloadResult) =>
  `| ${where} | ${r.submissionsPerSecond.toFixed(0)} submissions/s (${percentOf(r.submissionsPerSecond, ceiling.submissionsPerSecond)}) | ${r.mediaMegabytesPerSecond.toFixed(1)} MB/s (${percentOf(r.mediaMegabytesPerSecond, ceiling.mediaMegabytesPerSecond)}) |`;
writeSection('decryption', [
  '## Decryption of encrypted submissions',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${machineLine(loadBefore)}, and Chromium ${chromiumVersion} (headless),`,
  `one thread each, the same src/crypto code: ${options.submissions} submissions of about 1 KB (RSA-2048 key and signature each), then one`,
  `${options.mediaMegabytes} MiB attachment streamed in 1 MiB chunks (AES-256-CFB from @noble/ciphers, MD5 for the signature). The ceiling`,
  "is the same work in native code (Node's OpenSSL) from a tight loop: two RSA-2048 OAEP-SHA256 decryptions per submission,",
  'and AES-256-CFB over the same bytes. Percentages are of that ceiling.',
  '',
  '| where | whole submissions | attachment |',
  '| --- | --- | --- |',
  row('Node.js', node),
  row('Chromium', chromium),
  `| ceiling (native, Node.js) | ${ceiling.submissionsPerSecond.toFixed(0)} submissions/s | ${ceiling.mediaMegabytesPerSecond.toFixed(0)} MB/s |`,
  '',
  'Small submissions are bound by RSA (WebCrypto, native in both); attachments by AES-CFB in JavaScript, since',
  `WebCrypto has no CFB mode. At these rates a browser tab decrypts 10,000 small submissions in about ${(10_000 / chromium.submissionsPerSecond).toFixed(0)} s.`,
]);
