/*
 * .xlsx / .xlsm: the parts of an OOXML workbook read the way openpyxl reads them in
 * pyxform (read-only, cached formula values), so cells come out as pyxform sees them:
 * - sheet order from workbook.xml; cell types n/s/b/str/e/inlineStr/d;
 * - shared strings joined from their runs (phonetic runs dropped), with openpyxl's
 *   removal of "x005F_";
 * - a number is a date when its cell style's number format looks like one
 *   (openpyxl's is_date_format); `[h]:mm`-style formats are durations;
 * - read-only openpyxl trusts the sheet's <dimension>: rows and columns beyond it are
 *   not seen, and rows that go backwards are skipped. The same is done here.
 */
import { WorkbookError } from './errors.js';
import type { ReadLimits } from './limits.js';
import { SheetBuilder } from './sheet.js';
import type { Sheet } from './sheet.js';
import { parseXml } from './xml.js';
import type { XmlAttributes, XmlHandler } from './xml.js';
import { openSafeZip } from './zip.js';
import type { SafeZip } from './zip.js';
import { isoDateText, numberText, openpyxlDateText, openpyxlDurationText } from './values.js';

const REL_OFFICE_DOCUMENT = /\/officeDocument$/;
const REL_WORKSHEET = /\/worksheet$/;
const REL_SHARED_STRINGS = /\/sharedStrings$/;
const REL_STYLES = /\/styles$/;

const malformed = (detail: string, where: { sheet?: string; row?: number } = {}): WorkbookError =>
  new WorkbookError('xlsform.malformed_workbook', `The .xlsx workbook is damaged: ${detail}. Re-save it from Excel or LibreOffice and upload it again.`, where);

function parsePart(zip: SafeZip, part: string, handler: XmlHandler): void {
  parseXml(part, zip.read(part), handler);
}

interface Relationship {
  type: string;
  target: string;
}

/** Resolve a relationship target against the part that declares it. */
function resolveTarget(sourcePart: string, target: string): string {
  const segments = target.startsWith('/') ? [] : sourcePart.split('/').slice(0, -1);
  for (const segment of target.split('/')) {
    if (segment === '..') segments.pop();
    else if (segment !== '.' && segment !== '') segments.push(segment);
  }
  return segments.join('/');
}

function relsPartOf(part: string): string {
  const slash = part.lastIndexOf('/');
  return `${part.slice(0, slash + 1)}_rels/${part.slice(slash + 1)}.rels`;
}

function readRelationships(zip: SafeZip, part: string): Map<string, Relationship> {
  const rels = new Map<string, Relationship>();
  const relsPart = relsPartOf(part);
  if (!zip.has(relsPart)) return rels;
  parsePart(zip, relsPart, {
    open(name, attrs) {
      if (name !== 'Relationship' || attrs.get('TargetMode') === 'External') return;
      const [id, type, target] = [attrs.get('Id'), attrs.get('Type'), attrs.get('Target')];
      if (id !== undefined && type !== undefined && target !== undefined) rels.set(id, { type, target: resolveTarget(part, target) });
    },
  });
  return rels;
}

function findWorkbookPart(zip: SafeZip): string {
  const packageRels = readRelationships(zip, '');
  for (const rel of packageRels.values()) if (REL_OFFICE_DOCUMENT.test(rel.type)) return rel.target;
  return 'xl/workbook.xml';
}

interface SheetRef {
  name: string;
  relId: string;
}

function readWorkbookPart(zip: SafeZip, part: string, limits: ReadLimits): { sheets: SheetRef[]; date1904: boolean } {
  const sheets: SheetRef[] = [];
  let date1904 = false;
  parsePart(zip, part, {
    open(name, attrs) {
      if (name === 'workbookPr') {
        const flag = attrs.get('date1904');
        date1904 = flag === '1' || flag === 'true';
      }
      if (name !== 'sheet') return;
      // The relationship id is namespaced; its prefix is whatever the file chose (usually r:).
      const relKey = attrs.names().find((key) => key.endsWith(':id'));
      const relId = relKey === undefined ? undefined : attrs.get(relKey);
      const sheetName = attrs.get('name');
      if (sheetName !== undefined && relId !== undefined) sheets.push({ name: sheetName, relId });
      // Every worksheet is a part of its own, so a list longer than the archive may hold is a lie.
      if (sheets.length > limits.maxEntries) throw malformed(`the workbook lists more than ${limits.maxEntries} sheets`);
    },
  });
  return { sheets, date1904 };
}

