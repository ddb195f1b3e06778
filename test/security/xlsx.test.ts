/*
 * Hostile XLSForm workbooks through the form upload API: zip bombs, paths that climb out of the
 * archive, symlink entries, and workbooks with absurd numbers of sheets, entries or rows. Every
 * file is built here, in memory; none is committed.
 */
import { expect, it } from 'vitest';
import { buildZip, xlsxParts, zerosDeflated, type ZipEntrySpec } from '../../src/xlsform/workbook/fixtures.test-support.js';
import { describeEachDatabase } from '../support/databases.js';
import { useTestServer } from '../support/server.js';
import { testUserSettings } from '../support/test-users.js';
import { expectRefused, send, useHostileTargets } from './hostile-server.js';

const MB = 1024 * 1024;
const GB = 1024 * MB;

const inlineRow = (row: number, cells: string[]) =>
  `<row r="${row}">${cells.map((value) => `<c t="inlineStr"><is><t>${value}</t></is></c>`).join('')}</row>`;
const surveySheet = (rows: string) => ({ name: 'survey', xml: `<sheetData>${inlineRow(1, ['type', 'name', 'label'])}${rows}</sheetData>` });
/** A workbook whose survey sheet is fine, with extra zip entries appended. */
const withEntries = (extra: ZipEntrySpec[]) => buildZip([...xlsxParts({ sheets: [surveySheet(inlineRow(2, ['text', 'q', 'Q']))] }), ...extra]);

/**
 * A sheet's rows are read into memory before conversion: 100,000 rows are refused at the row cap
 * (50,000), after reading that many, about 0.25 s on a quiet 2-core machine and up to 2 s under
 * load, so this case has a looser time bound than the usual guard (SECURITY.md, known findings).
 */
const ROW_CAP_WITHIN_MS = 5_000;

const workbooks: Array<{ label: string; build: () => Buffer; withinMs?: number }> = [
  {
    label: 'a zip bomb (1 MB inflating to 1 GB, size declared honestly)',
    build: () => withEntries([{ name: 'xl/worksheets/sheet2.xml', deflated: zerosDeflated(1024), declaredSize: GB }]),
  },
  {
    label: 'a zip bomb that declares a small size (1 MB inflating to 1 GB, declared 1 kB)',
    build: () =>
      buildZip([...xlsxParts({ sheets: [] }), { name: 'xl/worksheets/sheet1.xml', deflated: zerosDeflated(1024), declaredSize: 1024 }]),
  },
  {
    label: 'a zip bomb spread over many entries (100 entries of 100 MB each)',
    build: () => {
      const bomb = zerosDeflated(100);
      return withEntries(Array.from({ length: 100 }, (_, i) => ({ name: `xl/media/zeros${i}.bin`, deflated: bomb, declaredSize: 100 * MB })));
    },
  },
  {
    label: 'a zip-slip path (../../)',
    build: () => withEntries([{ name: '../../../../tmp/fieldkeep-zip-slip.xml', data: Buffer.from('<x/>') }]),
  },
  {
    label: 'an absolute path entry',
    build: () => withEntries([{ name: '/etc/cron.d/fieldkeep', data: Buffer.from('* * * * * root true') }]),
  },
  {
    label: 'a backslash zip-slip path',
    build: () => withEntries([{ name: 'xl\\..\\..\\..\\evil.xml', data: Buffer.from('<x/>') }]),
  },
  {
    label: 'a symlink entry standing in for the survey sheet',
    build: () =>
      buildZip([
        ...xlsxParts({ sheets: [] }),
        { name: 'xl/worksheets/sheet1.xml', data: Buffer.from('/etc/passwd'), unixMode: 0o120777, method: 0 },
      ]),
  },
  {
    label: 'a workbook listing 100,000 sheets',
    build: () => {
      const sheets = Array.from({ length: 100_000 }, (_, i) => ({ name: `s${i}`, xml: '' }));
      const parts = xlsxParts({ sheets: [surveySheet(inlineRow(2, ['text', 'q', 'Q'])), ...sheets] });
      // The workbook and its relationships name every sheet; only the first sheet's part exists.
      return buildZip(parts.filter((part) => !/^xl\/worksheets\/sheet(?!1\.xml)/.test(part.name)));
    },
  },
  {
    label: 'a zip with 100,000 entries',
    build: () =>
      buildZip([...xlsxParts({ sheets: [surveySheet('')] }), ...Array.from({ length: 100_000 }, (_, i) => ({ name: `e/${i}`, method: 0 }))], { zip64End: true }),
  },
  {
    label: 'a survey sheet with a cell at row 1,048,576 and column XFD',
    build: () => buildZip(xlsxParts({ sheets: [{ name: 'survey', xml: `<sheetData>${inlineRow(1, ['type', 'name', 'label'])}<row r="1048576"><c r="XFD1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>` }] })),
  },
  {
    label: 'a survey sheet with 100,000 rows',
    build: () => {
      const rows = Array.from({ length: 100_000 }, (_, i) => inlineRow(i + 2, ['text', `q${i}`, 'Q'])).join('');
      return buildZip(xlsxParts({ sheets: [surveySheet(rows)] }));
    },
    withinMs: ROW_CAP_WITHIN_MS,
  },
];

/** Each file is built once and sent on both databases: some take a second to build. */
const builds = new Map<string, Buffer>();
function built(workbook: { label: string; build: () => Buffer }): Buffer {
  let bytes = builds.get(workbook.label);
  if (!bytes) builds.set(workbook.label, (bytes = workbook.build()));
  return bytes;
}

describeEachDatabase('hostile XLSX', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const targets = useHostileTargets(env);

  for (const workbook of workbooks) {
    it(`refuses ${workbook.label}`, async () => {
      const bytes = built(workbook);
      expect(bytes.length).toBeLessThan(20 * MB);
      await expectRefused(
        env(),
        () => send(`${targets().formsUrl}?fileName=hostile.xlsx`, 'POST', { ...targets().owner.headers, 'content-type': 'application/octet-stream' }, bytes),
        ['form.invalid_xlsform'],
        workbook.withinMs === undefined ? {} : { withinMs: workbook.withinMs },
      );
    });
  }
});
