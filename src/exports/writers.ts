/*
 * The export formats, each written to a stream page by page with back-pressure. The database is
 * read once: the main table goes straight out, repeat tables wait in encrypted spools (spool.ts)
 * until the main one is done, then follow as their own file or sheet. Every writer ends `out` and
 * resolves once everything has been taken by its reader.
 */
import { PassThrough, type Readable, type Writable } from 'node:stream';
import { finished, pipeline } from 'node:stream/promises';
import { createInterface } from 'node:readline';
import type { TypedFields, TypedValue } from '../submissions/index.js';
import { CSV_BOM, csvLine, csvLines, csvRecord } from './csv.js';
import { emitRows, newRowState, type Cell, type ExportLayout, type ExportTable, type GeoField, type RowState, type SubmissionMeta } from './layout.js';
import type { Spool, SpoolDirectory } from './spool.js';
import { send, whenClosed } from './streams.js';
import { XlsxWriter } from './xlsx.js';

export interface ExportedSubmission {
  meta: SubmissionMeta;
  answers: TypedFields;
}

/** Pages of submissions; each page's answers are read one submission at a time, so they are short-lived. */
export type Pages = AsyncIterable<Iterable<ExportedSubmission>>;

/** A submitted file and where it goes in the ZIP. */
export interface MediaFile {
  path: string;
  open(): Promise<Readable>;
}

const headersOf = (table: ExportTable) => table.columns.map((c) => c.header);

/** Lines of one page per table (index: table position), CSV-encoded. */
function csvPage(layout: ExportLayout, page: Iterable<ExportedSubmission>, rowState: RowState, withRepeats: boolean): string[] {
  const records = layout.tables.map((): string[] => []);
  for (const { meta, answers } of page) emitRows(layout, meta, answers, rowState, withRepeats, (table, cells) => records[table.position]!.push(csvRecord(cells)));
  return records.map(csvLines);
}

/** One CSV file: the main table alone. */
export async function writeCsv(out: Writable, layout: ExportLayout, pages: Pages): Promise<void> {
  const main = layout.tables[0]!;
  const rowState = newRowState(layout);
  await send(out, CSV_BOM + csvLine(headersOf(main)));
  for await (const page of pages) await send(out, csvPage(layout, page, rowState, false)[0]!);
  out.end();
  await finished(out);
}

export function csvFileName(xmlFormId: string, table: ExportTable): string {
  return table.parent === null ? `${xmlFormId}.csv` : `${xmlFormId}-${table.name}.csv`;
}

/** A ZIP of one CSV per table (repeat rows linked to their parent by `_parent_index`), then the media files when given. */
export async function writeCsvZip(out: Writable, xmlFormId: string, layout: ExportLayout, pages: Pages, spools: SpoolDirectory, media: AsyncIterable<MediaFile> | null): Promise<void> {
  // Loaded with the first ZIP: most exports are one CSV or XLSX.
  const { default: yazl } = await import('yazl');
  const zip = new yazl.ZipFile();
  const delivered = pipeline(zip.outputStream, out);
  delivered.catch(() => {});
  const closed = whenClosed(out);
  const [main, ...repeats] = layout.tables;
  const mtime = new Date();
  const mainEntry = new PassThrough();
  zip.addReadStream(mainEntry, csvFileName(xmlFormId, main!), { mtime });
  const spooled = repeats.map(() => spools.spool());
  await Promise.race([send(mainEntry, CSV_BOM + csvLine(headersOf(main!))), closed]);
  for (const [i, table] of repeats.entries()) await spooled[i]!.write(CSV_BOM + csvLine(headersOf(table)));
  const rowState = newRowState(layout);
  for await (const page of pages) {
    const [mainText, ...repeatText] = csvPage(layout, page, rowState, repeats.length > 0);
    await Promise.race([send(mainEntry, mainText!), closed]);
    for (const [i, text] of repeatText.entries()) if (text !== '') await spooled[i]!.write(text);
  }
  mainEntry.end();
  for (const [i, table] of repeats.entries()) {
    await spooled[i]!.finish();
    zip.addReadStream(spooled[i]!.read(), csvFileName(xmlFormId, table), { mtime });
  }
  if (media) {
    // One file at a time: the next is opened only once the zip has taken the previous one.
    for await (const file of media) {
      const stream = await file.open();
      zip.addReadStream(stream, file.path, { mtime, compress: false });
      await Promise.race([finished(stream), closed]);
    }
  }
  zip.end();
  await Promise.race([delivered, closed]);
}

