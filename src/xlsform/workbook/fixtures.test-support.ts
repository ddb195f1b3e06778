/** Builders for hand-made workbooks used by the tests: zip containers, OOXML parts, OLE2 files, BIFF records. */
import { crc32, deflateRawSync } from 'node:zlib';

export interface ZipEntrySpec {
  name: string;
  data?: Buffer;
  /** Pre-compressed deflate data (then `declaredSize` says what it claims to inflate to). */
  deflated?: Buffer;
  declaredSize?: number;
  flags?: number;
  unixMode?: number;
  /** Compression method written in the headers; 0 (stored) keeps `data` as it is. Default 8. */
  method?: number;
  /** Put the sizes and offset in a ZIP64 extra field, with 0xffffffff in the header fields. */
  zip64?: boolean;
}

export interface ZipOptions {
  /** Archive comment after the end-of-central-directory record. */
  comment?: string;
  /** Locate the central directory through a ZIP64 end record, as archives with 65,535+ entries must. */
  zip64End?: boolean;
}

const u64 = (value: number): Buffer => {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(value));
  return b;
};

export function buildZip(entries: ZipEntrySpec[], options: ZipOptions = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const entry of entries) {
    const name = Buffer.from(entry.name, 'utf8');
    const data = entry.data ?? Buffer.alloc(0);
    const method = entry.method ?? 8;
    const compressed = entry.deflated ?? (method === 0 ? data : deflateRawSync(data));
    const size = entry.declaredSize ?? data.length;
    const crc = entry.deflated ? 0 : crc32(data);
    const flags = (entry.flags ?? 0) | 0x800;
    const field32 = (value: number): number => (entry.zip64 ? 0xffffffff : value);
    const extra = entry.zip64 ? Buffer.concat([Buffer.from([0x01, 0x00, 24, 0x00]), u64(size), u64(compressed.length), u64(offset)]) : Buffer.alloc(0);
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(flags, 6);
    local.writeUInt16LE(method, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(field32(compressed.length), 18);
    local.writeUInt32LE(field32(size), 22);
    local.writeUInt16LE(name.length, 26);
    local.writeUInt16LE(extra.length, 28);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(0x0314, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(flags, 8);
    central.writeUInt16LE(method, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(field32(compressed.length), 20);
    central.writeUInt32LE(field32(size), 24);
    central.writeUInt16LE(name.length, 28);
    central.writeUInt16LE(extra.length, 30);
    central.writeUInt32LE(((entry.unixMode ?? 0o100644) << 16) >>> 0, 38);
    central.writeUInt32LE(field32(offset), 42);
    locals.push(local, name, extra, compressed);
    centrals.push(central, name, extra);
    offset += local.length + name.length + extra.length + compressed.length;
  }
  const directory = Buffer.concat(centrals);
  const zip64 = options.zip64End ? zip64EndRecords(entries.length, directory.length, offset) : [];
  const comment = Buffer.from(options.comment ?? '', 'utf8');
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(options.zip64End ? 0xffff : entries.length, 8);
  end.writeUInt16LE(options.zip64End ? 0xffff : entries.length, 10);
  end.writeUInt32LE(directory.length, 12);
  end.writeUInt32LE(options.zip64End ? 0xffffffff : offset, 16);
  end.writeUInt16LE(comment.length, 20);
  return Buffer.concat([...locals, directory, ...zip64, end, comment]);
}

/** A ZIP64 end-of-central-directory record and its locator, for a directory at `offset`. */
function zip64EndRecords(entryCount: number, directorySize: number, offset: number): Buffer[] {
  const record = Buffer.alloc(56);
  record.writeUInt32LE(0x06064b50, 0);
  record.writeBigUInt64LE(44n, 4);
  record.writeUInt16LE(45, 12);
  record.writeUInt16LE(45, 14);
  record.writeBigUInt64LE(BigInt(entryCount), 24);
  record.writeBigUInt64LE(BigInt(entryCount), 32);
  record.writeBigUInt64LE(BigInt(directorySize), 40);
  record.writeBigUInt64LE(BigInt(offset), 48);
  const locator = Buffer.alloc(20);
  locator.writeUInt32LE(0x07064b50, 0);
  locator.writeBigUInt64LE(BigInt(offset + directorySize), 8);
  locator.writeUInt32LE(1, 16);
  return [record, locator];
}

/**
 * A deflate stream of `megabytes` MiB of zeros built without inflating them in memory:
 * one sync-flushed (non-final) segment for 1 MiB, repeated, then a final empty block.
 */
export function zerosDeflated(megabytes: number): Buffer {
  const segment = deflateRawSync(Buffer.alloc(1024 * 1024), { finishFlush: 2 /* Z_SYNC_FLUSH */ });
  return Buffer.concat([...Array.from({ length: megabytes }, () => segment), Buffer.from([0x03, 0x00])]);
}

const NS = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';

export interface XlsxSpec {
  sheets: Array<{ name: string; xml: string }>;
  sharedStrings?: string;
  styles?: string;
  workbookPr?: string;
}

/** The parts of a minimal .xlsx; sheet XML is given as the content of <worksheet>. */
export function xlsxParts(spec: XlsxSpec): ZipEntrySpec[] {
  const part = (name: string, xml: string): ZipEntrySpec => ({ name, data: Buffer.from(`<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n${xml}`) });
  const rels = spec.sheets.map((_, i) => `<Relationship Id="rId${i + 1}" Type="${REL}/worksheet" Target="worksheets/sheet${i + 1}.xml"/>`);
  if (spec.sharedStrings) rels.push(`<Relationship Id="rSS" Type="${REL}/sharedStrings" Target="sharedStrings.xml"/>`);
  if (spec.styles) rels.push(`<Relationship Id="rST" Type="${REL}/styles" Target="/xl/styles.xml"/>`);
  return [
    part('_rels/.rels', `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="r1" Type="${REL}/officeDocument" Target="xl/workbook.xml"/></Relationships>`),
    part('xl/workbook.xml', `<workbook xmlns="${NS}" xmlns:r="${REL}">${spec.workbookPr ?? ''}<sheets>${spec.sheets.map((s, i) => `<sheet name="${s.name}" sheetId="${i + 1}" r:id="rId${i + 1}"/>`).join('')}</sheets></workbook>`),
    part('xl/_rels/workbook.xml.rels', `<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">${rels.join('')}</Relationships>`),
    ...spec.sheets.map((s, i) => part(`xl/worksheets/sheet${i + 1}.xml`, `<worksheet xmlns="${NS}">${s.xml}</worksheet>`)),
    ...(spec.sharedStrings ? [part('xl/sharedStrings.xml', `<sst xmlns="${NS}">${spec.sharedStrings}</sst>`)] : []),
    ...(spec.styles ? [part('xl/styles.xml', `<styleSheet xmlns="${NS}">${spec.styles}</styleSheet>`)] : []),
  ];
}

export function buildXlsx(spec: XlsxSpec): Buffer {
  return buildZip(xlsxParts(spec));
}

/** One BIFF record. */
export function record(id: number, body: Uint8Array): Buffer {
  const header = Buffer.alloc(4);
  header.writeUInt16LE(id, 0);
  header.writeUInt16LE(body.length, 2);
  return Buffer.concat([header, body]);
}

/** Little-endian fields: [bytes, value] pairs. */
export function fields(...parts: Array<[1 | 2 | 4 | 8, number]>): Buffer {
  return Buffer.concat(parts.map(([size, value]) => {
    const b = Buffer.alloc(size);
    if (size === 1) b.writeUInt8(value);
    else if (size === 2) b.writeUInt16LE(value);
    else if (size === 4) b.writeUInt32LE(value >>> 0);
    else b.writeDoubleLE(value);
    return b;
  }));
}

const SECTOR = 512;
const END_OF_CHAIN = 0xfffffffe;
const FAT_SECTOR = 0xfffffffd;

/**
 * A version-3 OLE2 file with root-level streams (each padded to at least 4 KiB so it lives
 * in regular sectors). `loopDirectory` makes the directory chain point at itself.
 */
export function buildCfb(streams: Array<{ name: string; data: Buffer }>, options: { loopDirectory?: boolean } = {}): Buffer {
  const padded = streams.map((s) => Buffer.concat([s.data, Buffer.alloc(Math.max(4096, Math.ceil(s.data.length / SECTOR) * SECTOR) - s.data.length)]));
  const fat = new Array<number>(SECTOR / 4).fill(0xffffffff);
  fat[0] = FAT_SECTOR;
  fat[1] = options.loopDirectory ? 1 : END_OF_CHAIN;
  let next = 2;
  const starts = padded.map((data) => {
    const start = next;
    const count = data.length / SECTOR;
    for (let i = 0; i < count; i++) fat[start + i] = i === count - 1 ? END_OF_CHAIN : start + i + 1;
    next += count;
    return start;
  });
  if (next > SECTOR / 4) throw new Error('test CFB too large for one FAT sector');
  const header = Buffer.alloc(SECTOR);
  Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1]).copy(header);
  header.writeUInt16LE(0x3e, 0x18);
  header.writeUInt16LE(3, 0x1a);
  header.writeUInt16LE(0xfffe, 0x1c);
  header.writeUInt16LE(9, 0x1e);
  header.writeUInt16LE(6, 0x20);
  header.writeUInt32LE(1, 0x2c);
  header.writeUInt32LE(1, 0x30);
  header.writeUInt32LE(4096, 0x38);
  header.writeUInt32LE(END_OF_CHAIN, 0x3c);
  header.writeUInt32LE(END_OF_CHAIN, 0x44);
  for (let i = 0; i < 109; i++) header.writeUInt32LE(i === 0 ? 0 : 0xffffffff, 0x4c + i * 4);
  const directory = Buffer.alloc(SECTOR);
  const entry = (index: number, name: string, type: number, child: number, right: number, start: number, size: number): void => {
    const at = index * 128;
    directory.write(name, at, 'utf16le');
    directory.writeUInt16LE((name.length + 1) * 2, at + 0x40);
    directory.writeUInt8(type, at + 0x42);
    directory.writeUInt32LE(0xffffffff, at + 0x44);
    directory.writeUInt32LE(right, at + 0x48);
    directory.writeUInt32LE(child, at + 0x4c);
    directory.writeUInt32LE(start, at + 0x74);
    directory.writeUInt32LE(size, at + 0x78);
  };
  entry(0, 'Root Entry', 5, streams.length ? 1 : 0xffffffff, 0xffffffff, END_OF_CHAIN, 0);
  padded.forEach((data, i) => entry(i + 1, streams[i]!.name, 2, 0xffffffff, i + 2 <= streams.length ? i + 2 : 0xffffffff, starts[i]!, data.length));
  const fatSector = Buffer.alloc(SECTOR);
  fat.forEach((value, i) => fatSector.writeUInt32LE(value >>> 0, i * 4));
  return Buffer.concat([header, fatSector, directory, ...padded]);
}
