/*
 * Safe workbook reader for the XLSForm converter: bytes in, sheets of text cells out.
 *
 * The container is recognised by its content, not its name: a zip is read as OOXML
 * (.xlsx/.xlsm) after the zip safety checks in zip.ts, an OLE2 compound file as BIFF8
 * (.xls). Every cell comes out as the string pyxform 4.5.0 works with after its own
 * cleaning, so the converter can treat both formats alike:
 * - values are stripped of surrounding white space (Python's definition) and have
 *   no-break spaces turned into spaces; header cells (row 0) are stripped and have runs of
 *   spaces collapsed, as pyxform does to column names;
 * - numbers print as pyxform prints them (integers without ".0", other floats as Python's
 *   repr), booleans as TRUE/FALSE, dates as "YYYY-MM-DD HH:MM:SS" or "HH:MM:SS";
 * - formulas give their cached result.
 * Left to the converter: pyxform's stop after 20 empty header columns or 60 empty rows,
 * which sheets matter, and lower-casing sheet names.
 */
import { WorkbookError } from './errors.js';
import { readXls } from './biff.js';
import { CFB_SIGNATURE } from './cfb.js';
import { defaultReadLimits } from './limits.js';
import type { ReadLimits } from './limits.js';
import type { Sheet } from './sheet.js';
import { readXlsx } from './xlsx.js';

export { WorkbookError } from './errors.js';
export type { WorkbookErrorCode } from './errors.js';
export { defaultReadLimits } from './limits.js';
export type { ReadLimits } from './limits.js';
export type { Sheet } from './sheet.js';

export interface Workbook {
  /** Worksheets in workbook order (chart sheets are left out). */
  sheets: Sheet[];
}

const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04] as const;

const startsWith = (bytes: Uint8Array, signature: readonly number[]): boolean =>
  signature.every((byte, i) => bytes[i] === byte);

function notAWorkbook(fileName: string): WorkbookError {
  const extension = /\.[^./\\]+$/.exec(fileName)?.[0].toLowerCase() ?? '';
  const hint = ['.xlsx', '.xlsm', '.xls'].includes(extension)
    ? `its name ends in ${extension} but its content is not an Excel workbook`
    : 'only Excel workbooks (.xlsx, .xlsm or .xls) can be read';
  return new WorkbookError('xlsform.not_a_workbook', `"${fileName}" cannot be read as an XLSForm: ${hint}. Save the form from Excel or LibreOffice as .xlsx and upload that file.`);
}

/** Read an XLSForm workbook. Throws WorkbookError for anything unreadable or unsafe. */
export async function readWorkbook(bytes: Uint8Array, fileName: string, limits: Partial<ReadLimits> = {}): Promise<Workbook> {
  const caps: ReadLimits = { ...defaultReadLimits, ...limits };
  if (bytes.length === 0) throw new WorkbookError('xlsform.empty_file', `"${fileName}" is empty (0 bytes). Upload the saved XLSForm file.`);
  if (bytes.length > caps.maxBytes) {
    throw new WorkbookError('xlsform.too_large', `"${fileName}" is ${bytes.length} bytes, more than the ${caps.maxBytes}-byte limit for a form. Remove unused sheets and media from the workbook.`);
  }
  let sheets: Sheet[];
  if (startsWith(bytes, ZIP_SIGNATURE)) sheets = readXlsx(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), caps);
  else if (startsWith(bytes, CFB_SIGNATURE)) sheets = readXls(bytes, caps);
  else throw notAWorkbook(fileName);
  if (sheets.every((sheet) => sheet.rows.length === 0)) {
    throw new WorkbookError('xlsform.empty_workbook', `"${fileName}" has no cells with values. An XLSForm needs at least a "survey" sheet with a header row.`);
  }
  return { sheets };
}
