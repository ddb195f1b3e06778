/*
 * XLSX through exceljs' streaming WorkbookWriter: a sheet per table, numbers as number cells and
 * everything else as inline text (spreadsheetml.ts, shared with the browser's decrypted exports),
 * no styles and no shared strings, so nothing is kept per row.
 *
 * exceljs writes the workbook (parts, relationships, content types, the zip) and each sheet's
 * frame and header row. The data rows are written into the sheet's part here, as SpreadsheetML
 * `<row>` elements: exceljs builds a Row and a Cell object per value and renders them through its
 * generic XML writer, which holds it below 20,000 rows a second on a 20-question form, while
 * writing the same XML directly is several times faster.
 *
 * exceljs hands each part to its zip through an internal buffer (`StreamBuf`) that accepts every
 * write and never signals back-pressure, so a slow reader would make it hold the whole sheet in
 * memory. `_openStream` is therefore replaced by one that gives exceljs an ordinary stream: the
 * zip reads it with back-pressure, and the export waits on it (`flush`) after each batch of rows.
 * exceljs is pinned (4.4.0) because this relies on that method, on the sheet data being open
 * once the header row is committed, and on where its streaming writer's module lies.
 */
import { createRequire } from 'node:module';
import { PassThrough, type Readable, type Writable } from 'node:stream';
import type ExcelJS from 'exceljs';
import type { Cell } from './layout.js';
import { columnName, rowXml } from './spreadsheetml.js';
import { drained, whenClosed } from './streams.js';

/** An XML part of the workbook as exceljs writes it: text, bytes or its own reusable string buffer. */
type PartChunk = string | Buffer | { toBuffer(): Buffer };

/**
 * exceljs reuses its string buffer after each write, so the bytes are copied at once rather than
 * when the stream gets round to them.
 */
class PartStream extends PassThrough {
  override write(chunk: PartChunk, ...rest: any[]): boolean {
    const bytes = typeof chunk === 'string' || Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk.toBuffer());
    return super.write(bytes, ...(rest as []));
  }
}

interface FlowingWorkbookWriter extends ExcelJS.stream.xlsx.WorkbookWriter {
  /** The part exceljs opened last: the sheet being written. */
  current: PartStream | undefined;
}

type WriterOptions = ConstructorParameters<typeof ExcelJS.stream.xlsx.WorkbookWriter>[0];

let writerClass: (new (options: WriterOptions) => FlowingWorkbookWriter) | undefined;

/**
 * exceljs is loaded on the first XLSX export, and only its streaming workbook writer (what it
 * needs, not the whole library: about 15 MB rather than 27 MB), which a server exporting no XLSX
 * never needs.
 */
function flowingWorkbookWriter(): new (options: WriterOptions) => FlowingWorkbookWriter {
  if (writerClass) return writerClass;
  const WorkbookWriter = createRequire(import.meta.url)('exceljs/lib/stream/xlsx/workbook-writer.js') as typeof ExcelJS.stream.xlsx.WorkbookWriter;
  writerClass = class extends WorkbookWriter implements FlowingWorkbookWriter {
    declare zip: { append(source: Readable, data: { name: string }): void };
    current: PartStream | undefined;

    _openStream(path: string): PartStream {
      const stream = new PartStream();
      this.zip.append(stream, { name: path });
      // exceljs waits for this event before it finishes the workbook.
      stream.on('finish', () => stream.emit('zipped'));
      this.current = stream;
      return stream;
    }
  };
  return writerClass;
}

export interface SheetWriter {
  add(cells: readonly Cell[]): void;
  /** Hands the rows added so far to the zip, and waits while it is behind. */
  flush(): Promise<void>;
  commit(): Promise<void>;
}

export class XlsxWriter {
  private constructor(
    private readonly workbook: FlowingWorkbookWriter,
    private readonly closed: Promise<never>,
  ) {}

  static async create(out: Writable): Promise<XlsxWriter> {
    const Writer = flowingWorkbookWriter();
    return new XlsxWriter(new Writer({ stream: out, useStyles: false, useSharedStrings: false, zip: { zlib: { level: 1 } } }), whenClosed(out));
  }

  /** Sheets must be written one after the other: the zip takes one part at a time. */
  sheet(name: string, headers: readonly string[]): SheetWriter {
    const worksheet = this.workbook.addWorksheet(name);
    worksheet.addRow([...headers]).commit();
    const part = this.workbook.current!;
    const columns = headers.map((_h, i) => columnName(i));
    let rowNumber = 1;
    let pending = '';
    const flush = () => {
      if (pending !== '') part.write(pending);
      pending = '';
      return Promise.race([drained(part), this.closed]);
    };
    return {
      add: (cells) => (pending += rowXml(++rowNumber, cells, columns)),
      flush,
      commit: async () => {
        await flush();
        worksheet.commit();
      },
    };
  }

  async finish(): Promise<void> {
    await this.workbook.commit();
  }
}
