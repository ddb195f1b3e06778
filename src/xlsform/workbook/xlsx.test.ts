import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { buildXlsx, buildZip, xlsxParts, zerosDeflated } from './fixtures.test-support.js';
import { readWorkbook, WorkbookError } from './index.js';
import type { ReadLimits } from './index.js';
import { isDateFormat, isDurationFormat } from './xlsx.js';

async function rowsOf(xml: string, extra: Partial<Parameters<typeof buildXlsx>[0]> = {}): Promise<string[][]> {
  const book = await readWorkbook(buildXlsx({ sheets: [{ name: 'survey', xml }], ...extra }), 'form.xlsx');
  return book.sheets[0]!.rows;
}

async function failure(bytes: Uint8Array, limits: Partial<ReadLimits> = {}): Promise<WorkbookError> {
  const err = await readWorkbook(bytes, 'form.xlsx', limits).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(WorkbookError);
  return err as WorkbookError;
}

const header = '<row r="1"><c r="A1" t="inlineStr"><is><t>type</t></is></c><c r="B1" t="inlineStr"><is><t>name</t></is></c></row>';

describe('xlsx cells', () => {
  it('reads shared, inline and rich strings, dropping phonetic runs and openpyxl\'s x005F_', async () => {
    const rows = await rowsOf(
      `<sheetData>${header}<row r="2"><c r="A2" t="s"><v>0</v></c><c r="B2" t="s"><v>1</v></c><c r="C2" t="inlineStr"><is><r><t>in</t></r><r><t xml:space="preserve">line</t></r></is></c></row></sheetData>`,
      { sharedStrings: '<si><t>text</t></si><si><r><rPr><b/></rPr><t>ri</t></r><r><t>ch_x005F_x0041_</t></r><rPh><t>ignored</t></rPh></si>' },
    );
    expect(rows).toEqual([['type', 'name'], ['text', 'rich_x0041_', 'inline']]);
  });

  it('renders numbers, booleans, errors and cached formula results as pyxform does', async () => {
    const rows = await rowsOf(`<sheetData>${header}<row r="2">
      <c r="A2"><v>2024010101</v></c><c r="B2"><v>2.0E+3</v></c><c r="C2"><v>0.1</v></c><c r="D2"><v>1E-05</v></c>
      <c r="E2" t="b"><v>1</v></c><c r="F2" t="b"><v>0</v></c><c r="G2" t="e"><v>#N/A</v></c>
      <c r="H2" t="str"><f>CONCAT("a","b")</f><v>ab</v></c><c r="I2"><f>1+1</f><v>2</v></c><c r="J2"><f>NOW()</f></c>
      <c r="K2"><v>12345678901234567890</v></c></row></sheetData>`);
    expect(rows[1]).toEqual(['2024010101', '2000', '0.1', '1e-05', 'TRUE', 'FALSE', '#N/A', 'ab', '2', '', '12345678901234567890']);
  });

  it('strips values as Python does, turns no-break spaces into spaces and collapses spaces in headers', async () => {
    const rows = await rowsOf(`<sheetData><row r="1"><c t="inlineStr"><is><t xml:space="preserve"> label  ::  English </t></is></c></row>
      <row r="2"><c t="inlineStr"><is><t xml:space="preserve">\u00a0a\u00a0b \u2003</t></is></c><c t="inlineStr"><is><t xml:space="preserve">   </t></is></c><c t="inlineStr"><is><t>\u00a0x\ufeff</t></is></c></row></sheetData>`);
    expect(rows).toEqual([['label :: English'], ['a b', '', 'x\ufeff']]);
  });

  it('turns date-formatted numbers into dates, times and durations like openpyxl', async () => {
    const styles = '<numFmts count="2"><numFmt numFmtId="164" formatCode="yyyy-mm-dd"/><numFmt numFmtId="165" formatCode="&quot;day&quot; 0"/></numFmts>'
      + '<cellXfs count="5"><xf numFmtId="0"/><xf numFmtId="164"/><xf numFmtId="20"/><xf numFmtId="46"/><xf numFmtId="165"/></cellXfs>';
    const rows = await rowsOf(`<sheetData>${header}<row r="2"><c r="A2" s="1"><v>43831</v></c><c r="B2" s="2"><v>0.5</v></c><c r="C2" s="3"><v>1.5</v></c><c r="D2" s="4"><v>3</v></c><c r="E2" s="1"><v>43831.25</v></c></row></sheetData>`, { styles });
    expect(rows[1]).toEqual(['2020-01-01 00:00:00', '12:00:00', '1 day, 12:00:00', '3', '2020-01-01 06:00:00']);
    const mac = await rowsOf(`<sheetData>${header}<row r="2"><c r="A2" s="1"><v>0</v></c><c r="B2" s="1"><v>1</v></c></row></sheetData>`, { styles, workbookPr: '<workbookPr date1904="1"/>' });
    expect(mac[1]).toEqual(['00:00:00', '1904-01-02 00:00:00']);
  });

  it('places cells by reference, fills gaps, and trims trailing empties', async () => {
    const rows = await rowsOf(`<sheetData>${header}<row r="4"><c r="C4" t="inlineStr"><is><t>x</t></is></c><c r="D4" t="inlineStr"><is><t> </t></is></c></row><row r="9"/></sheetData>`);
    expect(rows).toEqual([['type', 'name'], [], [], ['', '', 'x']]);
  });

  it('sees only what openpyxl\'s read-only mode sees: the declared <dimension>, rows in order', async () => {
    const rows = await rowsOf(`<dimension ref="A1:B3"/><sheetData>${header}<row r="3"><c r="A3"><v>1</v></c><c r="C3"><v>2</v></c></row><row r="2"><c r="A2"><v>3</v></c></row><row r="4"><c r="A4"><v>4</v></c></row></sheetData>`);
    expect(rows).toEqual([['type', 'name'], [], ['1']]);
  });

  it('reads namespace-prefixed parts and keeps sheets in workbook order, skipping chart sheets', async () => {
    const parts = xlsxParts({ sheets: [{ name: 'survey', xml: '' }, { name: 'choices', xml: '' }] }).map((p) => {
      if (p.name === 'xl/worksheets/sheet1.xml') return { ...p, data: Buffer.from('<x:worksheet xmlns:x="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><x:sheetData><x:row r="1"><x:c r="A1" t="inlineStr"><x:is><x:t>type</x:t></x:is></x:c></x:row></x:sheetData></x:worksheet>') };
      if (p.name === 'xl/worksheets/sheet2.xml') return { ...p, data: Buffer.from('<worksheet><sheetData><row><c t="inlineStr"><is><t>list_name</t></is></c></row></sheetData></worksheet>') };
      if (p.name === 'xl/workbook.xml') return { ...p, data: Buffer.from('<workbook xmlns:r="r"><sheets><sheet name="choices" r:id="rId2"/><sheet name="chart" r:id="rC"/><sheet name="survey" r:id="rId1"/></sheets></workbook>') };
      return p;
    });
    const book = await readWorkbook(buildZip(parts), 'form.xlsm');
    expect(book.sheets).toEqual([{ name: 'choices', rows: [['list_name']] }, { name: 'survey', rows: [['type']] }]);
  });

  it('recognises date formats as openpyxl and its duration formats', () => {
    expect(['yyyy-mm-dd', 'd/m/yy h:mm', '[$-409]mmmm d, yyyy', 'hh:mm:ss'].every(isDateFormat)).toBe(true);
    expect(['General', '0.00', '"days" 0', '[Red]0.00', '#,##0'].some(isDateFormat)).toBe(false);
    expect(isDurationFormat('[h]:mm:ss')).toBe(true);
    expect(isDurationFormat('h:mm:ss')).toBe(false);
  });
});

