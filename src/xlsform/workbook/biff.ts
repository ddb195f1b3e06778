/*
 * Legacy .xls: BIFF8 (Excel 97-2003) and BIFF5 (Excel 5.0/95) records in the workbook
 * stream of an OLE2 compound file, read the way xlrd reads them for pyxform.
 *
 * Globals give sheet names and offsets (BOUNDSHEET), the shared string table (SST, which
 * spills into CONTINUE records: when a string's characters cross a record boundary, the
 * next record starts with a fresh flags byte saying whether the rest is 8- or 16-bit),
 * number formats (FORMAT) and cell formats (XF), which together decide whether a number
 * is a date (xlrd's heuristic), and the 1900/1904 date mode. Each sheet substream then
 * yields LABELSST, LABEL, RSTRING, NUMBER, RK, MULRK, BOOLERR and FORMULA cells (with a
 * string result in the STRING record that follows). BIFF5 differs only in its text: 8-bit
 * strings in the workbook's code page (CODEPAGE) and no SST. BIFF2-4 are refused.
 */
import { CompoundFile } from './cfb.js';
import { WorkbookError } from './errors.js';
import type { ReadLimits } from './limits.js';
import { SheetBuilder } from './sheet.js';
import type { Sheet } from './sheet.js';
import { DateValueError, numberText, xlsDateText } from './values.js';

const BOF = 0x0809;
const LEGACY_BOFS = new Set([0x0009, 0x0209, 0x0409]);
const EOF = 0x000a;
const CONTINUE = 0x003c;
const FILEPASS = 0x002f;
const DATEMODE = 0x0022;
const BOUNDSHEET = 0x0085;
const SST = 0x00fc;
const FORMAT = 0x041e;
const XF = 0x00e0;
const LABELSST = 0x00fd;
const LABEL = 0x0204;
const RSTRING = 0x00d6;
const NUMBER = 0x0203;
const RK = 0x027e;
const MULRK = 0x00bd;
const BOOLERR = 0x0205;
const FORMULA = 0x0006;
const STRING = 0x0207;
const FORMULA_COMPANIONS = new Set([0x04bc, 0x0221, 0x0236]); // SHRFMLA, ARRAY, TABLE
const CODEPAGE = 0x0042;
const BIFF8 = 0x0600;
const BIFF5 = 0x0500;
const SHEET_TYPE_WORKSHEET = 0;

const damaged = (detail: string, where: { sheet?: string; row?: number } = {}): WorkbookError =>
  new WorkbookError('xlsform.malformed_workbook', `The .xls file is damaged (${detail}). Re-save it from Excel or LibreOffice, preferably as .xlsx, and upload it again.`, where);

const legacy = (): WorkbookError =>
  new WorkbookError('xlsform.legacy_format', 'The .xls file was saved in an old Excel format (Excel 4.0 or earlier), which is not supported. Open it in Excel or LibreOffice and save it as .xlsx.');

interface BiffRecord {
  id: number;
  data: Uint8Array;
  /** Offset of the record header in the stream. */
  at: number;
}

class RecordCursor {
  private offset: number;

  constructor(
    private readonly stream: Uint8Array,
    start: number,
  ) {
    this.offset = start;
  }

  next(): BiffRecord | undefined {
    if (this.offset + 4 > this.stream.length) return undefined;
    const at = this.offset;
    const id = this.stream[at]! | (this.stream[at + 1]! << 8);
    const length = this.stream[at + 2]! | (this.stream[at + 3]! << 8);
    if (at + 4 + length > this.stream.length) throw damaged('a record runs past the end of the workbook stream');
    this.offset = at + 4 + length;
    return { id, data: this.stream.subarray(at + 4, at + 4 + length), at };
  }

  peekId(): number | undefined {
    if (this.offset + 2 > this.stream.length) return undefined;
    return this.stream[this.offset]! | (this.stream[this.offset + 1]! << 8);
  }

