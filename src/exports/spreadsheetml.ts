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
const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;' };

/** Text as XML character data: what XML cannot carry dropped, markup escaped. */
function xmlText(text: string): string {
  return text.replace(NOT_XML, '').replace(MARKUP, (c) => ESCAPES[c]!);
}

/** Text as a double-quoted XML attribute value (a sheet's name in the workbook part). */
export function xmlAttribute(text: string): string {
  return xmlText(text).replace(/"/g, '&quot;');
}

function inlineText(text: string): string {
  const clean = xmlText(text);
  const space = /^\s|\s$|\n/.test(clean) ? ' xml:space="preserve"' : '';
  return `<is><t${space}>${clean}</t></is>`;
}

/** One row as SpreadsheetML; empty cells are left out. */
export function rowXml(rowNumber: number, cells: readonly SheetCell[], columns: readonly string[]): string {
  let xml = `<row r="${rowNumber}">`;
  for (let i = 0; i < cells.length; i += 1) {
    const cell = cells[i]!;
    if (cell === null || cell === '') continue;
    const ref = `${columns[i]}${rowNumber}`;
    xml += typeof cell === 'number' && Number.isFinite(cell) ? `<c r="${ref}"><v>${cell}</v></c>` : `<c r="${ref}" t="inlineStr">${inlineText(String(cell))}</c>`;
  }
  return `${xml}</row>`;
}
