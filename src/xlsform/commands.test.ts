import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { corpusDir } from '../../test/support/xlsform-corpus.js';
import { convertXlsForm } from './index.js';
import { buildXlsx, buildZip, xlsxParts, zerosDeflated } from './workbook/fixtures.test-support.js';

const scratch = mkdtempSync(path.join(tmpdir(), 'fieldkeep-xlsform-cli-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

const fieldkeep = (...args: string[]) => runFieldkeep(['xlsform', ...args], {});

const text = (ref: string, value: string): string => `<c r="${ref}" t="inlineStr"><is><t>${value}</t></is></c>`;
const row = (n: number, ...values: string[]): string =>
  `<row r="${n}">${values.map((value, i) => text(`${String.fromCharCode(65 + i)}${n}`, value)).join('')}</row>`;

function writeForm(name: string, surveyRows: string[][]): string {
  const xml = `<sheetData>${surveyRows.map((values, i) => row(i + 1, ...values)).join('')}</sheetData>`;
  const file = path.join(scratch, name);
  writeFileSync(file, buildXlsx({ sheets: [{ name: 'survey', xml }] }));
  return file;
}

const goodForm = writeForm('good.xlsx', [
  ['type', 'name', 'label'],
  ['text', 'visitor', 'Who visited?'],
  ['integer', 'age', 'How old are they?'],
]);
const badForm = writeForm('bad.xlsx', [
  ['type', 'name', 'label'],
  ['text', 'visitor', 'Who visited?'],
  ['not_a_question_type', 'age', 'How old are they?'],
]);

describe('fieldkeep xlsform convert', () => {
  it('writes the XForm to the file given with -o and says so', async () => {
    const output = path.join(scratch, 'good.xml');
    const run = await fieldkeep('convert', goodForm, '-o', output);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain(`good.xlsx → ${output} (0 warnings)`);
    expect(readFileSync(output, 'utf8')).toContain('<bind nodeset="/data/age" type="int"/>');
  });

  it('writes exactly what the converter makes of a form to standard output', async () => {
    const form = path.join(corpusDir, 'forms', 'kpi__battery_life.xls');
    const run = await fieldkeep('convert', form);
    expect(run).toMatchObject({ code: 0, stderr: '' });
    const { xform } = await convertXlsForm(readFileSync(form), 'kpi__battery_life.xls');
    expect(run.stdout.trimEnd()).toBe(xform.trimEnd());
  });

  it('refuses a form with errors: exit 1, the sheet and row on standard error, no XForm written', async () => {
    const output = path.join(scratch, 'bad.xml');
    const run = await fieldkeep('convert', badForm, '-o', output);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error \(sheet "survey", row 3\): .*not_a_question_type/m);
    expect(() => readFileSync(output)).toThrow();
  });
});

describe('fieldkeep xlsform check', () => {
  it('exits 0 and counts nothing wrong for a good form', async () => {
    const run = await fieldkeep('check', goodForm);
    expect(run).toMatchObject({ code: 0, stdout: `${goodForm}: 0 errors, 0 warnings\n` });
  });

  it('lists warnings with their sheet and row and still exits 0', async () => {
    // pyxform warns that the choice on row 2 of the choices sheet has no label.
    const run = await fieldkeep('check', path.join(corpusDir, 'forms', 'pyxform__ODKValidateWarnings.xlsx'));
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^warning \(sheet "choices", row 2\): .*Choices should have a label/m);
  });

  it('exits 1 and names the sheet and row of an error', async () => {
    const run = await fieldkeep('check', badForm);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^error \(sheet "survey", row 3\): .*not_a_question_type.* \[xlsform\.[a-z_.]+\]$/m);
    expect(run.stdout).toMatch(/bad\.xlsx: 1 error, 0 warnings\n$/);
  });

  it('refuses a 1 MB zip bomb with its error code', async () => {
    const bomb = path.join(scratch, 'bomb.xlsx');
    writeFileSync(bomb, buildZip([...xlsxParts({ sheets: [] }), { name: 'xl/worksheets/sheet1.xml', deflated: zerosDeflated(1000), declaredSize: 1000 * 1024 * 1024 }]));
    const run = await fieldkeep('check', bomb);
    expect(run.code).toBe(1);
    expect(run.stdout).toMatch(/^error: .+ \[xlsform\.zip_bomb\]$/m);
  });

  it('says clearly that a file does not exist, without a stack trace', async () => {
    const missing = path.join(scratch, 'no-such-form.xlsx');
    const run = await fieldkeep('check', missing);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain(`error: Cannot read "${missing}": there is no such file; check the path. [xlsform.unreadable_file]`);
    expect(run.stdout + run.stderr).not.toMatch(/\n\s+at /);
  });
});