// openpyxl's built-in number formats 0-49 that look like dates (is_date_format); ids it
// does not know (e.g. the CJK date ids 27-36) are plain numbers to it.
const BUILTIN_DATE_FORMATS = new Set([14, 15, 16, 17, 18, 19, 20, 21, 22, 45, 46, 47]);
const BUILTIN_DURATION_FORMATS = new Set([46]);

/** openpyxl's is_date_format: quoted literals and [locale] blocks removed, then any of dmhys. */
export function isDateFormat(format: string): boolean {
  const firstSection = format.split(';')[0] ?? '';
  const stripped = firstSection.replace(/".*?"|\[(?!hh?\]|mm?\]|ss?\])[^\]]*\]/g, '');
  return /[^\\][dmhysDMHYS]/.test(stripped);
}

/** openpyxl's is_timedelta_format. */
export function isDurationFormat(format: string): boolean {
  return /\[hh?\](:mm(:ss(\.0*)?)?)?|\[mm?\](:ss(\.0*)?)?|\[ss?\](\.0*)?/i.test(format.split(';')[0] ?? '');
}

interface CellStyles {
  dates: Set<number>;
  durations: Set<number>;
}

function readStyles(zip: SafeZip, part: string | undefined): CellStyles {
  const styles: CellStyles = { dates: new Set(), durations: new Set() };
  if (part === undefined || !zip.has(part)) return styles;
  const customFormats = new Map<number, string>();
  const xfFormats: number[] = [];
  let inCellXfs = false;
  parsePart(zip, part, {
    open(name, attrs) {
      if (name === 'numFmt') customFormats.set(Number(attrs.get('numFmtId')), attrs.get('formatCode') ?? '');
      else if (name === 'cellXfs') inCellXfs = true;
      else if (name === 'xf' && inCellXfs) xfFormats.push(Number(attrs.get('numFmtId') ?? 0));
    },
    close(name) {
      if (name === 'cellXfs') inCellXfs = false;
    },
  });
  xfFormats.forEach((formatId, styleIndex) => {
    const custom = customFormats.get(formatId);
    const isDate = custom !== undefined ? isDateFormat(custom) : BUILTIN_DATE_FORMATS.has(formatId);
    const isDuration = custom !== undefined ? isDurationFormat(custom) : BUILTIN_DURATION_FORMATS.has(formatId);
    if (isDate) styles.dates.add(styleIndex);
    if (isDuration) styles.durations.add(styleIndex);
  });
  return styles;
}

/**
 * Collects the text of `<t>` elements that belong to a string item (`<si>` or `<is>`),
 * directly or inside a run (`<r>`), skipping phonetic runs (`<rPh>`), as openpyxl does.
 */
class RichTextCollector {
  private parts: string[] = [];
  private length = 0;
  private path: string[] = [];

  constructor(private readonly maxChars: number, private readonly onTooLong: () => never) {}

  open(name: string): void {
    this.path.push(name);
  }

  close(): void {
    this.path.pop();
  }

  get capturing(): boolean {
    const depth = this.path.length;
    if (this.path[depth - 1] !== 't') return false;
    return depth === 2 || (depth === 3 && this.path[1] === 'r');
  }

  text(text: string): void {
    if (!this.capturing) return;
    this.length += text.length;
    if (this.length > this.maxChars) this.onTooLong();
    this.parts.push(text);
  }

  take(): string {
    const value = this.parts.join('');
    this.parts = [];
    this.length = 0;
    this.path = [];
    return value;
  }
}

function readSharedStrings(zip: SafeZip, part: string | undefined, limits: ReadLimits): string[] {
  const strings: string[] = [];
  if (part === undefined || !zip.has(part)) return strings;
  const collector = new RichTextCollector(limits.maxCellChars, () => {
    throw new WorkbookError('xlsform.too_large', `The workbook is too large to convert: a shared string holds more than ${limits.maxCellChars} characters.`);
  });
  let inItem = false;
  parsePart(zip, part, {
    open(name) {
      if (name === 'si') inItem = true;
      if (inItem) collector.open(name);
    },
    close(name) {
      if (!inItem) return;
      collector.close();
      if (name === 'si') {
        inItem = false;
        strings.push(collector.take().replaceAll('x005F_', ''));
      }
    },
    text(text) {
      if (inItem) collector.text(text);
    },
  });
  return strings;
}