  /** The following CONTINUE records' bodies, consumed. */
  continuations(): Uint8Array[] {
    const bodies: Uint8Array[] = [];
    while (this.peekId() === CONTINUE) bodies.push((this.next() as BiffRecord).data);
    return bodies;
  }
}

/**
 * Reads across a record and its CONTINUE records as one byte sequence, except for string
 * characters, where each new record begins with a flags byte (bit 0: 16-bit characters).
 */
class SegmentReader {
  private segment = 0;
  private offset: number;

  constructor(
    private readonly segments: Uint8Array[],
    offset = 0,
  ) {
    this.offset = offset;
  }

  get atEnd(): boolean {
    return this.segment >= this.segments.length - 1 && this.offset >= this.current().length;
  }

  u8(): number {
    while (this.offset >= this.current().length) this.advance();
    return this.current()[this.offset++]!;
  }

  u16(): number {
    return this.u8() | (this.u8() << 8);
  }

  u32(): number {
    return (this.u16() | (this.u16() << 16)) >>> 0;
  }

  skip(count: number): void {
    let left = count;
    while (left > 0) {
      if (this.offset >= this.current().length) this.advance();
      const step = Math.min(left, this.current().length - this.offset);
      this.offset += step;
      left -= step;
    }
  }

  bytes(count: number): Uint8Array {
    const out = new Uint8Array(count);
    for (let i = 0; i < count; i++) out[i] = this.u8();
    return out;
  }

  /** An XLUnicodeString body: `cch` characters after a flags byte, runs and extension skipped. */
  unicodeString(charCount: number): string {
    const flags = this.u8();
    const runs = flags & 0x08 ? this.u16() : 0;
    const extension = flags & 0x04 ? this.u32() : 0;
    const text = this.characters(charCount, (flags & 0x01) !== 0);
    this.skip(runs * 4 + extension);
    return text;
  }

  private characters(count: number, wide: boolean): string {
    const parts: string[] = [];
    let left = count;
    let isWide = wide;
    for (;;) {
      const available = Math.floor((this.current().length - this.offset) / (isWide ? 2 : 1));
      const take = Math.min(left, available);
      const bytes = this.current().subarray(this.offset, this.offset + take * (isWide ? 2 : 1));
      parts.push(isWide ? utf16le.decode(bytes) : latin1(bytes));
      this.offset += bytes.length;
      left -= take;
      if (left === 0) return parts.join('');
      this.advance();
      isWide = (this.current()[this.offset++]! & 0x01) !== 0;
    }
  }

  private current(): Uint8Array {
    return this.segments[this.segment]!;
  }

  private advance(): void {
    if (this.segment + 1 >= this.segments.length) throw damaged('a string runs past the end of its record');
    this.segment++;
    this.offset = 0;
  }
}

const utf16le = new TextDecoder('utf-16le');

/** BIFF "compressed" strings are the low bytes of UTF-16: Latin-1, as xlrd decodes them. */
function latin1(bytes: Uint8Array): string {
  let out = '';
  for (let at = 0; at < bytes.length; at += 4096) out += String.fromCharCode(...bytes.subarray(at, at + 4096));
  return out;
}

function view(data: Uint8Array): DataView {
  return new DataView(data.buffer, data.byteOffset, data.byteLength);
}

function need(data: Uint8Array, length: number, what: string): void {
  if (data.length < length) throw damaged(`a ${what} record is too short`);
}

// Built-in format ids xlrd treats as dates (std_format_code_types).
const XLRD_BUILTIN_DATE_RANGES: Array<[number, number]> = [[14, 22], [27, 36], [45, 47], [50, 58], [71, 81]];