/** Rows of a sheet written between waits on the zip. */
const XLSX_BATCH = 500;

/** XLSX: the main table on the first sheet, each repeat on its own. */
export async function writeXlsx(out: Writable, layout: ExportLayout, pages: Pages, spools: SpoolDirectory): Promise<void> {
  const workbook = await XlsxWriter.create(out);
  const [main, ...repeats] = layout.tables;
  const mainSheet = workbook.sheet(main!.name, headersOf(main!));
  const spooled = repeats.map(() => spools.spool());
  const rowState = newRowState(layout);
  let rows = 0;
  for await (const page of pages) {
    // Repeat rows are spooled as JSON lines, to be replayed into their sheets.
    const repeatText = repeats.map(() => '');
    for (const { meta, answers } of page) {
      emitRows(layout, meta, answers, rowState, repeats.length > 0, (table, cells) => {
        if (table.parent === null) mainSheet.add(cells);
        else repeatText[table.position - 1] += `${JSON.stringify(cells)}\n`;
      });
      // Sheet XML is several times the size of the answers: it goes out in smaller batches than a
      // page, each taken by the zip before the next, so none is held long enough to outlive the
      // young generation's collections (the zip's buffers would then wait for a full collection).
      if (++rows % XLSX_BATCH === 0) await mainSheet.flush();
    }
    await mainSheet.flush();
    for (const [i, text] of repeatText.entries()) if (text !== '') await spooled[i]!.write(text);
  }
  await mainSheet.commit();
  for (const [i, table] of repeats.entries()) await replay(workbook, table, spooled[i]!);
  await workbook.finish();
}


async function replay(workbook: XlsxWriter, table: ExportTable, spool: Spool): Promise<void> {
  await spool.finish();
  const sheet = workbook.sheet(table.name, headersOf(table));
  let batch = 0;
  for await (const line of createInterface({ input: spool.read(), crlfDelay: Infinity })) {
    sheet.add(JSON.parse(line) as Cell[]);
    if (++batch % XLSX_BATCH === 0) await sheet.flush();
  }
  await sheet.commit();
}

/**
 * GeoJSON: a FeatureCollection with one feature per submission, its geometry from `geo` (null when
 * not answered) and the main table's columns as properties. `note` becomes a `fieldkeep:note`
 * member of the collection.
 */
export async function writeGeoJson(out: Writable, layout: ExportLayout, pages: Pages, geo: GeoField, name: string, note: string | null): Promise<void> {
  const main = layout.tables[0]!;
  const headers = headersOf(main);
  const rowState = newRowState(layout);
  await send(out, `{"type":"FeatureCollection","name":${JSON.stringify(name)},${note === null ? '' : `"fieldkeep:note":${JSON.stringify(note)},`}"features":[`);
  let separator = '\n';
  for await (const page of pages) {
    let text = '';
    for (const { meta, answers } of page) {
      emitRows(layout, meta, answers, rowState, false, (_table, cells) => {
        const properties: Record<string, Cell> = {};
        for (let i = 0; i < headers.length; i += 1) properties[headers[i]!] = cells[i]!;
        text += `${separator}${JSON.stringify({ type: 'Feature', geometry: geometryOf(answers[geo.path], geo.type), properties })}`;
        separator = ',\n';
      });
    }
    await send(out, text);
  }
  await send(out, '\n]}\n');
  out.end();
  await finished(out);
}

type Position = number[];

function position(point: TypedValue): Position | null {
  if (!Array.isArray(point) || typeof point[0] !== 'number' || typeof point[1] !== 'number') return null;
  const [lat, lon, alt] = point as Array<number | null>;
  // GeoJSON orders longitude first (RFC 7946); altitude only when the device gave one.
  return typeof alt === 'number' ? [lon!, lat!, alt] : [lon!, lat!];
}

export function geometryOf(answer: TypedValue | undefined, type: GeoField['type']): Record<string, unknown> | null {
  if (!Array.isArray(answer)) return null;
  if (type === 'geopoint') {
    const point = position(answer);
    return point && { type: 'Point', coordinates: point };
  }
  const points = answer.map(position);
  if (points.length === 0 || points.some((p) => p === null)) return null;
  const line = points as Position[];
  if (type === 'geotrace') return { type: 'LineString', coordinates: line };
  const [first, last] = [line[0]!, line[line.length - 1]!];
  const closed = first.length === last.length && first.every((c, i) => c === last[i]) ? line : [...line, first];
  return { type: 'Polygon', coordinates: [closed] };
}
