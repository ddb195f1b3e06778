/*
 * The zip container of an .xlsx, checked before a single byte of XML is parsed.
 *
 * The central directory is read straight from the uploaded bytes (the whole file is in
 * memory anyway) and vetted first: entry count, declared sizes and their total,
 * compression ratio, path shape (no `..`, absolute, drive or backslash names), symlinks and
 * encryption. Only the parts the reader asks for are ever inflated, each in one synchronous
 * zlib call whose output is capped one byte above the declared size: an entry that lies
 * about its size fails as soon as it passes that cap, and the bytes actually produced are
 * checked against the declaration and the total budget. Declared sizes are never trusted.
 * Synchronous inflation holds at most one part's bytes at a time, bounded by
 * `maxUncompressedBytes`; it avoids the thread-pool round trips that dominated the time
 * of streaming small parts.
 */
import { inflateRawSync } from 'node:zlib';
import { WorkbookError } from './errors.js';
import { ratioFloorBytes } from './limits.js';
import type { ReadLimits } from './limits.js';

export interface SafeZip {
  has(name: string): boolean;
  /** The inflated bytes of `name`, checked against its declared size and the total budget. */
  read(name: string): Uint8Array;
}

interface ZipEntry {
  name: string;
  flags: number;
  method: number;
  compressedSize: number;
  uncompressedSize: number;
  localHeaderOffset: number;
  externalAttributes: number;
}

const END_OF_DIRECTORY = 0x06054b50;
const ZIP64_END_LOCATOR = 0x07064b50;
const ZIP64_END_OF_DIRECTORY = 0x06064b50;
const DIRECTORY_HEADER = 0x02014b50;
const LOCAL_HEADER = 0x04034b50;
const END_OF_DIRECTORY_SIZE = 22;
const DIRECTORY_HEADER_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT = 0xffff;

const ZIP64_EXTRA = 0x0001;
const INFO_ZIP_UNICODE_PATH = 0x7075;
const FLAG_ENCRYPTED = 0x1;
const FLAG_UTF8 = 0x800;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;
const UNIX_SYMLINK = 0o120000;
const UNIX_FILE_TYPE_MASK = 0o170000;

const bomb = (detail: string): WorkbookError =>
  new WorkbookError('xlsform.zip_bomb', `The workbook's zip container is unsafe to open: ${detail}. A spreadsheet saved by Excel or LibreOffice never looks like this.`);

const damaged = (detail: string): WorkbookError =>
  new WorkbookError('xlsform.malformed_workbook', `The .xlsx file is damaged or truncated (${detail}). Re-save it from Excel or LibreOffice and upload it again.`);

function uint64(bytes: Buffer, at: number): number {
  const value = bytes.readBigUInt64LE(at);
  if (value > BigInt(Number.MAX_SAFE_INTEGER)) throw damaged('a ZIP64 size or offset is out of range');
  return Number(value);
}

/** Offset of the end-of-central-directory record: the last signature whose comment reaches the end exactly. */
function findEndOfDirectory(bytes: Buffer): number {
  const lowest = Math.max(0, bytes.length - END_OF_DIRECTORY_SIZE - MAX_COMMENT);
  for (let at = bytes.length - END_OF_DIRECTORY_SIZE; at >= lowest; at--) {
    if (bytes.readUInt32LE(at) === END_OF_DIRECTORY && at + END_OF_DIRECTORY_SIZE + bytes.readUInt16LE(at + 20) === bytes.length) return at;
  }
  throw damaged('no end of central directory record');
}

interface Directory {
  entryCount: number;
  offset: number;
  size: number;
}

function readDirectoryLocation(bytes: Buffer): Directory {
  const end = findEndOfDirectory(bytes);
  if (bytes.readUInt16LE(end + 4) !== 0 || bytes.readUInt16LE(end + 6) !== 0) throw damaged('multi-disk zip archives are not supported');
  const directory = { entryCount: bytes.readUInt16LE(end + 10), size: bytes.readUInt32LE(end + 12), offset: bytes.readUInt32LE(end + 16) };
  const usesZip64 = directory.entryCount === 0xffff || directory.size === 0xffffffff || directory.offset === 0xffffffff;
  const locator = end - 20;
  if (!usesZip64 || locator < 0 || bytes.readUInt32LE(locator) !== ZIP64_END_LOCATOR) return directory;
  const zip64End = uint64(bytes, locator + 8);
  if (zip64End + 56 > locator || bytes.readUInt32LE(zip64End) !== ZIP64_END_OF_DIRECTORY) throw damaged('invalid ZIP64 end of central directory record');
  return { entryCount: uint64(bytes, zip64End + 32), size: uint64(bytes, zip64End + 40), offset: uint64(bytes, zip64End + 48) };
}

