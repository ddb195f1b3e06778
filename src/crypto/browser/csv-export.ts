/*
 * CSV of a form's submissions decrypted in the browser (the table in table.ts): one line per
 * submission, produced as the submissions are decrypted, so a Web Worker can stream 100,000 of
 * them without holding more than one at a time (export-worker.ts).
 */
import type { FormSchema } from '../../xform/index.js';
import { decryptedRows, type TableCell } from './table.js';
import type { DecryptedRecord } from './vault.js';

export async function* csvLines(records: AsyncIterable<DecryptedRecord>, schema: FormSchema): AsyncGenerator<string> {
  for await (const row of decryptedRows(records, schema)) yield `${row.map(cell).join(',')}\r\n`;
}

/** RFC 4180 quoting; text a spreadsheet would run as a formula is prefixed with ' (OWASP CSV injection). */
function cell(value: TableCell): string {
  if (value === null) return '';
  let text = String(value);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
