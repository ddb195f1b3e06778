/*
 * XLSX of a form's submissions decrypted in the browser: the table of table.ts as one sheet,
 * written while the submissions are decrypted, so a Web Worker can stream 100,000 of them
 * (export-worker.ts). exceljs cannot do this in a worker (its streaming writer is built on Node
 * streams), so the workbook is written here: five small fixed parts and the sheet, zipped by
 * zip-writer.ts as its rows come. The rows are SpreadsheetML from the module the server's XLSX
 * exports use (src/exports/spreadsheetml.ts): numbers as number cells, everything else as inline
 * text (never evaluated, so no formula can hide in an answer), no shared strings, so nothing is
 * kept per row.
 */
import { columnName, rowXml, sheetName, xmlAttribute } from '../../exports/spreadsheetml.js';
import type { TableCell } from './table.js';
import { ZipWriter, type ZipSink } from './zip-writer.js';

export const XLSX_TYPE = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet';

/** Excel's limits for one sheet. */
const MAX_ROWS = 1_048_576;
const MAX_COLUMNS = 16_384;
/** Sheet XML is handed to the zip in batches of about this many characters. */
const BATCH_CHARACTERS = 1 << 16;

export class XlsxLimitError extends Error {}

const DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n';
const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main';
const RELATIONSHIPS = 'http://schemas.openxmlformats.org/package/2006/relationships';
const RELATIONSHIP = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships';
const PART = 'application/vnd.openxmlformats-officedocument.spreadsheetml';

const CONTENT_TYPES =
  `${DECLARATION}<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">` +
  '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/>' +
  `<Override PartName="/xl/workbook.xml" ContentType="${PART}.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="${PART}.worksheet+xml"/>` +
  `<Override PartName="/xl/styles.xml" ContentType="${PART}.styles+xml"/></Types>`;
const PACKAGE_RELATIONSHIPS = `${DECLARATION}<Relationships xmlns="${RELATIONSHIPS}"><Relationship Id="rId1" Type="${RELATIONSHIP}/officeDocument" Target="xl/workbook.xml"/></Relationships>`;
const WORKBOOK_RELATIONSHIPS =
  `${DECLARATION}<Relationships xmlns="${RELATIONSHIPS}"><Relationship Id="rId1" Type="${RELATIONSHIP}/worksheet" Target="worksheets/sheet1.xml"/>` +
  `<Relationship Id="rId2" Type="${RELATIONSHIP}/styles" Target="styles.xml"/></Relationships>`;
/** The one default style Excel expects to find. */
const STYLES =
  `${DECLARATION}<styleSheet xmlns="${MAIN}"><fonts count="1"><font><sz val="11"/><name val="Calibri"/></font></fonts>` +
  '<fills count="2"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill></fills>' +
  '<borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders>' +
  '<cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/></cellXfs>' +
  '<cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>';

const workbookXml = (name: string) =>
  `${DECLARATION}<workbook xmlns="${MAIN}" xmlns:r="${RELATIONSHIP}"><sheets><sheet name="${xmlAttribute(sheetName(name))}" sheetId="1" r:id="rId1"/></sheets></workbook>`;

/**
 * Writes a workbook of one sheet named after `name` (Excel's sheet-name rules applied): the first
 * row is the header. Returns how many rows followed it.
 */
export async function writeXlsx(rows: AsyncIterable<readonly TableCell[]>, name: string, sink: ZipSink): Promise<number> {
  const zip = new ZipWriter(sink);
  await zip.add('[Content_Types].xml', CONTENT_TYPES);
  await zip.add('_rels/.rels', PACKAGE_RELATIONSHIPS);
  await zip.add('xl/workbook.xml', workbookXml(name));
  await zip.add('xl/_rels/workbook.xml.rels', WORKBOOK_RELATIONSHIPS);
  await zip.add('xl/styles.xml', STYLES);
  const sheet = await zip.open('xl/worksheets/sheet1.xml');
  const encoder = new TextEncoder();
  let pending = `${DECLARATION}<worksheet xmlns="${MAIN}"><sheetData>`;
  let rowNumber = 0;
  let columns: string[] = [];
  for await (const row of rows) {
    if (rowNumber === 0) {
      if (row.length > MAX_COLUMNS) throw new XlsxLimitError(`An XLSX sheet has at most ${MAX_COLUMNS} columns; this export has ${row.length}. Export CSV instead.`);
      columns = row.map((_cell, i) => columnName(i));
    }
    rowNumber += 1;
    if (rowNumber > MAX_ROWS) throw new XlsxLimitError(`An XLSX sheet holds at most ${MAX_ROWS - 1} submissions below its header. Export CSV instead.`);
    pending += rowXml(rowNumber, row, columns);
    if (pending.length >= BATCH_CHARACTERS) {
      await sheet.write(encoder.encode(pending));
      pending = '';
    }
  }
  await sheet.write(encoder.encode(`${pending}</sheetData></worksheet>`));
  await sheet.close();
  await zip.finish();
  return Math.max(rowNumber - 1, 0);
}
