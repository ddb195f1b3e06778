import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildCfb, fields, record } from './fixtures.test-support.js';
import { readWorkbook, WorkbookError } from './index.js';

const BOF = 0x0809;
const EOF = record(0x000a, Buffer.alloc(0));
const bof = (type: number, version = 0x0600): Buffer => record(BOF, Buffer.concat([fields([2, version], [2, type]), Buffer.alloc(12)]));

/** XLUnicodeString: 16-bit length, flags, then 8-bit or UTF-16 characters. */
function xlString(text: string, lengthBytes: 1 | 2 = 2): Buffer {
  const wide = [...text].some((ch) => ch.charCodeAt(0) > 0xff);
  return Buffer.concat([fields([lengthBytes, text.length], [1, wide ? 1 : 0]), Buffer.from(text, wide ? 'utf16le' : 'latin1')]);
}

const cellHead = (row: number, col: number, xf = 0): Buffer => fields([2, row], [2, col], [2, xf]);
const formula = (row: number, col: number, result: Buffer): Buffer =>
  record(0x0006, Buffer.concat([cellHead(row, col), result, fields([2, 0], [4, 0], [2, 0])]));
const special = (kind: number, value = 0): Buffer => Buffer.from([kind, 0, value, 0, 0, 0, 0xff, 0xff]);

/** A BIFF8 workbook with one sheet; SST string 2 is split across a CONTINUE that switches to UTF-16. */
function biff8Workbook(sheetRecords: Buffer[], extraGlobals: Buffer[] = []): Buffer {
  const sst = Buffer.concat([fields([4, 3], [4, 3]), xlString('type'), xlString('name'), fields([2, 7], [1, 0]), Buffer.from('abc', 'latin1')]);
  const continuation = Buffer.concat([Buffer.from([1]), Buffer.from('defĀ', 'utf16le')]);
  const globals = (sheetOffset: number): Buffer => Buffer.concat([
    bof(0x0005),
    ...extraGlobals,
    record(0x041e, Buffer.concat([fields([2, 164]), xlString('yyyy-mm-dd')])),
    record(0x00e0, Buffer.concat([fields([2, 0], [2, 0]), Buffer.alloc(16)])),
    record(0x00e0, Buffer.concat([fields([2, 0], [2, 164]), Buffer.alloc(16)])),
    record(0x00e0, Buffer.concat([fields([2, 0], [2, 14]), Buffer.alloc(16)])),
    record(0x0085, Buffer.concat([fields([4, sheetOffset], [1, 0], [1, 0]), xlString('survey', 1)])),
    record(0x0085, Buffer.concat([fields([4, 0], [1, 0], [1, 2]), xlString('a chart', 1)])),
    record(0x00fc, sst),
    record(0x003c, continuation),
    EOF,
  ]);
  const sheet = Buffer.concat([bof(0x0010), ...sheetRecords, EOF]);
  return Buffer.concat([globals(globals(0).length), sheet]);
}

const labelSst = (row: number, col: number, index: number): Buffer => record(0x00fd, Buffer.concat([cellHead(row, col), fields([4, index])]));
const number = (row: number, col: number, value: number, xf = 0): Buffer => record(0x0203, Buffer.concat([cellHead(row, col, xf), fields([8, value])]));

const xls = (stream: Buffer, name = 'Workbook'): Buffer => buildCfb([{ name, data: stream }]);

async function failure(bytes: Uint8Array): Promise<WorkbookError> {
  const err = await readWorkbook(bytes, 'form.xls').then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkbookError);
  return err as WorkbookError;
}

