/*
 * MD5 (RFC 1321), incremental, in plain JavaScript for Node and browsers alike: ODK uses it for the
 * IV seed and the element signature, over every byte of every attachment, so it sits on the hot
 * path of decryption; WebCrypto has no MD5. The 64 steps are written out (generated from the RFC's
 * tables) because V8 runs them several times faster than a table-driven loop. Not for security:
 * ODK's format fixes the choice; the signature it feeds is RSA-encrypted.
 */

export interface Md5 {
  update(data: Uint8Array): Md5;
  digest(): Uint8Array;
}

const BLOCK = 64;

class Md5State implements Md5 {
  #a = 0x67452301;
  #b = 0xefcdab89 | 0;
  #c = 0x98badcfe | 0;
  #d = 0x10325476;
  readonly #buffer = new Uint8Array(BLOCK);
  #buffered = 0;
  #length = 0;
  #done = false;

  update(data: Uint8Array): Md5 {
    if (this.#done) throw new Error('MD5 digest already taken');
    this.#length += data.length;
    let offset = 0;
    if (this.#buffered > 0) {
      const take = Math.min(BLOCK - this.#buffered, data.length);
      this.#buffer.set(data.subarray(0, take), this.#buffered);
      this.#buffered += take;
      offset = take;
      if (this.#buffered < BLOCK) return this;
      this.#blocks(this.#buffer, 0, BLOCK);
      this.#buffered = 0;
    }
    const whole = offset + Math.floor((data.length - offset) / BLOCK) * BLOCK;
    this.#blocks(data, offset, whole);
    this.#buffer.set(data.subarray(whole));
    this.#buffered = data.length - whole;
    return this;
  }

  digest(): Uint8Array {
    const bits = this.#length * 8;
    const padding = new Uint8Array(((this.#buffered < 56 ? 56 : 120) - this.#buffered) + 8);
    padding[0] = 0x80;
    const view = new DataView(padding.buffer);
    view.setUint32(padding.length - 8, bits >>> 0, true);
    view.setUint32(padding.length - 4, Math.floor(bits / 2 ** 32), true);
    this.update(padding);
    this.#done = true;
    const out = new Uint8Array(16);
    const outView = new DataView(out.buffer);
    [this.#a, this.#b, this.#c, this.#d].forEach((word, i) => outView.setUint32(i * 4, word >>> 0, true));
    return out;
  }

  #blocks(w: Uint8Array, from: number, to: number): void {
    let a = this.#a;
    let b = this.#b;
    let c = this.#c;
    let d = this.#d;
    let t: number;
    for (let o = from; o < to; o += BLOCK) {
      const aa = a;
      const bb = b;
      const cc = c;
      const dd = d;
      const x0 = w[o + 0]! | (w[o + 1]! << 8) | (w[o + 2]! << 16) | (w[o + 3]! << 24);
      const x1 = w[o + 4]! | (w[o + 5]! << 8) | (w[o + 6]! << 16) | (w[o + 7]! << 24);
      const x2 = w[o + 8]! | (w[o + 9]! << 8) | (w[o + 10]! << 16) | (w[o + 11]! << 24);
      const x3 = w[o + 12]! | (w[o + 13]! << 8) | (w[o + 14]! << 16) | (w[o + 15]! << 24);
      const x4 = w[o + 16]! | (w[o + 17]! << 8) | (w[o + 18]! << 16) | (w[o + 19]! << 24);
      const x5 = w[o + 20]! | (w[o + 21]! << 8) | (w[o + 22]! << 16) | (w[o + 23]! << 24);
      const x6 = w[o + 24]! | (w[o + 25]! << 8) | (w[o + 26]! << 16) | (w[o + 27]! << 24);
      const x7 = w[o + 28]! | (w[o + 29]! << 8) | (w[o + 30]! << 16) | (w[o + 31]! << 24);
      const x8 = w[o + 32]! | (w[o + 33]! << 8) | (w[o + 34]! << 16) | (w[o + 35]! << 24);
      const x9 = w[o + 36]! | (w[o + 37]! << 8) | (w[o + 38]! << 16) | (w[o + 39]! << 24);
      const x10 = w[o + 40]! | (w[o + 41]! << 8) | (w[o + 42]! << 16) | (w[o + 43]! << 24);
      const x11 = w[o + 44]! | (w[o + 45]! << 8) | (w[o + 46]! << 16) | (w[o + 47]! << 24);
      const x12 = w[o + 48]! | (w[o + 49]! << 8) | (w[o + 50]! << 16) | (w[o + 51]! << 24);
      const x13 = w[o + 52]! | (w[o + 53]! << 8) | (w[o + 54]! << 16) | (w[o + 55]! << 24);
      const x14 = w[o + 56]! | (w[o + 57]! << 8) | (w[o + 58]! << 16) | (w[o + 59]! << 24);
      const x15 = w[o + 60]! | (w[o + 61]! << 8) | (w[o + 62]! << 16) | (w[o + 63]! << 24);
      t = (a + ((b & c) | (~b & d)) + x0 + 0xd76aa478) | 0;
      a = (b + ((t << 7) | (t >>> 25))) | 0;
      t = (d + ((a & b) | (~a & c)) + x1 + 0xe8c7b756) | 0;
    d = (a + ((t << 12) | (t >>> 20))) | 0;
      t = (c + ((d & a) | (~d & b)) + x2 + 0x242070db) | 0;
    c = (d + ((t << 17) | (t >>> 15))) | 0;
      t = (b + ((c & d) | (~c & a)) + x3 + 0xc1bdceee) | 0;
    b = (c + ((t << 22) | (t >>> 10))) | 0;
      t = (a + ((b & c) | (~b & d)) + x4 + 0xf57c0faf) | 0;
      a = (b + ((t << 7) | (t >>> 25))) | 0;
      t = (d + ((a & b) | (~a & c)) + x5 + 0x4787c62a) | 0;
    d = (a + ((t << 12) | (t >>> 20))) | 0;
      t = (c + ((d & a) | (~d & b)) + x6 + 0xa8304613) | 0;
    c = (d + ((t << 17) | (t >>> 15))) | 0;
      t = (b + ((c & d) | (~c & a)) + x7 + 0xfd469501) | 0;
    b = (c + ((t << 22) | (t >>> 10))) | 0;
      t = (a + ((b & c) | (~b & d)) + x8 + 0x698098d8) | 0;
      a = (b + ((t << 7) | (t >>> 25))) | 0;
      t = (d + ((a & b) | (~a & c)) + x9 + 0x8b44f7af) | 0;
    d = (a + ((t << 12) | (t >>> 20))) | 0;
      t = (c + ((d & a) | (~d & b)) + x10 + 0xffff5bb1) | 0;
    c = (d + ((t << 17) | (t >>> 15))) | 0;
      t = (b + ((c & d) | (~c & a)) + x11 + 0x895cd7be) | 0;
    b = (c + ((t << 22) | (t >>> 10))) | 0;
      t = (a + ((b & c) | (~b & d)) + x12 + 0x6b901122) | 0;
      a = (b + ((t << 7) | (t >>> 25))) | 0;
      t = (d + ((a & b) | (~a & c)) + x13 + 0xfd987193) | 0;
    d = (a + ((t << 12) | (t >>> 20))) | 0;
      t = (c + ((d & a) | (~d & b)) + x14 + 0xa679438e) | 0;
    c = (d + ((t << 17) | (t >>> 15))) | 0;
      t = (b + ((c & d) | (~c & a)) + x15 + 0x49b40821) | 0;
    b = (c + ((t << 22) | (t >>> 10))) | 0;
      t = (a + ((d & b) | (~d & c)) + x1 + 0xf61e2562) | 0;
      a = (b + ((t << 5) | (t >>> 27))) | 0;
      t = (d + ((c & a) | (~c & b)) + x6 + 0xc040b340) | 0;
    d = (a + ((t << 9) | (t >>> 23))) | 0;
      t = (c + ((b & d) | (~b & a)) + x11 + 0x265e5a51) | 0;
    c = (d + ((t << 14) | (t >>> 18))) | 0;
      t = (b + ((a & c) | (~a & d)) + x0 + 0xe9b6c7aa) | 0;
    b = (c + ((t << 20) | (t >>> 12))) | 0;
      t = (a + ((d & b) | (~d & c)) + x5 + 0xd62f105d) | 0;
      a = (b + ((t << 5) | (t >>> 27))) | 0;
      t = (d + ((c & a) | (~c & b)) + x10 + 0x02441453) | 0;
    d = (a + ((t << 9) | (t >>> 23))) | 0;
      t = (c + ((b & d) | (~b & a)) + x15 + 0xd8a1e681) | 0;
    c = (d + ((t << 14) | (t >>> 18))) | 0;
      t = (b + ((a & c) | (~a & d)) + x4 + 0xe7d3fbc8) | 0;
    b = (c + ((t << 20) | (t >>> 12))) | 0;
      t = (a + ((d & b) | (~d & c)) + x9 + 0x21e1cde6) | 0;
      a = (b + ((t << 5) | (t >>> 27))) | 0;
      t = (d + ((c & a) | (~c & b)) + x14 + 0xc33707d6) | 0;
    d = (a + ((t << 9) | (t >>> 23))) | 0;
      t = (c + ((b & d) | (~b & a)) + x3 + 0xf4d50d87) | 0;
    c = (d + ((t << 14) | (t >>> 18))) | 0;
      t = (b + ((a & c) | (~a & d)) + x8 + 0x455a14ed) | 0;
    b = (c + ((t << 20) | (t >>> 12))) | 0;
      t = (a + ((d & b) | (~d & c)) + x13 + 0xa9e3e905) | 0;
      a = (b + ((t << 5) | (t >>> 27))) | 0;
      t = (d + ((c & a) | (~c & b)) + x2 + 0xfcefa3f8) | 0;
    d = (a + ((t << 9) | (t >>> 23))) | 0;
      t = (c + ((b & d) | (~b & a)) + x7 + 0x676f02d9) | 0;
    c = (d + ((t << 14) | (t >>> 18))) | 0;
      t = (b + ((a & c) | (~a & d)) + x12 + 0x8d2a4c8a) | 0;
    b = (c + ((t << 20) | (t >>> 12))) | 0;
      t = (a + (b ^ c ^ d) + x5 + 0xfffa3942) | 0;
      a = (b + ((t << 4) | (t >>> 28))) | 0;
      t = (d + (a ^ b ^ c) + x8 + 0x8771f681) | 0;
    d = (a + ((t << 11) | (t >>> 21))) | 0;
      t = (c + (d ^ a ^ b) + x11 + 0x6d9d6122) | 0;
    c = (d + ((t << 16) | (t >>> 16))) | 0;
      t = (b + (c ^ d ^ a) + x14 + 0xfde5380c) | 0;
    b = (c + ((t << 23) | (t >>> 9))) | 0;
      t = (a + (b ^ c ^ d) + x1 + 0xa4beea44) | 0;
      a = (b + ((t << 4) | (t >>> 28))) | 0;
      t = (d + (a ^ b ^ c) + x4 + 0x4bdecfa9) | 0;
    d = (a + ((t << 11) | (t >>> 21))) | 0;
      t = (c + (d ^ a ^ b) + x7 + 0xf6bb4b60) | 0;
    c = (d + ((t << 16) | (t >>> 16))) | 0;
      t = (b + (c ^ d ^ a) + x10 + 0xbebfbc70) | 0;
    b = (c + ((t << 23) | (t >>> 9))) | 0;
      t = (a + (b ^ c ^ d) + x13 + 0x289b7ec6) | 0;
      a = (b + ((t << 4) | (t >>> 28))) | 0;
      t = (d + (a ^ b ^ c) + x0 + 0xeaa127fa) | 0;
    d = (a + ((t << 11) | (t >>> 21))) | 0;
      t = (c + (d ^ a ^ b) + x3 + 0xd4ef3085) | 0;
    c = (d + ((t << 16) | (t >>> 16))) | 0;
      t = (b + (c ^ d ^ a) + x6 + 0x04881d05) | 0;
    b = (c + ((t << 23) | (t >>> 9))) | 0;
      t = (a + (b ^ c ^ d) + x9 + 0xd9d4d039) | 0;
      a = (b + ((t << 4) | (t >>> 28))) | 0;
      t = (d + (a ^ b ^ c) + x12 + 0xe6db99e5) | 0;
    d = (a + ((t << 11) | (t >>> 21))) | 0;
      t = (c + (d ^ a ^ b) + x15 + 0x1fa27cf8) | 0;
    c = (d + ((t << 16) | (t >>> 16))) | 0;
      t = (b + (c ^ d ^ a) + x2 + 0xc4ac5665) | 0;
    b = (c + ((t << 23) | (t >>> 9))) | 0;
      t = (a + (c ^ (b | ~d)) + x0 + 0xf4292244) | 0;
      a = (b + ((t << 6) | (t >>> 26))) | 0;
      t = (d + (b ^ (a | ~c)) + x7 + 0x432aff97) | 0;
    d = (a + ((t << 10) | (t >>> 22))) | 0;
      t = (c + (a ^ (d | ~b)) + x14 + 0xab9423a7) | 0;
    c = (d + ((t << 15) | (t >>> 17))) | 0;
      t = (b + (d ^ (c | ~a)) + x5 + 0xfc93a039) | 0;
    b = (c + ((t << 21) | (t >>> 11))) | 0;
      t = (a + (c ^ (b | ~d)) + x12 + 0x655b59c3) | 0;
      a = (b + ((t << 6) | (t >>> 26))) | 0;
      t = (d + (b ^ (a | ~c)) + x3 + 0x8f0ccc92) | 0;
    d = (a + ((t << 10) | (t >>> 22))) | 0;
      t = (c + (a ^ (d | ~b)) + x10 + 0xffeff47d) | 0;
    c = (d + ((t << 15) | (t >>> 17))) | 0;
      t = (b + (d ^ (c | ~a)) + x1 + 0x85845dd1) | 0;
    b = (c + ((t << 21) | (t >>> 11))) | 0;
      t = (a + (c ^ (b | ~d)) + x8 + 0x6fa87e4f) | 0;
      a = (b + ((t << 6) | (t >>> 26))) | 0;
      t = (d + (b ^ (a | ~c)) + x15 + 0xfe2ce6e0) | 0;
    d = (a + ((t << 10) | (t >>> 22))) | 0;
      t = (c + (a ^ (d | ~b)) + x6 + 0xa3014314) | 0;
    c = (d + ((t << 15) | (t >>> 17))) | 0;
      t = (b + (d ^ (c | ~a)) + x13 + 0x4e0811a1) | 0;
    b = (c + ((t << 21) | (t >>> 11))) | 0;
      t = (a + (c ^ (b | ~d)) + x4 + 0xf7537e82) | 0;
      a = (b + ((t << 6) | (t >>> 26))) | 0;
      t = (d + (b ^ (a | ~c)) + x11 + 0xbd3af235) | 0;
    d = (a + ((t << 10) | (t >>> 22))) | 0;
      t = (c + (a ^ (d | ~b)) + x2 + 0x2ad7d2bb) | 0;
    c = (d + ((t << 15) | (t >>> 17))) | 0;
      t = (b + (d ^ (c | ~a)) + x9 + 0xeb86d391) | 0;
    b = (c + ((t << 21) | (t >>> 11))) | 0;
      a = (a + aa) | 0;
      b = (b + bb) | 0;
      c = (c + cc) | 0;
      d = (d + dd) | 0;
    }
    this.#a = a;
    this.#b = b;
    this.#c = c;
    this.#d = d;
  }
}

export function md5(data: Uint8Array): Uint8Array {
  return new Md5State().update(data).digest();
}

md5.create = (): Md5 => new Md5State();