/** xlrd's is_date_format_string heuristic for a custom number format. */
export function isXlrdDateFormat(format: string): boolean {
  let reduced = '';
  let state: 'plain' | 'quoted' | 'escaped' = 'plain';
  for (const ch of format) {
    if (state === 'quoted') {
      if (ch === '"') state = 'plain';
    } else if (state === 'escaped') {
      state = 'plain';
    } else if (ch === '"') state = 'quoted';
    else if (ch === '\\' || ch === '_' || ch === '*') state = 'escaped';
    else if (!'$-+/(): '.includes(ch)) reduced += ch;
  }
  reduced = reduced.replace(/\[[^\]]*\]/g, '');
  if (['0.00E+00', '##0.0E+0', 'General', 'GENERAL', 'general', '@'].includes(reduced)) return false;
  let dateScore = 0;
  let numberScore = 0;
  for (const ch of reduced) {
    if ('ymdhsYMDHS'.includes(ch)) dateScore += 5;
    else if ('0#?'.includes(ch)) numberScore += 5;
  }
  return dateScore > numberScore;
}

// Code pages of BIFF5 text, by the WHATWG encoding names TextDecoder knows.
const CODEPAGE_ENCODINGS: Record<number, string> = {
  367: 'ascii', 866: 'ibm866', 932: 'shift_jis', 936: 'gbk', 949: 'euc-kr', 950: 'big5',
  1200: 'utf-16le', 10000: 'macintosh', 32768: 'macintosh', 32769: 'windows-1252',
};

function codepageDecoder(codepage: number): TextDecoder {
  const label = CODEPAGE_ENCODINGS[codepage] ?? (codepage >= 874 && codepage <= 1258 ? `windows-${codepage}` : 'windows-1252');
  try {
    return new TextDecoder(label);
  } catch {
    return new TextDecoder('windows-1252');
  }
}

/** Strings as the workbook's BIFF version stores them: Unicode in BIFF8, code page bytes in BIFF5. */
class BiffText {
  private decoder = codepageDecoder(1252);

  constructor(readonly biff8: boolean) {}

  setCodepage(codepage: number): void {
    this.decoder = codepageDecoder(codepage);
  }

  read(reader: SegmentReader, lengthBytes: 1 | 2): string {
    const length = lengthBytes === 1 ? reader.u8() : reader.u16();
    return this.biff8 ? reader.unicodeString(length) : this.decoder.decode(reader.bytes(length));
  }
}

interface Globals {
  text: BiffText;
  sheets: Array<{ name: string; offset: number }>;
  sst: string[];
  dateXfs: Set<number>;
  datemode: 0 | 1;
}

/** The BIFF version from the stream's first record: true for BIFF8, false for BIFF5. */
function checkBof(record: BiffRecord | undefined): boolean {
  if (!record) throw damaged('the workbook stream is empty');
  if (LEGACY_BOFS.has(record.id)) throw legacy();
  if (record.id !== BOF) throw damaged('the workbook stream does not start with a BOF record');
  need(record.data, 2, 'BOF');
  const version = view(record.data).getUint16(0, true);
  if (version !== BIFF8 && version !== BIFF5) throw legacy();
  return version === BIFF8;
}

function readSst(record: BiffRecord, cursor: RecordCursor): string[] {
  need(record.data, 8, 'SST');
  const unique = view(record.data).getUint32(4, true);
  const reader = new SegmentReader([record.data, ...cursor.continuations()], 8);
  const strings: string[] = [];
  while (strings.length < unique && !reader.atEnd) strings.push(reader.unicodeString(reader.u16()));
  return strings;
}

