import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { defaultReadLimits, readWorkbook, WorkbookError } from './index.js';

async function code(bytes: Uint8Array, name: string, limits = {}): Promise<string> {
  const err = await readWorkbook(bytes, name, limits).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkbookError);
  return (err as WorkbookError).code;
}

describe('readWorkbook', () => {
  it('refuses empty files, non-workbooks and oversize files with stable codes', async () => {
    expect(await code(new Uint8Array(), 'form.xlsx')).toBe('xlsform.empty_file');
    expect(await code(Buffer.from('%PDF-1.7\n%âãÏÓ\n1 0 obj'), 'form.xlsx')).toBe('xlsform.not_a_workbook');
    const random = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7919 + 13) % 251);
    expect(await code(random, 'form.xls')).toBe('xlsform.not_a_workbook');
    expect(await code(Buffer.from('type,name\ntext,q1\n'), 'form.csv')).toBe('xlsform.not_a_workbook');
    const form = readFileSync('/work/shared/testdata/xlsform/forms/onadata__household.xlsx');
    expect(await code(form, 'household.xlsx', { maxBytes: 1000 })).toBe('xlsform.too_large');
  });

  it('names the file and says how to fix it', async () => {
    const err = await readWorkbook(Buffer.from('not a spreadsheet'), 'survey.xlsx').then(
      () => expect.fail('a text file was read as a workbook'),
      (e: unknown) => e as WorkbookError,
    );
    expect(err.message).toMatch(/"survey\.xlsx".*\.xlsx/);
  });

  it('reads by content, whatever the name says', async () => {
    const form = readFileSync('/work/shared/testdata/xlsform/forms/onadata__household.xlsx');
    const book = await readWorkbook(form, 'household.xls');
    expect(book.sheets[0]?.name).toBe('survey');
  });

  it('has safe, frozen defaults', () => {
    expect(Object.isFrozen(defaultReadLimits)).toBe(true);
    expect(defaultReadLimits.maxCellChars).toBe(32_767);
  });
});
