/*
 * The table of a form's submissions decrypted in the browser, whatever file it becomes (CSV in
 * csv-export.ts, XLSX in xlsx-export.ts): one row per submission, made as the submissions are
 * decrypted, so a Web Worker can stream 100,000 of them holding one at a time. Columns: the
 * instanceID, the submission time, the signature verdict, then each question outside repeats
 * (paths as in the data API); each repeat is one column holding its items as JSON.
 */
import { typeText } from '../../submissions/typed-values.js';
import { parseSubmission, type FormSchema } from '../../xform/index.js';
import type { DecryptedRecord } from './vault.js';

export interface ExportColumns {
  questions: string[];
  repeats: string[];
}

/** A cell: text, a number (a number cell in XLSX), or nothing. */
export type TableCell = string | number | null;

const relativeTo = (schema: FormSchema) => (path: string) => path.slice(`/${schema.rootName}/`.length);

export function exportColumns(schema: FormSchema): ExportColumns {
  const relative = relativeTo(schema);
  return {
    questions: schema.fields.filter((f) => f.kind === 'question' && f.repeat === null).map((f) => relative(f.path)),
    repeats: schema.fields.filter((f) => f.kind === 'repeat' && f.parent === null).map((f) => relative(f.path)),
  };
}

export interface RowOptions {
  /**
   * Answers of int and decimal questions that read as numbers become numbers (XLSX number
   * cells); otherwise every answer stays the text the phone sent (CSV).
   */
  numbers?: boolean;
}

/** The header row, then a row per record. */
export async function* decryptedRows(records: AsyncIterable<DecryptedRecord>, schema: FormSchema, options: RowOptions = {}): AsyncGenerator<TableCell[]> {
  const columns = exportColumns(schema);
  const relative = relativeTo(schema);
  const numeric = new Map(options.numbers ? schema.fields.filter((f) => f.type === 'int' || f.type === 'decimal').map((f) => [relative(f.path), f.type]) : []);
  const question = (path: string, value: unknown): TableCell => {
    const type = numeric.get(path);
    if (type !== undefined && typeof value === 'string') {
      const typed = typeText(value, type);
      if (typeof typed === 'number') return typed;
    }
    return cellOf(value);
  };
  yield ['instanceID', '_submission_time', '_signature', ...columns.questions, ...columns.repeats];
  for await (const record of records) {
    const answers: Record<string, unknown> = record.encrypted ? parseSubmission(record.submissionXml, schema).fields : record.summary;
    const signature = record.encrypted ? record.signature : 'not encrypted';
    yield [record.instanceId, record.summary._submission_time, signature, ...columns.questions.map((path) => question(path, answers[path])), ...columns.repeats.map((path) => cellOf(answers[path]))];
  }
}

function cellOf(value: unknown): TableCell {
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number') return value;
  return JSON.stringify(value);
}