/** A cell reference split into 1-based column and row ("AB12" → 28, 12; "$A$1" allowed). */
function splitReference(reference: string): { column: number; row: number } | undefined {
  let at = reference.charCodeAt(0) === 36 /* $ */ ? 1 : 0;
  let column = 0;
  let letters = 0;
  for (; at < reference.length; at++, letters++) {
    const code = reference.charCodeAt(at) | 0x20; // lower-case
    if (code < 97 || code > 122) break;
    column = column * 26 + (code - 96);
  }
  if (letters === 0 || letters > 3) return undefined;
  if (reference.charCodeAt(at) === 36) at++;
  const digits = at;
  for (; at < reference.length; at++) {
    const code = reference.charCodeAt(at);
    if (code < 48 || code > 57) return undefined;
  }
  return at === digits ? undefined : { column, row: Number(reference.slice(digits)) };
}

/** The sheet's declared extent (1-based bounds), as openpyxl's read-only mode trusts it. */
function parseDimension(ref: string): { maxRow: number; maxCol: number } | undefined {
  const last = splitReference(ref.split(':').pop() ?? '');
  return last && { maxRow: last.row, maxCol: last.column };
}

interface CellContext {
  sharedStrings: string[];
  styles: CellStyles;
  date1904: boolean;
  sheet: string;
  row: number;
}

/** openpyxl's `_cast_number`: text with ".", "e" or "E" is a float, else a (big) integer. */
function numberCellText(raw: string, style: number, ctx: CellContext): string {
  const text = raw.trim();
  const isFloat = /[.eE]/.test(text);
  if (!isFloat && !/^[+-]?\d+$/.test(text)) throw malformed(`the number cell value "${raw}" is not a number`, { sheet: ctx.sheet, row: ctx.row });
  const value = isFloat ? Number(text) : Number(BigInt(text));
  if (Number.isNaN(value)) throw malformed(`the number cell value "${raw}" is not a number`, { sheet: ctx.sheet, row: ctx.row });
  if (ctx.styles.dates.has(style)) {
    return ctx.styles.durations.has(style) ? openpyxlDurationText(value) : openpyxlDateText(value, ctx.date1904);
  }
  return isFloat ? numberText(value) : BigInt(text).toString();
}

function cellText(type: string, value: string | undefined, inline: string | undefined, style: number, ctx: CellContext): string | undefined {
  if (type === 'inlineStr') return inline;
  if (value === undefined || value === '') return undefined;
  switch (type) {
    case 'n':
      return numberCellText(value, style, ctx);
    case 's': {
      const text = /^\s*\d+\s*$/.test(value) ? ctx.sharedStrings[Number(value)] : undefined;
      if (text === undefined) throw malformed(`a cell refers to shared string ${value}, which does not exist`, { sheet: ctx.sheet, row: ctx.row });
      return text;
    }
    case 'b':
      return /^\s*[+-]?0+\s*$/.test(value) ? 'FALSE' : 'TRUE';
    case 'd':
      return isoDateText(value);
    default:
      return value;
  }
}

interface PendingCell {
  column: number;
  text: string;
}

