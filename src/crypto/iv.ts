import { md5 } from './md5.js';
import { BLOCK_LENGTH } from './aes-cfb.js';
import { utf8 } from './bytes.js';

/**
 * The IV of each file of a submission, in encryption order (media in manifest order, then
 * submission.xml): the seed is MD5(UTF-8 instanceID ‖ AES key), and before file i its byte
 * i mod 16 is incremented with wrap-around, so even the first file uses an incremented seed.
 */
export function submissionIvs(instanceId: string, aesKey: Uint8Array, fileCount: number): Uint8Array[] {
  const seed = ivSeed(instanceId, aesKey);
  const ivs: Uint8Array[] = [];
  for (let i = 0; i < fileCount; i += 1) {
    const position = i % BLOCK_LENGTH;
    seed[position] = ((seed[position] ?? 0) + 1) & 0xff;
    ivs.push(seed.slice());
  }
  return ivs;
}

export function ivSeed(instanceId: string, aesKey: Uint8Array): Uint8Array {
  return md5.create().update(utf8(instanceId)).update(aesKey).digest();
}
