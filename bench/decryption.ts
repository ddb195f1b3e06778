/**
 * Decryption benchmark (not a test): ODK envelopes decrypted by src/crypto, the same code in Node
 * and in headless Chromium (Debian's, through playwright-core): whole small submissions per second
 * (two RSA-2048 OAEP decryptions each: the AES key and the element signature) and MB/s of one
 * large attachment streamed in 1 MiB chunks through AES-256-CFB (@noble/ciphers) with MD5.
 *
 *   npx tsx bench/decryption.ts            (writes its section of BENCHMARKS.md)
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { cpus, loadavg } from 'node:os';
import { bundleBrowserModule, openModulePage } from '../test/support/chromium.js';
import { runWorkload, type WorkloadResult } from './support/decryption-workload.js';

const options = { submissions: 500, mediaMegabytes: 64 };
const loadBefore = loadavg()[0] ?? 0;

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

const row = (where: string, r: WorkloadResult) => `| ${where} | ${r.submissionsPerSecond.toFixed(0)} submissions/s | ${r.mediaMegabytesPerSecond.toFixed(1)} MB/s |`;
const section = [
  '<!-- decryption:start (written by `npx tsx bench/decryption.ts`) -->',
  '## Decryption of encrypted submissions',
  '',
  `Measured ${new Date().toISOString().slice(0, 10)} on ${cpus().length} × ${cpus()[0]?.model.trim() ?? 'CPU'}, Node.js ${process.version} and Chromium ${chromiumVersion} (headless),`,
  `one thread each, the same src/crypto code: ${options.submissions} submissions of about 1 KB (RSA-2048 key and signature each), then one`,
  `${options.mediaMegabytes} MiB attachment streamed in 1 MiB chunks (AES-256-CFB from @noble/ciphers, MD5 for the signature).`,
  `Load average when it started: ${loadBefore.toFixed(1)} (figures from a busy machine are lower bounds).`,
  '',
  '| where | whole submissions | attachment |',
  '| --- | --- | --- |',
  row('Node.js', node),
  row('Chromium', chromium),
  '',
  'Small submissions are bound by RSA (WebCrypto, native in both); attachments by AES-CFB in JavaScript, since',
  `WebCrypto has no CFB mode. At these rates a browser tab decrypts 10,000 small submissions in about ${(10_000 / chromium.submissionsPerSecond).toFixed(0)} s.`,
  '<!-- decryption:end -->',
].join('\n');

const file = new URL('../BENCHMARKS.md', import.meta.url);
const current = existsSync(file) ? readFileSync(file, 'utf8') : '# Benchmarks\n\nFigures measured by the scripts in `bench/`; each script rewrites only its own section.\n';
const pattern = /<!-- decryption:start[\s\S]*?<!-- decryption:end -->/;
writeFileSync(file, pattern.test(current) ? current.replace(pattern, section) : `${current.trimEnd()}\n\n${section}\n`);
console.log(section);
