/*
 * A small streaming ZIP writer for the browser's exports (an XLSX is a ZIP of XML parts), where
 * the server's zip libraries cannot run: they are built on Node streams. Entries are deflated by
 * the platform's CompressionStream('deflate-raw') as their bytes arrive and handed on at once, so
 * nothing but one entry's pending chunk and the central directory (a few dozen bytes per entry)
 * is held, however large the file. As the sizes and CRC-32 are known only at an entry's end, each
 * local header is followed by its data and then a data descriptor (general purpose flag bit 3),
 * which every reader of XLSX (Excel, LibreOffice, exceljs) accepts, as APPNOTE.TXT 4.3.9 allows.
 * No ZIP64: a file reaching 4 GiB is refused rather than written wrong.
 *
 * Pure: WebCrypto-free, DOM-free; runs in a Web Worker, a page, or Node.
 */

/** Receives the ZIP's bytes in order; the writer waits for it when it returns a promise. */
export type ZipSink = (chunk: Uint8Array) => void | Promise<void>;

export interface ZipEntry {
  /** Adds bytes to the entry; waits while the compressor or the sink is behind. */
  write(data: Uint8Array<ArrayBuffer>): Promise<void>;
  /** Ends the entry (its data descriptor goes out); the next entry may then be opened. */
  close(): Promise<void>;
}

const LIMIT = 0xffffffff;
/** Bit 3: sizes and CRC in a data descriptor after the data; bit 11: the name is UTF-8. */
const FLAGS = 0x0808;
const DEFLATE = 8;
const VERSION = 20;
/**
 * Made on Unix (host 3), as most writers say: readers then take the names as given rather than
 * converting them from a DOS code page, and the files as ordinary, readable ones (mode 0644).
 */
const MADE_BY = (3 << 8) | VERSION;
const FILE_ATTRIBUTES = (0o100644 << 16) >>> 0;

export class ZipTooLargeError extends Error {
  constructor() {
    super('The file would reach 4 GiB, more than a ZIP without ZIP64 extensions can hold.');
  }
}

interface Recorded {
  name: Uint8Array;
  crc: number;
  compressed: number;
  size: number;
  offset: number;
}

export class ZipWriter {
  readonly #sink: ZipSink;
  readonly #time: number;
  readonly #date: number;
  readonly #entries: Recorded[] = [];
  #offset = 0;
  #open = false;

  constructor(sink: ZipSink, modified: Date = new Date()) {
    if (typeof CompressionStream === 'undefined') throw new Error('This browser has no CompressionStream, which writing a ZIP needs.');
    this.#sink = sink;
    this.#time = (modified.getHours() << 11) | (modified.getMinutes() << 5) | Math.floor(modified.getSeconds() / 2);
    this.#date = ((Math.max(modified.getFullYear(), 1980) - 1980) << 9) | ((modified.getMonth() + 1) << 5) | modified.getDate();
  }