describe('hostile .xlsx', () => {
  const survey = (xml: string): Buffer => buildXlsx({ sheets: [{ name: 'survey', xml }] });

  it('rejects a 1 MB zip bomb (1 GiB of zeros) from its declared size, in well under a second', async () => {
    const bomb = buildZip([...xlsxParts({ sheets: [] }), { name: 'xl/worksheets/sheet1.xml', deflated: zerosDeflated(1000), declaredSize: 1000 * 1024 * 1024 }]);
    expect(bomb.length).toBeGreaterThan(1_000_000);
    const start = performance.now();
    expect((await failure(bomb)).code).toBe('xlsform.zip_bomb');
    expect(performance.now() - start).toBeLessThan(250);
  });

  it('stops inflating an entry that lies about its size', async () => {
    const parts = xlsxParts({ sheets: [{ name: 'survey', xml: '' }] }).map((p) =>
      p.name === 'xl/worksheets/sheet1.xml' ? { name: p.name, deflated: zerosDeflated(1000), declaredSize: 4096 } : p);
    const start = performance.now();
    const err = await failure(buildZip(parts));
    expect(performance.now() - start).toBeLessThan(250);
    expect(err.code).toBe('xlsform.zip_bomb');
  });

  it('rejects entries beyond the compression ratio, the total size or the entry count', async () => {
    const zeros = (mb: number): Buffer => buildZip([...xlsxParts({ sheets: [] }), { name: 'xl/media/blob.bin', deflated: zerosDeflated(mb), declaredSize: mb * 1024 * 1024 }]);
    expect((await failure(zeros(4))).message).toMatch(/compression ratio/);
    expect((await failure(zeros(4), { maxRatio: 10_000, maxUncompressedBytes: 1024 * 1024 })).code).toBe('xlsform.zip_bomb');
    const many = buildZip([...xlsxParts({ sheets: [] }), ...Array.from({ length: 50 }, (_, i) => ({ name: `junk/${i}`, data: Buffer.from('x') }))]);
    expect((await failure(many, { maxEntries: 20 })).message).toMatch(/entries/);
  });

  it('rejects a workbook listing more sheets than the archive may hold entries', async () => {
    const sheets = Array.from({ length: 30 }, (_, i) => ({ name: `s${i}`, xml: '' }));
    const listed = buildZip(xlsxParts({ sheets }).filter((part) => !part.name.startsWith('xl/worksheets/')));
    expect((await failure(listed, { maxEntries: 20 })).message).toMatch(/lists more than 20 sheets/);
  });

  it('rejects path traversal, absolute paths, backslashes and symlinks', async () => {
    for (const name of ['../evil.xml', 'xl/../../evil.xml', '/etc/passwd', 'C:/evil.xml', 'xl\\evil.xml']) {
      const err = await failure(buildZip([...xlsxParts({ sheets: [] }), { name, data: Buffer.from('x') }]));
      expect(err.code, name).toBe('xlsform.zip_unsafe_path');
    }
    const link = await failure(buildZip([...xlsxParts({ sheets: [] }), { name: 'xl/link', data: Buffer.from('/etc/passwd'), unixMode: 0o120777 }]));
    expect(link.code).toBe('xlsform.zip_unsafe_path');
  });

  it('rejects encrypted entries', async () => {
    const parts = xlsxParts({ sheets: [{ name: 'survey', xml: '' }] }).map((p) => ({ ...p, flags: 1 }));
    expect((await failure(buildZip(parts))).code).toBe('xlsform.encrypted');
  });

  it('rejects a DOCTYPE (entity expansion) in any part', async () => {
    const billionLaughs = '<!DOCTYPE x [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;">]><worksheet><sheetData><row><c t="inlineStr"><is><t>&b;</t></is></c></row></sheetData></worksheet>';
    const parts = xlsxParts({ sheets: [{ name: 'survey', xml: '' }] }).map((p) =>
      p.name === 'xl/worksheets/sheet1.xml' ? { ...p, data: Buffer.from(billionLaughs) } : p);
    expect((await failure(buildZip(parts))).code).toBe('xml.doctype_forbidden');
  });

  it('rejects malformed XML, unknown shared strings and nesting bombs', async () => {
    expect((await failure(survey('<sheetData><row><c><v>1</v></row></sheetData>'))).code).toBe('xlsform.malformed_workbook');
    expect((await failure(survey('<sheetData><row><c t="s"><v>7</v></c></row></sheetData>'))).code).toBe('xlsform.malformed_workbook');
    expect((await failure(survey(`${'<a>'.repeat(100)}${'</a>'.repeat(100)}`))).message).toMatch(/deeper/);
  });

  it('rejects a truncated file and a zip that is not a workbook', async () => {
    const real = readFileSync('/work/shared/testdata/xlsform/forms/onadata__household.xlsx');
    expect((await failure(real.subarray(0, real.length / 2))).code).toBe('xlsform.malformed_workbook');
    expect((await failure(buildZip([{ name: 'readme.txt', data: Buffer.from('hi') }]))).code).toBe('xlsform.not_a_workbook');
  });

  it('caps rows, columns and cell length', async () => {
    const tall = survey(`<sheetData>${header}<row r="500"><c r="A500"><v>1</v></c></row></sheetData>`);
    const tallErr = await failure(tall, { maxRows: 100 });
    expect([tallErr.code, tallErr.sheet, tallErr.row]).toEqual(['xlsform.too_large', 'survey', 500]);
    expect((await failure(survey(`<sheetData><row><c r="ZZ1"><v>1</v></c></row></sheetData>`), { maxColumns: 100 })).code).toBe('xlsform.too_large');
    const long = survey(`<sheetData><row><c t="inlineStr"><is><t>${'x'.repeat(40_000)}</t></is></c></row></sheetData>`);
    expect((await failure(long)).message).toMatch(/32767 characters/);
  });
});