function readSheet(zip: SafeZip, part: string, name: string, base: Omit<CellContext, 'sheet' | 'row'>, limits: ReadLimits): Sheet {
  const builder = new SheetBuilder(name, limits);
  const ctx: CellContext = { ...base, sheet: name, row: 0 };
  let dimension: { maxRow: number; maxCol: number } | undefined;
  let rowNumber = 0;
  let lastRowKept = 0;
  let keepRow = false;
  let pastEnd = false;
  let rowCells: PendingCell[] = [];
  let lastColumn = 0;
  let column = 0;
  let type = 'n';
  let style = 0;
  let value: string | undefined;
  let valueParts: string[] | undefined;
  let valueLength = 0;
  let inline: RichTextCollector | undefined;
  let inlineText: string | undefined;
  const tooLong = (): never => {
    throw builder.cellTooLong(rowNumber - 1);
  };

  const openCell = (attrs: XmlAttributes): void => {
    const ref = attrs.get('r');
    const refColumn = ref === undefined ? undefined : splitReference(ref)?.column;
    if (ref !== undefined && refColumn === undefined) throw malformed(`the cell reference "${ref}" is invalid`, { sheet: name, row: rowNumber });
    column = refColumn ?? lastColumn + 1;
    lastColumn = column;
    type = attrs.get('t') ?? 'n';
    const styleIndex = attrs.get('s');
    style = styleIndex ? Number(styleIndex) : 0;
    value = undefined;
    inlineText = undefined;
  };

  const closeRow = (): void => {
    if (!keepRow) return;
    // Without a <dimension>, openpyxl sizes each row by its last cell.
    const width = dimension?.maxCol ?? rowCells.at(-1)?.column ?? 0;
    for (const cell of rowCells) if (cell.column <= width) builder.set(rowNumber - 1, cell.column - 1, cell.text);
  };

  parsePart(zip, part, {
    open(tag, attrs) {
      if (pastEnd) return;
      if (inline) {
        inline.open(tag);
        return;
      }
      switch (tag) {
        case 'dimension': {
          const ref = attrs.get('ref');
          dimension = ref === undefined ? undefined : parseDimension(ref);
          break;
        }
        case 'row': {
          const rowAttribute = attrs.get('r');
          const declared = rowAttribute === undefined ? undefined : Number(rowAttribute);
          if (declared !== undefined && !Number.isInteger(declared)) throw malformed(`the row number "${rowAttribute}" is invalid`, { sheet: name });
          rowNumber = declared ?? rowNumber + 1;
          ctx.row = rowNumber;
          if (dimension && rowNumber > dimension.maxRow) {
            pastEnd = true;
            return;
          }
          keepRow = rowNumber > lastRowKept;
          if (keepRow) lastRowKept = rowNumber;
          rowCells = [];
          lastColumn = 0;
          break;
        }
        case 'c':
          openCell(attrs);
          break;
        case 'v':
          if (value === undefined && valueParts === undefined) {
            valueParts = [];
            valueLength = 0;
          }
          break;
        case 'is':
          inline = new RichTextCollector(limits.maxCellChars, tooLong);
          inline.open(tag);
          break;
      }
    },
    close(tag) {
      if (pastEnd) return;
      if (inline) {
        inline.close();
        if (tag === 'is') {
          inlineText = inline.take();
          inline = undefined;
        }
        return;
      }
      if (tag === 'v' && valueParts) {
        value = valueParts.join('');
        valueParts = undefined;
      } else if (tag === 'c') {
        const text = cellText(type, value, inlineText, style, ctx);
        if (text !== undefined) rowCells.push({ column, text });
      } else if (tag === 'row') {
        closeRow();
      }
    },
    text(text) {
      if (pastEnd) return;
      if (inline) inline.text(text);
      else if (valueParts) {
        valueLength += text.length;
        if (valueLength > limits.maxCellChars) tooLong();
        valueParts.push(text);
      }
    },
  });
  return builder.finish();
}

export function readXlsx(bytes: Buffer, limits: ReadLimits): Sheet[] {
  const zip = openSafeZip(bytes, limits);
  const workbookPart = findWorkbookPart(zip);
  if (!zip.has(workbookPart)) {
    throw new WorkbookError('xlsform.not_a_workbook', 'The file is a zip archive but not an Excel workbook (no workbook part). Upload an .xlsx or .xls XLSForm.');
  }
  const { sheets: refs, date1904 } = readWorkbookPart(zip, workbookPart, limits);
  const rels = readRelationships(zip, workbookPart);
  const relOfType = (pattern: RegExp): string | undefined => [...rels.values()].find((rel) => pattern.test(rel.type))?.target;
  const sharedStrings = readSharedStrings(zip, relOfType(REL_SHARED_STRINGS), limits);
  const styles = readStyles(zip, relOfType(REL_STYLES));
  const sheets: Sheet[] = [];
  for (const ref of refs) {
    const rel = rels.get(ref.relId);
    // Chart sheets and dialog sheets hold no cells.
    if (!rel || !REL_WORKSHEET.test(rel.type)) continue;
    sheets.push(readSheet(zip, rel.target, ref.name, { sharedStrings, styles, date1904 }, limits));
  }
  return sheets;
}
