/*
 * SpreadsheetML pieces every XLSX Fieldkeep writes shares: the server's exports (xlsx.ts, inside
 * exceljs' workbook) and the browser's decrypted exports (src/crypto/browser/xlsx-export.ts, in
 * a Web Worker). Numbers are number cells and everything else inline text, so nothing is kept
 * per row. Pure: no IO, no Node APIs.
 */

/** A cell's value: a number cell, inline text, or nothing (left out of the row). */
export type SheetCell = string | number | null;

/** Column letters: A … Z, AA … */
export function columnName(index: number): string {
  let name = '';
  for (let n = index + 1; n > 0; n = Math.floor((n - 1) / 26)) name = String.fromCharCode(65 + ((n - 1) % 26)) + name;
  return name;
}

/** Excel's rules for sheet names: at most 31 characters, none of []:*?/\ and no quote at either end. */
export function sheetName(name: string): string {
  const clean = name.replace(/[[\]:*?/\\]/g, '_').replace(/^'+|'+$/g, '').slice(0, 31);
  return clean === '' ? 'data' : clean;
}

/** Characters XML 1.0 cannot carry at all are dropped; markup characters are escaped. */
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const MARKUP = /[&<>]/g;
/** Either of the above: most text has neither, and is then used as it is. */
const NOT_PLAIN = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF&<>]/;
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };
const NEEDS_PRESERVE = /^\s|\s$|\n/;

/** Text as XML character data: what XML cannot carry dropped, markup escaped. */
function xmlText(text: string): string {
  return NOT_PLAIN.test(text) ? text.replace(NOT_XML, '').replace(MARKUP, (c) => ESCAPES[c]!) : text;
}

/** Text as a double-quoted XML attribute value (a sheet's name in the workbook part). */
export function xmlAttribute(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;');
}

function inlineText(text: string): string {
  const clean = xmlText(text);
  return NEEDS_PRESERVE.test(clean) ? `<is><t xml:space="preserve">${clean}</t></is>` : `<is><t>${clean}</t></is>`;
}

/** One row as SpreadsheetML; empty cells are left out. */
export function rowXml(rowNumber: number, cells: readonly SheetCell[], columns: readonly string[]): string {
  let xml = `<row r="${rowNumber}">`;
  for (let i = 0; i < cells.length; i += 1) {
    const cell = cells[i]!;
    if (cell === null || cell === '') continue;
    xml +=
      typeof cell === 'number' && Number.isFinite(cell)
        ? `<c r="${columns[i]}${rowNumber}"><v>${cell}</v></c>`
        : `<c r="${columns[i]}${rowNumber}" t="inlineStr">${inlineText(String(cell))}</c>`;
  }
  return `${xml}</row>`;
}
