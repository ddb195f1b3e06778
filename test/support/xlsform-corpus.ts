/** The XLSForm development corpus in ../shared/testdata/xlsform: pyxform 4.5.0's result for each form. */
import { readFileSync } from 'node:fs';
import path from 'node:path';

export const corpusDir = path.resolve(import.meta.dirname, '..', '..', '..', 'shared', 'testdata', 'xlsform');

export interface CorpusForm {
  /** The workbook's file name, e.g. `kpi__battery_life.xls`. */
  name: string;
  /** Path of the workbook. */
  workbook: string;
  /** pyxform's outcome: converted cleanly, converted with warnings, or rejected. */
  result: 'ok' | 'warnings' | 'error';
  /** Path of pyxform's XForm, for forms it converted. */
  expected?: string;
  /** pyxform's own conversion time inside one Python process, in milliseconds. */
  pyxformMs: number;
}

interface ManifestRecord {
  form: string;
  result: CorpusForm['result'];
  expected?: string;
  pyxform_ms: number;
}

export function corpusForms(): CorpusForm[] {
  const records = JSON.parse(readFileSync(path.join(corpusDir, 'manifest.json'), 'utf8')) as ManifestRecord[];
  return records.map((record) => ({
    name: path.basename(record.form),
    workbook: path.join(corpusDir, record.form),
    result: record.result,
    ...(record.expected ? { expected: path.join(corpusDir, record.expected) } : {}),
    pyxformMs: record.pyxform_ms,
  }));
}

/** The forms pyxform converts (with or without warnings), each with its XForm. */
export function convertibleCorpusForms(): Array<CorpusForm & { expected: string }> {
  return corpusForms().filter((form): form is CorpusForm & { expected: string } => form.result !== 'error' && form.expected !== undefined);
}