function readGlobals(stream: Uint8Array): Globals {
  const cursor = new RecordCursor(stream, 0);
  const text = new BiffText(checkBof(cursor.next()));
  const globals: Globals = { text, sheets: [], sst: [], dateXfs: new Set(), datemode: 0 };
  const customFormats = new Map<number, string>();
  const xfFormats: number[] = [];
  for (let record = cursor.next(); record && record.id !== EOF; record = cursor.next()) {
    const data = record.data;
    switch (record.id) {
      case FILEPASS:
        throw new WorkbookError('xlsform.encrypted', 'The workbook is password-protected. Remove the password in your spreadsheet program, save as .xlsx, and upload again.');
      case CODEPAGE:
        need(data, 2, 'CODEPAGE');
        text.setCodepage(view(data).getUint16(0, true));
        break;
      case DATEMODE:
        need(data, 2, 'DATEMODE');
        globals.datemode = view(data).getUint16(0, true) === 1 ? 1 : 0;
        break;
      case BOUNDSHEET: {
        need(data, 8, 'BOUNDSHEET');
        const name = text.read(new SegmentReader([data], 6), 1);
        if (data[5] === SHEET_TYPE_WORKSHEET) globals.sheets.push({ name, offset: view(data).getUint32(0, true) });
        break;
      }
      case SST:
        globals.sst = readSst(record, cursor);
        break;
      case FORMAT: {
        need(data, 3, 'FORMAT');
        customFormats.set(view(data).getUint16(0, true), text.read(new SegmentReader([data], 2), text.biff8 ? 2 : 1));
        break;
      }
      case XF:
        need(data, 4, 'XF');
        xfFormats.push(view(data).getUint16(2, true));
        break;
    }
  }
  xfFormats.forEach((formatId, xf) => {
    const custom = customFormats.get(formatId);
    const isDate = custom !== undefined
      ? isXlrdDateFormat(custom)
      : XLRD_BUILTIN_DATE_RANGES.some(([low, high]) => formatId >= low && formatId <= high);
    if (isDate) globals.dateXfs.add(xf);
  });
  return globals;
}

/** An RK value: a 30-bit integer or the top 30 bits of a double, optionally divided by 100. */
function rkNumber(rk: number): number {
  let value: number;
  if (rk & 0x02) value = rk >> 2;
  else {
    const bits = new DataView(new ArrayBuffer(8));
    bits.setUint32(4, rk & 0xfffffffc, true);
    value = bits.getFloat64(0, true);
  }
  return rk & 0x01 ? value / 100 : value;
}

class SheetReader {
  private readonly builder: SheetBuilder;

  constructor(
    private readonly name: string,
    private readonly globals: Globals,
    limits: ReadLimits,
  ) {
    this.builder = new SheetBuilder(name, limits);
  }

  read(stream: Uint8Array, offset: number): Sheet {
    const cursor = new RecordCursor(stream, offset);
    const bof = cursor.next();
    if (!bof || bof.id !== BOF) throw damaged(`sheet "${this.name}" does not start where the workbook says`, { sheet: this.name });
    let nested = 0;
    for (let record = cursor.next(); record; record = cursor.next()) {
      if (record.id === BOF) nested++;
      else if (record.id === EOF) {
        if (nested === 0) return this.builder.finish();
        nested--;
      } else if (nested === 0) this.cell(record, cursor);
    }
    throw damaged(`sheet "${this.name}" has no end`, { sheet: this.name });
  }

