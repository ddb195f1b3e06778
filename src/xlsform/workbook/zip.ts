/*
 * The zip container of an .xlsx, checked before a single byte of XML is parsed.
 *
 * The central directory is walked first: entry count, declared sizes, compression ratio,
 * path shape (no `..`, absolute, drive or backslash names), symlinks and encryption. Then
 * entries are inflated on demand, streamed chunk by chunk to the caller, counting the bytes
 * actually produced: declared sizes are never trusted, so a lying entry stops at its
 * declared size (yauzl's byte-count check) and the whole read stops at the total budget.
 */
import yauzl from 'yauzl';
import type { Entry, ZipFile } from 'yauzl';
import { WorkbookError } from './errors.js';
import { ratioFloorBytes } from './limits.js';
import type { ReadLimits } from './limits.js';

export interface SafeZip {
  has(name: string): boolean;
  /** Inflate `name`, handing each chunk to `sink`; a throw from `sink` aborts the read. */
  stream(name: string, sink: (chunk: Uint8Array) => void): Promise<void>;
  close(): void;
}

const UNIX_SYMLINK = 0o120000;
const UNIX_FILE_TYPE_MASK = 0o170000;
const INFO_ZIP_UNICODE_PATH = 0x7075;

const bomb = (detail: string): WorkbookError =>
  new WorkbookError('xlsform.zip_bomb', `The workbook's zip container is unsafe to open: ${detail}. A spreadsheet saved by Excel or LibreOffice never looks like this.`);

const damaged = (detail: string): WorkbookError =>
  new WorkbookError('xlsform.malformed_workbook', `The .xlsx file is damaged or truncated (${detail}). Re-save it from Excel or LibreOffice and upload it again.`);

function unsafePathReason(name: string): string | undefined {
  if (name.includes('\\')) return 'contains a backslash';
  if (name.startsWith('/') || /^[a-zA-Z]:/.test(name)) return 'is an absolute path';
  if (name.split('/').includes('..')) return 'climbs out of the archive with ".."';
  if (name.includes('\0')) return 'contains a NUL character';
  return undefined;
}

function entryNames(entry: Entry): string[] {
  const utf8 = (entry.generalPurposeBitFlag & 0x800) !== 0;
  const names = [entry.fileNameRaw.toString(utf8 ? 'utf8' : 'latin1')];
  // Some unzip tools prefer this extra field's name, so it must be as safe as the main one.
  for (const field of entry.extraFields) {
    if (field.id === INFO_ZIP_UNICODE_PATH && field.data.length > 5) names.push(field.data.subarray(5).toString('utf8'));
  }
  return names;
}

function checkEntry(entry: Entry, limits: ReadLimits): void {
  const names = entryNames(entry);
  for (const name of names) {
    const reason = unsafePathReason(name);
    if (reason) {
      throw new WorkbookError('xlsform.zip_unsafe_path', `The workbook's zip container holds an entry named "${name}" that ${reason}; such entries are used to attack servers and are refused.`);
    }
  }
  if (((entry.externalFileAttributes >>> 16) & UNIX_FILE_TYPE_MASK) === UNIX_SYMLINK) {
    throw new WorkbookError('xlsform.zip_unsafe_path', `The workbook's zip container holds a symbolic link ("${names[0]}"), which spreadsheets never contain; it is refused.`);
  }
  if (entry.isEncrypted()) {
    throw new WorkbookError('xlsform.encrypted', 'The workbook is password-protected. Remove the password in your spreadsheet program, save, and upload again.');
  }
  if (entry.uncompressedSize > limits.maxUncompressedBytes) {
    throw bomb(`the entry "${names[0]}" would inflate to ${entry.uncompressedSize} bytes, more than the ${limits.maxUncompressedBytes}-byte limit`);
  }
  if (entry.uncompressedSize > ratioFloorBytes && entry.uncompressedSize > limits.maxRatio * entry.compressedSize) {
    throw bomb(`the entry "${names[0]}" claims a compression ratio above ${limits.maxRatio}:1`);
  }
}

function openZip(bytes: Buffer): Promise<ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(bytes, { lazyEntries: true, decodeStrings: false, validateEntrySizes: true }, (err, zip) => {
      if (err) reject(damaged(err.message));
      else resolve(zip);
    });
  });
}

function listEntries(zip: ZipFile, limits: ReadLimits): Promise<Map<string, Entry>> {
  return new Promise((resolve, reject) => {
    const entries = new Map<string, Entry>();
    let declaredTotal = 0;
    const fail = (err: unknown): void => {
      zip.close();
      reject(err instanceof WorkbookError ? err : damaged(err instanceof Error ? err.message : String(err)));
    };
    zip.on('entry', (entry: Entry) => {
      try {
        checkEntry(entry, limits);
        declaredTotal += entry.uncompressedSize;
        if (declaredTotal > limits.maxUncompressedBytes) throw bomb(`its entries would inflate to more than ${limits.maxUncompressedBytes} bytes in total`);
        const name = entry.fileNameRaw.toString((entry.generalPurposeBitFlag & 0x800) !== 0 ? 'utf8' : 'latin1');
        if (entries.has(name)) throw damaged(`the entry "${name}" appears twice`);
        entries.set(name, entry);
      } catch (err) {
        fail(err);
        return;
      }
      zip.readEntry();
    });
    zip.on('end', () => resolve(entries));
    zip.on('error', fail);
    zip.readEntry();
  });
}

/** Open and vet the container; throws a WorkbookError before anything is inflated. */
export async function openSafeZip(bytes: Buffer, limits: ReadLimits): Promise<SafeZip> {
  const zip = await openZip(bytes);
  if (zip.entryCount > limits.maxEntries) {
    zip.close();
    throw bomb(`it holds ${zip.entryCount} entries, more than the limit of ${limits.maxEntries}`);
  }
  const entries = await listEntries(zip, limits);
  let inflatedTotal = 0;

  const stream = (name: string, sink: (chunk: Uint8Array) => void): Promise<void> =>
    new Promise((resolve, reject) => {
      const entry = entries.get(name);
      if (!entry) {
        reject(damaged(`the part "${name}" is missing`));
        return;
      }
      zip.openReadStream(entry, (openErr, readable) => {
        if (openErr) {
          reject(damaged(openErr.message));
          return;
        }
        let settled = false;
        const stop = (err: WorkbookError): void => {
          if (settled) return;
          settled = true;
          readable.destroy();
          reject(err);
        };
        readable.on('data', (chunk: Buffer) => {
          if (settled) return;
          inflatedTotal += chunk.length;
          if (inflatedTotal > limits.maxUncompressedBytes) {
            stop(bomb(`its entries inflate to more than ${limits.maxUncompressedBytes} bytes`));
            return;
          }
          try {
            sink(chunk);
          } catch (err) {
            stop(err instanceof WorkbookError ? err : damaged(err instanceof Error ? err.message : String(err)));
          }
        });
        readable.on('error', (err: Error) => {
          // yauzl's byte counter: the entry inflates past the size its header declared.
          stop(/too many bytes/.test(err.message) ? bomb(`the entry "${name}" inflates beyond its declared size`) : damaged(err.message));
        });
        readable.on('end', () => {
          if (settled) return;
          settled = true;
          resolve();
        });
      });
    });

  return { has: (name) => entries.has(name), stream, close: () => zip.close() };
}
