/*
 * OLE2 compound file (the container of a legacy .xls): header, FAT with its DIFAT
 * extension, directory, mini stream. Every sector number is bounds-checked and every chain
 * is followed with a visited map, so a looping or overlong chain is an error, never a hang.
 */
import { WorkbookError } from './errors.js';
import type { ReadLimits } from './limits.js';

export const CFB_SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1] as const;

const END_OF_CHAIN = 0xfffffffe;
const FREE_SECTOR = 0xffffffff;
const NO_STREAM = 0xffffffff;
const HEADER_DIFAT_ENTRIES = 109;
const DIRECTORY_ENTRY_SIZE = 128;
const MINI_SECTOR_SIZE = 64;
const TYPE_STREAM = 2;

const damaged = (detail: string): WorkbookError =>
  new WorkbookError('xlsform.malformed_workbook', `The .xls file is damaged or truncated (${detail}). Re-save it from Excel or LibreOffice, preferably as .xlsx, and upload it again.`);

interface DirectoryEntry {
  name: string;
  type: number;
  left: number;
  right: number;
  child: number;
  start: number;
  size: number;
}

export class CompoundFile {
  private readonly view: DataView;
  private readonly sectorSize: number;
  private readonly sectorCount: number;
  private readonly fat: Uint32Array;
  private readonly entries: DirectoryEntry[];
  private readonly miniCutoff: number;

  constructor(
    private readonly bytes: Uint8Array,
    private readonly limits: ReadLimits,
  ) {
    if (bytes.length < 512) throw damaged('shorter than its 512-byte header');
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const shift = this.u16(0x1e);
    if (this.u16(0x1c) !== 0xfffe || (shift !== 9 && shift !== 12) || this.u16(0x20) !== 6) throw damaged('invalid compound file header');
    this.sectorSize = 1 << shift;
    this.sectorCount = Math.max(0, Math.ceil((bytes.length - this.sectorSize) / this.sectorSize));
    this.miniCutoff = this.u32(0x38);
    this.fat = this.readFat(this.u32(0x2c), this.u32(0x44), this.u32(0x48));
    const directory = this.readWholeChain(this.u32(0x30));
    this.entries = [];
    for (let at = 0; at + DIRECTORY_ENTRY_SIZE <= directory.length; at += DIRECTORY_ENTRY_SIZE) {
      this.entries.push(parseEntry(new DataView(directory.buffer, directory.byteOffset + at, DIRECTORY_ENTRY_SIZE), shift === 12));
    }
    if (this.entries.length === 0) throw damaged('no directory');
  }

  /** A stream stored directly under the root storage (names compare case-insensitively). */
  readRootStream(name: string): Uint8Array | undefined {
    const entry = this.rootStreams().find((candidate) => candidate.name.toLowerCase() === name.toLowerCase());
    if (!entry) return undefined;
    if (entry.size > this.limits.maxUncompressedBytes) {
      throw new WorkbookError('xlsform.too_large', `The .xls workbook stream is ${entry.size} bytes, more than the ${this.limits.maxUncompressedBytes}-byte limit.`);
    }
    if (entry.size >= this.miniCutoff) return readChain(this.sectorArea(), this.sectorSize, this.fat, entry.start, entry.size);
    const root = this.entries[0] as DirectoryEntry;
    const miniStream = readChain(this.sectorArea(), this.sectorSize, this.fat, root.start, root.size);
    const miniFat = toUint32s(this.readWholeChain(this.u32(0x3c)));
    return readChain(miniStream, MINI_SECTOR_SIZE, miniFat, entry.start, entry.size);
  }

  private rootStreams(): DirectoryEntry[] {
    const found: DirectoryEntry[] = [];
    const seen = new Set<number>();
    const pending = [(this.entries[0] as DirectoryEntry).child];
    while (pending.length > 0) {
      const id = pending.pop() as number;
      if (id === NO_STREAM) continue;
      const entry = this.entries[id];
      if (!entry || seen.has(id)) throw damaged('the directory tree is broken or loops');
      seen.add(id);
      if (entry.type === TYPE_STREAM) found.push(entry);
      pending.push(entry.left, entry.right);
    }
    return found;
  }

