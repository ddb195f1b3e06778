/*
 * CSV of a form's submissions decrypted in the browser (the table in table.ts): one line per
 * submission, produced as the submissions are decrypted, so a Web Worker can stream 100,000 of
 * them without holding more than one at a time (export-worker.ts).
 */
import { csvField } from '../../exports/csv.js';
import type { FormSchema } from '../../xform/index.js';
import { decryptedRows } from './table.js';
import type { DecryptedRecord } from './vault.js';

export async function* csvLines(records: AsyncIterable<DecryptedRecord>, schema: FormSchema): AsyncGenerator<string> {
  // The server's CSV rules (exports/csv.ts): the same quoting and the same marking of formula-like text.
  for await (const row of decryptedRows(records, schema)) yield `${row.map(csvField).join(',')}\r\n`;
}