  private cell(record: BiffRecord, cursor: RecordCursor): void {
    const data = record.data;
    if (![LABELSST, LABEL, RSTRING, NUMBER, RK, MULRK, BOOLERR, FORMULA].includes(record.id)) return;
    need(data, 6, 'cell');
    const bytes = view(data);
    const row = bytes.getUint16(0, true);
    const col = bytes.getUint16(2, true);
    const xf = bytes.getUint16(4, true);
    switch (record.id) {
      case LABELSST: {
        need(data, 10, 'LABELSST');
        const text = this.globals.sst[bytes.getUint32(6, true)];
        if (text === undefined) throw damaged('a cell refers to a missing shared string', { sheet: this.name, row: row + 1 });
        this.builder.set(row, col, text);
        break;
      }
      case LABEL:
      case RSTRING: {
        need(data, 8, 'LABEL');
        this.builder.set(row, col, this.globals.text.read(new SegmentReader([data], 6), 2));
        break;
      }
      case NUMBER:
        need(data, 14, 'NUMBER');
        this.number(row, col, xf, bytes.getFloat64(6, true));
        break;
      case RK:
        need(data, 10, 'RK');
        this.number(row, col, xf, rkNumber(bytes.getUint32(6, true)));
        break;
      case MULRK:
        for (let at = 4, c = col; at + 6 <= data.length - 2; at += 6, c++) {
          this.number(row, c, bytes.getUint16(at, true), rkNumber(bytes.getUint32(at + 2, true)));
        }
        break;
      case BOOLERR:
        need(data, 8, 'BOOLERR');
        // xlrd gives an error cell its numeric code, which pyxform prints as is (#N/A → "42").
        this.builder.set(row, col, data[7] ? String(data[6]) : data[6] ? 'TRUE' : 'FALSE');
        break;
      case FORMULA:
        need(data, 14, 'FORMULA');
        this.formula(row, col, xf, data, cursor);
        break;
    }
  }

  private formula(row: number, col: number, xf: number, data: Uint8Array, cursor: RecordCursor): void {
    if (data[12] !== 0xff || data[13] !== 0xff) {
      this.number(row, col, xf, view(data).getFloat64(6, true));
      return;
    }
    switch (data[6]) {
      case 0:
        this.builder.set(row, col, this.formulaString(cursor, row));
        break;
      case 1:
        this.builder.set(row, col, data[8] ? 'TRUE' : 'FALSE');
        break;
      case 2:
        this.builder.set(row, col, String(data[8]));
        break;
      case 3:
        break;
      default:
        throw damaged('a formula has an unknown kind of result', { sheet: this.name, row: row + 1 });
    }
  }

  private formulaString(cursor: RecordCursor, row: number): string {
    let record = cursor.next();
    while (record && FORMULA_COMPANIONS.has(record.id)) record = cursor.next();
    if (!record || record.id !== STRING) throw damaged('a formula\'s text result is missing', { sheet: this.name, row: row + 1 });
    need(record.data, 2, 'STRING');
    return this.globals.text.read(new SegmentReader([record.data, ...cursor.continuations()]), 2);
  }

  private number(row: number, col: number, xf: number, value: number): void {
    if (!this.globals.dateXfs.has(xf)) {
      this.builder.set(row, col, numberText(value));
      return;
    }
    try {
      this.builder.set(row, col, xlsDateText(value, this.globals.datemode));
    } catch (err) {
      if (!(err instanceof DateValueError)) throw err;
      throw new WorkbookError(
        'xlsform.invalid_date',
        `The xls file provided has an invalid date on the ${this.name} sheet, row ${row + 1}: ${err.message}. Type the value as text (start it with ') or fix the date.`,
        { sheet: this.name, row: row + 1 },
      );
    }
  }
}

/** The workbook stream of an OLE2 file ("Workbook", or "Book" before Excel 97), or the reason there is none. */
function workbookStream(bytes: Uint8Array, limits: ReadLimits): Uint8Array {
  const file = new CompoundFile(bytes, limits);
  const stream = file.readRootStream('Workbook') ?? file.readRootStream('Book');
  if (stream) return stream;
  if (file.readRootStream('EncryptedPackage')) {
    throw new WorkbookError('xlsform.encrypted', 'The workbook is password-protected. Remove the password in your spreadsheet program, save, and upload again.');
  }
  throw new WorkbookError('xlsform.not_a_workbook', 'The file is an Office document but not an Excel workbook. Upload an .xlsx or .xls XLSForm.');
}

export function readXls(bytes: Uint8Array, limits: ReadLimits): Sheet[] {
  const stream = workbookStream(bytes, limits);
  const globals = readGlobals(stream);
  return globals.sheets.map(({ name, offset }) => new SheetReader(name, globals, limits).read(stream, offset));
}
