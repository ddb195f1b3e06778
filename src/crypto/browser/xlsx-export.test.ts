/**
 * The browser's streaming ZIP writer and XLSX export, run in Node (which has the same
 * CompressionStream): archives that Info-ZIP's `unzip -t` finds sound (CRCs, sizes, names),
 * workbooks exceljs reads back cell for cell, and 100,000 rows written as they come rather than
 * gathered first. The same code runs in headless Chromium in test/browser/encrypted-projects.test.ts.
 */
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import ExcelJS from 'exceljs';
import { afterAll, describe, expect, it } from 'vitest';
import { defaultReadLimits } from '../../xlsform/workbook/limits.js';
import { openSafeZip } from '../../xlsform/workbook/zip.js';
import type { TableCell } from './table.js';
import { XlsxLimitError, writeXlsx } from './xlsx-export.js';
import { ZipWriter } from './zip-writer.js';

const run = promisify(execFile);
const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-zip-writer-'));
afterAll(() => rmSync(work, { recursive: true, force: true }));
const zipLimits = { ...defaultReadLimits, maxRatio: 10_000, maxUncompressedBytes: 1 << 30 };

/** Everything the writer hands its sink, in order. */
function collector() {
  const chunks: Uint8Array[] = [];
  let bytes = 0;
  return {
    sink: (chunk: Uint8Array) => {
      chunks.push(chunk);
      bytes += chunk.length;
    },
    bytes: () => bytes,
    file: () => Buffer.concat(chunks),
  };
}

async function unzipTest(file: Buffer, name: string): Promise<string> {
  const target = path.join(work, name);
  writeFileSync(target, file);
  return (await run('unzip', ['-t', target])).stdout;
}

describe('the streaming ZIP writer', () => {
  it('writes entries that unzip checks (CRC-32, sizes, UTF-8 names) and reads back byte for byte', async () => {
    const out = collector();
    const zip = new ZipWriter(out.sink, new Date(2024, 4, 1, 12, 30, 10));
    const random = new Uint8Array(randomBytes(300_000));
    const repetitive = new TextEncoder().encode('field,data '.repeat(50_000));
    await zip.add('a.txt', 'hello');
    await zip.add('empty', new Uint8Array(0));
    await zip.add('dossier/café ✓.bin', random);
    const streamed = await zip.open('streamed.csv');
    for (let i = 0; i < repetitive.length; i += 7_777) await streamed.write(repetitive.slice(i, i + 7_777));
    await streamed.close();
    await zip.finish();

    const file = out.file();
    expect(file.length).toBeLessThan(random.length + repetitive.length / 10);
    const report = await unzipTest(file, 'entries.zip');
    expect(report).toContain('No errors detected');
    for (const name of ['a.txt', 'empty', 'dossier/café ✓.bin', 'streamed.csv']) expect(report).toContain(`testing: ${name}`);
    const read = openSafeZip(file, zipLimits);
    expect(Buffer.from(read.read('a.txt')).toString()).toBe('hello');
    expect(read.read('empty').length).toBe(0);
    expect(Buffer.from(read.read('dossier/café ✓.bin')).equals(random)).toBe(true);
    expect(Buffer.from(read.read('streamed.csv')).equals(repetitive)).toBe(true);
    const listing = (await run('zipinfo', [path.join(work, 'entries.zip'), 'a.txt'])).stdout;
    expect(listing).toContain('24-May-01 12:30');
  });

  it('refuses to open an entry while another is open', async () => {
    const zip = new ZipWriter(() => {});
    await zip.open('one');
    await expect(zip.open('two')).rejects.toThrow(/still open/);
    await expect(zip.finish()).rejects.toThrow(/still open/);
  });
});

describe('the browser XLSX export', () => {
  it('writes a workbook exceljs reads back: numbers as numbers, text as text (formulas too), empty cells empty', async () => {
    const rows: TableCell[][] = [
      ['instanceID', '_submission_time', 'age', 'note', 'member'],
      ['uuid:1', '2024-05-01T10:00:00', 31, '=HYPERLINK("http://evil.example")', '[{"member/name":"Ann"}]'],
      ['uuid:2', '2024-05-02T10:00:00', null, ' two\nlines & <tags> "quoted" ', null],
      ['uuid:3', '2024-05-03T10:00:00', -2.5, 'control\u0001character', ''],
    ];
    const out = collector();
    async function* source() {
      yield* rows;
    }
    expect(await writeXlsx(source(), 'survey/2024: [north]', out.sink)).toBe(3);
    expect(await unzipTest(out.file(), 'small.xlsx')).toContain('No errors detected');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(out.file() as unknown as ArrayBuffer);
    expect(workbook.worksheets.map((w) => w.name)).toEqual(['survey_2024_ _north_']);
    const read: unknown[][] = [];
    workbook.worksheets[0]!.eachRow({ includeEmpty: true }, (row) => read.push((row.values as unknown[]).slice(1)));
    expect(read).toEqual([
      rows[0],
      ['uuid:1', '2024-05-01T10:00:00', 31, '=HYPERLINK("http://evil.example")', '[{"member/name":"Ann"}]'],
      ['uuid:2', '2024-05-02T10:00:00', undefined, ' two\nlines & <tags> "quoted" '],
      ['uuid:3', '2024-05-03T10:00:00', -2.5, 'controlcharacter'],
    ]);
    expect(workbook.worksheets[0]!.getCell('D2').formula).toBeUndefined();
  });

  it('streams 100,000 rows: the zip is written while rows still come, and holds them all', { timeout: 120_000 }, async () => {
    const out = collector();
    let writtenBeforeLastRow = 0;
    const total = 100_000;
    async function* source(): AsyncGenerator<TableCell[]> {
      yield ['instanceID', '_submission_time', '_signature', 'district', 'age', 'weight', 'note'];
      for (let i = 1; i <= total; i += 1) {
        if (i === total) writtenBeforeLastRow = out.bytes();
        yield [`uuid:${String(i).padStart(12, '0')}`, '2024-05-01T10:00:00', 'valid', i % 2 ? 'north' : 'south', i % 90, i / 8, `note ${i} with some text`];
      }
    }
    expect(await writeXlsx(source(), 'survey', out.sink)).toBe(total);
    // All but the last batch had reached the sink before the last row was even made.
    expect(writtenBeforeLastRow).toBeGreaterThan(out.bytes() * 0.9);
    const sheet = Buffer.from(openSafeZip(out.file(), zipLimits).read('xl/worksheets/sheet1.xml')).toString('utf8');
    expect(sheet.match(/<row /g)).toHaveLength(total + 1);
    expect(sheet).toContain(`<row r="${total + 1}"><c r="A${total + 1}" t="inlineStr"><is><t>uuid:000000100000</t></is></c>`);
    expect(sheet.endsWith('</sheetData></worksheet>')).toBe(true);
  });

  it('refuses more rows than a sheet holds, and says to use CSV', async () => {
    async function* tooMany(): AsyncGenerator<TableCell[]> {
      for (let i = 0; i <= 1_048_576; i += 1) yield [i];
    }
    await expect(writeXlsx(tooMany(), 'big', () => {})).rejects.toThrow(XlsxLimitError);
  }, 120_000);
});
