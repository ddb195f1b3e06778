export interface ReadLimits {
  /** Size of the uploaded file. */
  maxBytes: number;
  /** Entries in an .xlsx zip container. */
  maxEntries: number;
  /** Total bytes inflated from the zip (or the size of an .xls workbook stream). */
  maxUncompressedBytes: number;
  /** Largest inflated/compressed ratio allowed for a zip entry bigger than `ratioFloorBytes`. */
  maxRatio: number;
  /** Rows per sheet, counted up to the last row holding a value. */
  maxRows: number;
  /** Columns per sheet, counted up to the last column holding a value. */
  maxColumns: number;
  /** Characters in one cell (Excel itself stops at 32,767). */
  maxCellChars: number;
}

// Sized for real forms: the largest known XLSForms are a few MB with tens of thousands of
// choice rows (longer lists belong in a CSV file, select_one_from_file, which ODK Collect also
// handles far better); Excel's own cell limit is 32,767 characters. The row cap is also what
// bounds a hostile sheet: rows are read into memory before conversion, so 100,000 of them are
// refused at the 50,001st row instead of being read and converted whole.
export const defaultReadLimits: ReadLimits = Object.freeze({
  maxBytes: 20 * 1024 * 1024,
  maxEntries: 1000,
  maxUncompressedBytes: 200 * 1024 * 1024,
  maxRatio: 200,
  maxRows: 50_000,
  maxColumns: 2000,
  maxCellChars: 32_767,
});

/** Entries smaller than this are never judged by ratio: tiny XML parts compress absurdly well. */
export const ratioFloorBytes = 1024 * 1024;

/** Nesting depth of workbook XML; real parts nest under 10 deep. */
export const maxXmlDepth = 64;

/** Longest single tag, comment, CDATA section or processing instruction in workbook XML. */
export const maxXmlMarkupChars = 1024 * 1024;