  /** Opens an entry for writing; entries are written one after the other. */
  async open(name: string): Promise<ZipEntry> {
    if (this.#open) throw new Error('The previous ZIP entry is still open.');
    this.#open = true;
    const recorded: Recorded = { name: new TextEncoder().encode(name), crc: 0, compressed: 0, size: 0, offset: this.#offset };
    await this.#emit(this.#localHeader(recorded));
    const deflate = new CompressionStream('deflate-raw');
    const writer = deflate.writable.getWriter();
    let crc = ~0;
    // The compressed bytes are handed to the sink as the compressor yields them; a sink failure stops the writes.
    const pump = (async () => {
      const reader = deflate.readable.getReader();
      for (;;) {
        const { done, value } = await reader.read();
        if (done) return;
        recorded.compressed += value.length;
        await this.#emit(value);
      }
    })();
    pump.catch((error: unknown) => writer.abort(error).catch(() => undefined));
    return {
      write: async (data) => {
        if (data.length === 0) return;
        crc = crc32(crc, data);
        recorded.size += data.length;
        if (recorded.size > LIMIT) throw new ZipTooLargeError();
        await writer.ready;
        await writer.write(data);
      },
      close: async () => {
        await writer.close();
        await pump;
        recorded.crc = ~crc >>> 0;
        await this.#emit(this.#descriptor(recorded));
        this.#entries.push(recorded);
        this.#open = false;
      },
    };
  }

  /** A whole entry at once (the small parts of a workbook). */
  async add(name: string, data: Uint8Array<ArrayBuffer> | string): Promise<void> {
    const entry = await this.open(name);
    await entry.write(typeof data === 'string' ? new TextEncoder().encode(data) : data);
    await entry.close();
  }

  /** Writes the central directory; the ZIP is then complete. */
  async finish(): Promise<void> {
    if (this.#open) throw new Error('A ZIP entry is still open.');
    const start = this.#offset;
    for (const entry of this.#entries) await this.#emit(this.#centralHeader(entry));
    const end = new DataView(new ArrayBuffer(22));
    end.setUint32(0, 0x06054b50, true);
    end.setUint16(8, this.#entries.length, true);
    end.setUint16(10, this.#entries.length, true);
    end.setUint32(12, this.#offset - start, true);
    end.setUint32(16, start, true);
    await this.#emit(new Uint8Array(end.buffer));
  }

  async #emit(bytes: Uint8Array): Promise<void> {
    if (this.#offset + bytes.length > LIMIT) throw new ZipTooLargeError();
    this.#offset += bytes.length;
    await this.#sink(bytes);
  }

  #localHeader(entry: Recorded): Uint8Array {
    const header = new DataView(new ArrayBuffer(30 + entry.name.length));
    header.setUint32(0, 0x04034b50, true);
    header.setUint16(4, VERSION, true);
    header.setUint16(6, FLAGS, true);
    header.setUint16(8, DEFLATE, true);
    header.setUint16(10, this.#time, true);
    header.setUint16(12, this.#date, true);
    // CRC and sizes (14–25) stay zero: they follow the data, in the descriptor.
    header.setUint16(26, entry.name.length, true);
    const bytes = new Uint8Array(header.buffer);
    bytes.set(entry.name, 30);
    return bytes;
  }

  #descriptor(entry: Recorded): Uint8Array {
    const descriptor = new DataView(new ArrayBuffer(16));
    descriptor.setUint32(0, 0x08074b50, true);
    descriptor.setUint32(4, entry.crc, true);
    descriptor.setUint32(8, entry.compressed, true);
    descriptor.setUint32(12, entry.size, true);
    return new Uint8Array(descriptor.buffer);
  }

  #centralHeader(entry: Recorded): Uint8Array {
    const header = new DataView(new ArrayBuffer(46 + entry.name.length));
    header.setUint32(0, 0x02014b50, true);
    header.setUint16(4, MADE_BY, true);
    header.setUint16(6, VERSION, true);
    header.setUint16(8, FLAGS, true);
    header.setUint16(10, DEFLATE, true);
    header.setUint16(12, this.#time, true);
    header.setUint16(14, this.#date, true);
    header.setUint32(16, entry.crc, true);
    header.setUint32(20, entry.compressed, true);
    header.setUint32(24, entry.size, true);
    header.setUint16(28, entry.name.length, true);
    header.setUint32(38, FILE_ATTRIBUTES, true);
    header.setUint32(42, entry.offset, true);
    const bytes = new Uint8Array(header.buffer);
    bytes.set(entry.name, 46);
    return bytes;
  }
}

const CRC_TABLE = (() => {
  const table = new Int32Array(256);
  for (let n = 0; n < 256; n += 1) {
    let c = n;
    for (let k = 0; k < 8; k += 1) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    table[n] = c;
  }
  return table;
})();

/** CRC-32 (the ZIP polynomial) continued over `data`; start from ~0 and finish with `~crc >>> 0`. */
function crc32(crc: number, data: Uint8Array): number {
  let c = crc;
  for (let i = 0; i < data.length; i += 1) c = CRC_TABLE[(c ^ data[i]!) & 0xff]! ^ (c >>> 8);
  return c;
}