/** The extra fields of one header, as id → data. */
function extraFields(extra: Buffer): Map<number, Buffer> {
  const fields = new Map<number, Buffer>();
  for (let at = 0; at + 4 <= extra.length;) {
    const size = extra.readUInt16LE(at + 2);
    if (at + 4 + size > extra.length) throw damaged('an extra field overflows its header');
    fields.set(extra.readUInt16LE(at), extra.subarray(at + 4, at + 4 + size));
    at += 4 + size;
  }
  return fields;
}

/** Replace 32-bit placeholders (0xffffffff) by the ZIP64 extra field's values, in the order the format fixes. */
function applyZip64(entry: ZipEntry, zip64: Buffer | undefined): void {
  const wanted = (['uncompressedSize', 'compressedSize', 'localHeaderOffset'] as const).filter((field) => entry[field] === 0xffffffff);
  if (wanted.length === 0) return;
  if (!zip64 || zip64.length < wanted.length * 8) throw damaged(`the entry "${entry.name}" lacks its ZIP64 sizes`);
  wanted.forEach((field, i) => {
    entry[field] = uint64(zip64, i * 8);
  });
}

function unsafePathReason(name: string): string | undefined {
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return 'is an absolute path';
  if (name.split('/').includes('..')) return 'climbs out of the archive with ".."';
  if (name.includes('\0')) return 'contains a NUL character';
  return undefined;
}

function checkEntry(entry: ZipEntry, alternateNames: string[], limits: ReadLimits): void {
  for (const name of [entry.name, ...alternateNames]) {
    const reason = unsafePathReason(name);
    if (reason) {
      throw new WorkbookError('xlsform.zip_unsafe_path', `The workbook's zip container holds an entry named "${name}" that ${reason}; such entries are used to attack servers and are refused.`);
    }
  }
  if (((entry.externalAttributes >>> 16) & UNIX_FILE_TYPE_MASK) === UNIX_SYMLINK) {
    throw new WorkbookError('xlsform.zip_unsafe_path', `The workbook's zip container holds a symbolic link ("${entry.name}"), which spreadsheets never contain; it is refused.`);
  }
  if ((entry.flags & FLAG_ENCRYPTED) !== 0) {
    throw new WorkbookError('xlsform.encrypted', 'The workbook is password-protected. Remove the password in your spreadsheet program, save, and upload again.');
  }
  if (entry.uncompressedSize > limits.maxUncompressedBytes) {
    throw bomb(`the entry "${entry.name}" would inflate to ${entry.uncompressedSize} bytes, more than the ${limits.maxUncompressedBytes}-byte limit`);
  }
  if (entry.uncompressedSize > ratioFloorBytes && entry.uncompressedSize > limits.maxRatio * entry.compressedSize) {
    throw bomb(`the entry "${entry.name}" claims a compression ratio above ${limits.maxRatio}:1`);
  }
}

/** One central directory header at `at`; returns the entry and where the next header starts. */
function readDirectoryHeader(bytes: Buffer, at: number, limits: ReadLimits): { entry: ZipEntry; next: number } {
  if (at + DIRECTORY_HEADER_SIZE > bytes.length || bytes.readUInt32LE(at) !== DIRECTORY_HEADER) throw damaged('invalid central directory file header signature');
  const nameLength = bytes.readUInt16LE(at + 28);
  const extraLength = bytes.readUInt16LE(at + 30);
  const next = at + DIRECTORY_HEADER_SIZE + nameLength + extraLength + bytes.readUInt16LE(at + 32);
  if (next > bytes.length) throw damaged('the central directory overflows the file');
  const flags = bytes.readUInt16LE(at + 8);
  const nameStart = at + DIRECTORY_HEADER_SIZE;
  const entry: ZipEntry = {
    name: bytes.toString((flags & FLAG_UTF8) !== 0 ? 'utf8' : 'latin1', nameStart, nameStart + nameLength),
    flags,
    method: bytes.readUInt16LE(at + 10),
    compressedSize: bytes.readUInt32LE(at + 20),
    uncompressedSize: bytes.readUInt32LE(at + 24),
    localHeaderOffset: bytes.readUInt32LE(at + 42),
    externalAttributes: bytes.readUInt32LE(at + 38),
  };
  const extras = extraFields(bytes.subarray(nameStart + nameLength, nameStart + nameLength + extraLength));
  applyZip64(entry, extras.get(ZIP64_EXTRA));
  // Some unzip tools prefer this extra field's name, so it must be as safe as the main one.
  const unicodePath = extras.get(INFO_ZIP_UNICODE_PATH);
  checkEntry(entry, unicodePath && unicodePath.length > 5 ? [unicodePath.subarray(5).toString('utf8')] : [], limits);
  return { entry, next };
}