describe('xls (BIFF8)', () => {
  it('reads every kind of cell record as xlrd does for pyxform', async () => {
    const book = await readWorkbook(xls(biff8Workbook([
      labelSst(0, 0, 0), labelSst(0, 1, 1), record(0x0204, Buffer.concat([cellHead(0, 2), xlString(' label ')])),
      labelSst(1, 0, 2),
      number(1, 1, 0.05),
      record(0x027e, Buffer.concat([cellHead(1, 2), fields([4, (42 << 2) | 2])])),
      record(0x00bd, Buffer.concat([fields([2, 1], [2, 3]), fields([2, 0], [4, 0x3ff80000]), fields([2, 0], [4, (7 << 2) | 3]), fields([2, 4])])),
      record(0x0205, Buffer.concat([cellHead(1, 5), Buffer.from([1, 0])])),
      record(0x0205, Buffer.concat([cellHead(1, 6), Buffer.from([0x2a, 1])])),
      formula(2, 0, special(0)), record(0x04bc, Buffer.alloc(10)), record(0x0207, xlString('calc')),
      formula(2, 1, fields([8, 3])),
      formula(2, 2, special(1, 1)),
      number(2, 3, 43831, 1),
      number(2, 4, 61.5, 2),
      formula(2, 5, special(3)),
    ])), 'form.xls');
    expect(book.sheets).toEqual([{
      name: 'survey',
      rows: [
        ['type', 'name', 'label'],
        ['abcdefĀ', '0.05', '42', '1.5', '0.07', 'TRUE', '42'],
        ['calc', '3', 'TRUE', '2020-01-01 00:00:00', '1900-03-01 12:00:00'],
      ],
    }]);
  });

  it('reports a date xlrd cannot place (before 1900-03-01) with its sheet and row', async () => {
    const err = await failure(xls(biff8Workbook([labelSst(0, 0, 0), number(3, 0, 30, 1)])));
    expect([err.code, err.sheet, err.row]).toEqual(['xlsform.invalid_date', 'survey', 4]);
  });

  it('reads a BIFF5 (Excel 95) workbook from the corpus', async () => {
    const book = await readWorkbook(readFileSync('/work/shared/testdata/xlsform/forms/kpi__test_data_types.xls'), 'test_data_types.xls');
    expect(book.sheets.map((s) => s.name)).toEqual(['survey']);
    expect(book.sheets[0]?.rows[0]?.slice(0, 3)).toEqual(['type', 'name', 'label']);
  });
});

describe('hostile .xls', () => {
  it('rejects a FAT cycle instead of looping', async () => {
    const err = await failure(buildCfb([{ name: 'Workbook', data: biff8Workbook([]) }], { loopDirectory: true }));
    expect(err.code).toBe('xlsform.malformed_workbook');
    expect(err.message).toMatch(/loops/);
  });

  it('rejects a truncated file', async () => {
    const real = readFileSync('/work/shared/testdata/xlsform/forms/kpi__household.xls');
    expect((await failure(real.subarray(0, 3000))).code).toBe('xlsform.malformed_workbook');
    expect((await failure(real.subarray(0, 300))).code).toBe('xlsform.malformed_workbook');
  });

  it('refuses BIFF2-4 with advice to re-save as .xlsx', async () => {
    const err = await failure(xls(Buffer.concat([record(0x0409, fields([2, 0], [2, 0x10])), EOF])));
    expect(err.code).toBe('xlsform.legacy_format');
    expect(err.message).toMatch(/\.xlsx/);
  });

  it('refuses password-protected workbooks, both BIFF and OOXML-in-OLE', async () => {
    expect((await failure(xls(biff8Workbook([], [record(0x002f, Buffer.alloc(6))])))).code).toBe('xlsform.encrypted');
    expect((await failure(xls(Buffer.alloc(100), 'EncryptedPackage'))).code).toBe('xlsform.encrypted');
  });

  it('refuses an Office file that is not a workbook, and damaged records', async () => {
    expect((await failure(xls(Buffer.alloc(100), 'WordDocument'))).code).toBe('xlsform.not_a_workbook');
    const bad = biff8Workbook([labelSst(0, 0, 99)]);
    const err = await failure(xls(bad));
    expect([err.code, err.sheet, err.row]).toEqual(['xlsform.malformed_workbook', 'survey', 1]);
  });
});
