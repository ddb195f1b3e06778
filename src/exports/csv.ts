/*
 * CSV as RFC 4180 writes it: comma-separated, CRLF line ends, fields quoted only when they hold a
 * quote, comma or line break. Files start with a UTF-8 byte order mark, which Excel needs to read
 * UTF-8 (Power BI, R and pandas ignore it).
 *
 * Text that a spreadsheet would run as a formula (CSV injection: `=`, `+`, `-`, `@`, a tab or a
 * carriage return first) gets a leading apostrophe, the mark spreadsheets read as "this is text".
 * Text made only of numbers (`-5`, a southern geopoint `-1.5 36.8 0 0`, a geotrace of them) is left
 * as it is: it can call nothing, and R or pandas users would otherwise find an apostrophe in every
 * southern coordinate. XLSX needs no such mark: its text cells are typed as text and never evaluated.
 */
import type { Cell } from './layout.js';

export const CSV_BOM = '\uFEFF';

const NEEDS_QUOTES = /[",\r\n]/;
// Signed numbers separated by spaces or semicolons (a geopoint, a geotrace); `-2+3` is not one of
// them: a spreadsheet would compute it.
const ONLY_NUMBERS = /^[-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?(?:[ ;]+[-+]?[0-9.]+(?:[eE][-+]?[0-9]+)?)*$/;

/** Whether text starting with this character code would run as a formula: `=`, `+`, `-`, `@`, a tab or a carriage return. */
function formulaStart(code: number): boolean {
  return code === 61 || code === 43 || code === 45 || code === 64 || code === 9 || code === 13;
}

export function csvField(cell: Cell): string {
  if (cell === null) return '';
  // A number's text has no quote, comma or line break.
  if (typeof cell === 'number') return String(cell);
  const text = formulaStart(cell.charCodeAt(0)) && !ONLY_NUMBERS.test(cell) ? `'${cell}` : cell;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** A record's fields, comma-separated, without the line end: each made once and joined once, not added to a growing string. */
export function csvRecord(cells: readonly Cell[]): string {
  const fields = new Array<string>(cells.length);
  for (let i = 0; i < cells.length; i += 1) fields[i] = csvField(cells[i]!);
  return fields.join(',');
}

export function csvLine(cells: readonly Cell[]): string {
  return `${csvRecord(cells)}\r\n`;
}

/**
 * Records as CSV lines, each ended by CRLF: one string made at once (adding the last line end
 * afterwards would copy it all again). Takes the array over: it ends with an empty record.
 */
export function csvLines(records: string[]): string {
  if (records.length === 0) return '';
  records.push('');
  return records.join('\r\n');
}