function readDirectory(bytes: Buffer, limits: ReadLimits): Map<string, ZipEntry> {
  const directory = readDirectoryLocation(bytes);
  if (directory.entryCount > limits.maxEntries) throw bomb(`it holds ${directory.entryCount} entries, more than the limit of ${limits.maxEntries}`);
  if (directory.offset + directory.size > bytes.length) throw damaged('the central directory lies beyond the end of the file');
  const entries = new Map<string, ZipEntry>();
  let declaredTotal = 0;
  let at = directory.offset;
  for (let i = 0; i < directory.entryCount; i++) {
    const { entry, next } = readDirectoryHeader(bytes, at, limits);
    declaredTotal += entry.uncompressedSize;
    if (declaredTotal > limits.maxUncompressedBytes) throw bomb(`its entries would inflate to more than ${limits.maxUncompressedBytes} bytes in total`);
    if (entries.has(entry.name)) throw damaged(`the entry "${entry.name}" appears twice`);
    entries.set(entry.name, entry);
    at = next;
  }
  return entries;
}

/** The entry's compressed bytes, located through its local header. */
function compressedData(bytes: Buffer, entry: ZipEntry): Buffer {
  const header = entry.localHeaderOffset;
  if (header + LOCAL_HEADER_SIZE > bytes.length || bytes.readUInt32LE(header) !== LOCAL_HEADER) throw damaged(`invalid local file header for "${entry.name}"`);
  const start = header + LOCAL_HEADER_SIZE + bytes.readUInt16LE(header + 26) + bytes.readUInt16LE(header + 28);
  if (start + entry.compressedSize > bytes.length) throw damaged(`the data of "${entry.name}" overflows the file`);
  return bytes.subarray(start, start + entry.compressedSize);
}

function inflate(entry: ZipEntry, data: Buffer): Buffer {
  if (entry.method === METHOD_STORED) return data;
  if (entry.method !== METHOD_DEFLATED) throw damaged(`the entry "${entry.name}" uses unsupported compression method ${entry.method}`);
  try {
    return inflateRawSync(data, { maxOutputLength: entry.uncompressedSize + 1 });
  } catch (err) {
    if ((err as { code?: unknown }).code === 'ERR_BUFFER_TOO_LARGE') throw bomb(`the entry "${entry.name}" inflates beyond its declared size`);
    throw damaged(`the entry "${entry.name}" cannot be inflated: ${err instanceof Error ? err.message : String(err)}`);
  }
}

/** Read and vet the container's directory; throws a WorkbookError before anything is inflated. */
export function openSafeZip(bytes: Buffer, limits: ReadLimits): SafeZip {
  if (bytes.length < END_OF_DIRECTORY_SIZE) throw damaged('the file is too short to be a zip archive');
  const entries = readDirectory(bytes, limits);
  let inflatedTotal = 0;

  const read = (name: string): Uint8Array => {
    const entry = entries.get(name);
    if (!entry) throw damaged(`the part "${name}" is missing`);
    const inflated = inflate(entry, compressedData(bytes, entry));
    if (inflated.length > entry.uncompressedSize) throw bomb(`the entry "${name}" inflates beyond its declared size`);
    if (inflated.length < entry.uncompressedSize) throw damaged(`the entry "${name}" inflates to fewer bytes than it declares`);
    inflatedTotal += inflated.length;
    if (inflatedTotal > limits.maxUncompressedBytes) throw bomb(`its entries inflate to more than ${limits.maxUncompressedBytes} bytes`);
    return inflated;
  };

  return { has: (name) => entries.has(name), read };
}
