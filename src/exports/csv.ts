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
const FORMULA_START = /^[=+\-@\t\r]/;
const ONLY_NUMBERS = /^[-+0-9.eE ;]+$/;

export function csvField(cell: Cell): string {
  if (cell === null) return '';
  const text = typeof cell === 'number' ? String(cell) : FORMULA_START.test(cell) && !ONLY_NUMBERS.test(cell) ? `'${cell}` : cell;
  return NEEDS_QUOTES.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function csvLine(cells: readonly Cell[]): string {
  let line = '';
  for (let i = 0; i < cells.length; i += 1) line += (i === 0 ? '' : ',') + csvField(cells[i]!);
  return `${line}\r\n`;
}