  private readFat(fatSectorCount: number, firstDifat: number, difatSectorCount: number): Uint32Array {
    if (fatSectorCount > this.sectorCount) throw damaged('the allocation table is larger than the file');
    const fatSectors: number[] = [];
    for (let i = 0; i < HEADER_DIFAT_ENTRIES && fatSectors.length < fatSectorCount; i++) fatSectors.push(this.u32(0x4c + i * 4));
    const perDifat = this.sectorSize / 4 - 1;
    const visited = new Set<number>();
    let difat = firstDifat;
    for (let n = 0; n < difatSectorCount && fatSectors.length < fatSectorCount; n++) {
      if (visited.has(difat)) throw damaged('the allocation table chain loops');
      visited.add(difat);
      const entries = toUint32s(this.sector(difat));
      for (let i = 0; i < perDifat && fatSectors.length < fatSectorCount; i++) fatSectors.push(entries[i] as number);
      difat = entries[perDifat] as number;
    }
    if (fatSectors.length < fatSectorCount) throw damaged('the allocation table is incomplete');
    const fat = new Uint32Array((fatSectorCount * this.sectorSize) / 4);
    fatSectors.forEach((id, i) => fat.set(toUint32s(this.sector(id)), (i * this.sectorSize) / 4));
    return fat;
  }

  /** Sector n starts at (n + 1) * sectorSize: the header takes the first slot. */
  private sectorArea(): Uint8Array {
    return this.bytes.subarray(this.sectorSize);
  }

  /** A chain whose length is implicit (directory, mini FAT): read until it ends. */
  private readWholeChain(start: number): Uint8Array {
    return readChain(this.sectorArea(), this.sectorSize, this.fat, start, undefined);
  }

  private sector(id: number): Uint8Array {
    if (id >= this.sectorCount) throw damaged(`sector ${id} lies beyond the end of the file`);
    const start = this.sectorSize * (id + 1);
    const sector = new Uint8Array(this.sectorSize);
    sector.set(this.bytes.subarray(start, start + this.sectorSize));
    return sector;
  }

  private u16(at: number): number {
    return this.view.getUint16(at, true);
  }

  private u32(at: number): number {
    return this.view.getUint32(at, true);
  }
}

/**
 * Follow a sector chain in `area` (sector n at n * sectorSize) through `table`. With a
 * `size` the chain must cover that many bytes; without one it is read to its end. A chain
 * can never be longer than the area holds sectors, so its output is bounded by the input.
 */
function readChain(area: Uint8Array, sectorSize: number, table: Uint32Array, start: number, size: number | undefined): Uint8Array {
  const available = Math.ceil(area.length / sectorSize);
  const wanted = size === undefined ? available : Math.ceil(size / sectorSize);
  const out = new Uint8Array(Math.min(wanted, available) * sectorSize);
  const visited = new Uint8Array(available);
  let count = 0;
  for (let id = start; id !== END_OF_CHAIN && count < wanted; id = table[id] ?? FREE_SECTOR) {
    if (id >= available) throw damaged(id === FREE_SECTOR ? 'a sector chain breaks off' : `sector ${id} lies beyond the end of the file`);
    if (visited[id]) throw damaged('a sector chain loops back on itself');
    visited[id] = 1;
    out.set(area.subarray(id * sectorSize, (id + 1) * sectorSize), count * sectorSize);
    count++;
  }
  if (size === undefined) return out.subarray(0, count * sectorSize);
  if (count * sectorSize < size) throw damaged('a stream is shorter than its declared size');
  return out.subarray(0, size);
}

function toUint32s(bytes: Uint8Array): Uint32Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out = new Uint32Array(Math.floor(bytes.length / 4));
  for (let i = 0; i < out.length; i++) out[i] = view.getUint32(i * 4, true);
  return out;
}

function parseEntry(view: DataView, version4: boolean): DirectoryEntry {
  const nameBytes = Math.min(64, view.getUint16(0x40, true));
  let name = '';
  // The stored length counts the terminating NUL.
  for (let at = 0; at < nameBytes - 2; at += 2) name += String.fromCharCode(view.getUint16(at, true));
  const sizeLow = view.getUint32(0x78, true);
  return {
    name,
    type: view.getUint8(0x42),
    left: view.getUint32(0x44, true),
    right: view.getUint32(0x48, true),
    child: view.getUint32(0x4c, true),
    start: view.getUint32(0x74, true),
    size: version4 ? sizeLow + view.getUint32(0x7c, true) * 2 ** 32 : sizeLow,
  };
}
