import { WorkbookError } from './errors.js';
import type { ReadLimits } from './limits.js';
import { cleanHeader, cleanValue } from './values.js';

export interface Sheet {
  name: string;
  rows: string[][];
}

/**
 * Collects one sheet's cells (any order), cleans them as pyxform does, enforces the row,
 * column and cell-length caps, and yields rows with trailing empties trimmed.
 */
export class SheetBuilder {
  private readonly rows: string[][] = [];

  constructor(
    readonly name: string,
    private readonly limits: ReadLimits,
  ) {}

  /** The error for a cell longer than allowed; readers raise it while still accumulating. */
  cellTooLong(row: number): WorkbookError {
    return this.tooLarge(row, `a cell holds more than ${this.limits.maxCellChars} characters`);
  }

  /** `row` and `col` are 0-based; row 0 is the header row. */
  set(row: number, col: number, raw: string): void {
    if (raw.length > this.limits.maxCellChars) throw this.cellTooLong(row);
    const text = row === 0 ? cleanHeader(raw) : cleanValue(raw);
    if (text === '') return;
    if (row >= this.limits.maxRows) throw this.tooLarge(row, `the sheet has more than ${this.limits.maxRows} rows`);
    if (col >= this.limits.maxColumns) throw this.tooLarge(row, `the sheet has more than ${this.limits.maxColumns} columns`);
    (this.rows[row] ??= [])[col] = text;
  }

  finish(): Sheet {
    const rows = Array.from(this.rows, (row) => Array.from(row ?? [], (cell) => cell ?? ''));
    return { name: this.name, rows };
  }

  private tooLarge(row: number, what: string): WorkbookError {
    return new WorkbookError(
      'xlsform.too_large',
      `The workbook is too large to convert: ${what} (sheet "${this.name}", row ${row + 1}). Split the form, move long choice lists to a CSV file (select_one_from_file), or remove unused rows, columns and text.`,
      { sheet: this.name, row: row + 1 },
    );
  }
}
