/*
 * CSV of a form's submissions, decrypted in the browser: one line per submission, produced as the
 * submissions are decrypted, so a Web Worker can stream 100,000 of them without holding more than
 * one at a time (export-worker.ts). Columns: the instanceID, the submission time, the signature
 * verdict, then each question outside repeats (paths as in the data API); each repeat is one
 * column holding its items as JSON.
 */
import { parseSubmission, type FormSchema, type SubmissionValue } from '../../xform/index.js';
import type { DecryptedRecord } from './vault.js';

export interface CsvColumns {
  questions: string[];
  repeats: string[];
}

export function csvColumns(schema: FormSchema): CsvColumns {
  const relative = (path: string) => path.slice(`/${schema.rootName}/`.length);
  return {
    questions: schema.fields.filter((f) => f.kind === 'question' && f.repeat === null).map((f) => relative(f.path)),
    repeats: schema.fields.filter((f) => f.kind === 'repeat' && f.parent === null).map((f) => relative(f.path)),
  };
}

export async function* csvLines(records: AsyncIterable<DecryptedRecord>, schema: FormSchema): AsyncGenerator<string> {
  const columns = csvColumns(schema);
  yield line(['instanceID', '_submission_time', '_signature', ...columns.questions, ...columns.repeats]);
  for await (const record of records) {
    const answers: Record<string, unknown> = record.encrypted ? parseSubmission(record.submissionXml, schema).fields : record.summary;
    const signature = record.encrypted ? record.signature : 'not encrypted';
    yield line([record.instanceId, record.summary._submission_time, signature, ...columns.questions.map((path) => answers[path]), ...columns.repeats.map((path) => answers[path])]);
  }
}

function line(values: readonly unknown[]): string {
  return `${values.map(cell).join(',')}\r\n`;
}

/** RFC 4180 quoting; text a spreadsheet would run as a formula is prefixed with ' (OWASP CSV injection). */
function cell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text = typeof value === 'string' ? value : JSON.stringify(value as SubmissionValue);
  if (/^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}
