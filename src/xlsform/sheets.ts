/*
 * From the workbook's cell grid to pyxform's view of each sheet: which sheets count
 * (lower-cased names; a lone sheet of any name is the survey), the header row with its
 * empty-column cut-off, and one record per data row keyed by header.
 *
 * Then header grouping: `label::French (fr)` becomes label → {French (fr): …},
 * `bind::relevant` becomes bind → {relevant: …}, aliases such as `relevance` are resolved,
 * and smart quotes in values are straightened. A value is a string or a nested map of
 * them, in column order, as pyxform's row dictionaries are.
 */
import { XlsFormError } from './issues.js';
import { isBlank, pyStrip } from './python.js';
import type { ColumnTarget } from './vocabulary.js';
import { SUPPORTED_SHEETS } from './vocabulary.js';

export interface WorkbookSheet {
  name: string;
  rows: string[][];
}

/** A sheet as rows of header → text, with blank cells left out. Empty rows stay, for row numbers. */
export interface RawSheet {
  name: string;
  headers: string[];
  rows: Array<Map<string, string>>;
}

export interface RawWorkbook {
  sheetNames: string[];
  sheets: Map<string, RawSheet>;
}

// pyxform stops reading a sheet after this many empty columns or rows in a row.
const MAX_EMPTY_COLUMNS = 20;
const MAX_EMPTY_ROWS = 60;

export function readSheets(sheets: readonly WorkbookSheet[]): RawWorkbook {
  const result: RawWorkbook = { sheetNames: sheets.map((s) => s.name), sheets: new Map() };
  for (const sheet of sheets) {
    const key = sheet.name.toLowerCase();
    if (SUPPORTED_SHEETS.has(key)) result.sheets.set(key, readSheet(sheet));
    else if (sheets.length === 1) result.sheets.set('survey', readSheet(sheet));
  }
  return result;
}

function readSheet(sheet: WorkbookSheet): RawSheet {
  const columns = readHeaderRow(sheet.name, sheet.rows[0] ?? []);
  const rows: Array<Map<string, string>> = [];
  let emptyRun = 0;
  for (let r = 1; r < sheet.rows.length; r += 1) {
    const cells = sheet.rows[r] ?? [];
    const row = new Map<string, string>();
    columns.forEach((header, c) => {
      const value = cells[c];
      if (header !== null && value !== undefined && !isBlank(value)) row.set(header, pyStrip(value));
    });
    if (row.size === 0) {
      if (emptyRun === MAX_EMPTY_ROWS) break;
      emptyRun += 1;
    } else {
      emptyRun = 0;
    }
    rows.push(row);
  }
  rows.length -= emptyRun;
  return { name: sheet.name, headers: columns.filter((h): h is string => h !== null), rows };
}

function readHeaderRow(sheet: string, cells: readonly string[]): Array<string | null> {
  const headers: Array<string | null> = [];
  let emptyRun = 0;
  for (const cell of cells) {
    if (isBlank(cell)) {
      headers.push(null);
      if (emptyRun === MAX_EMPTY_COLUMNS) break;
      emptyRun += 1;
    } else {
      emptyRun = 0;
      const clean = pyStrip(cell).replace(/ +/g, ' ');
      if (headers.includes(clean)) {
        throw new XlsFormError('xlsform.duplicate_column', `Duplicate column header: ${clean}`, { sheet, row: 1 });
      }
      headers.push(clean);
    }
  }
  headers.length -= emptyRun;
  return headers;
}

/** `label::French (fr)` has two parts; no real header has more than a few. */
const MAX_HEADER_PARTS = 8;

export type Cell = string | CellMap;
export type CellMap = Map<string, Cell>;

/** A sheet after header grouping. `columns` lists each distinct parsed header path once. */
export interface GroupedSheet {
  columns: string[][];
  /** For each original header, its parsed path. */
  headerPaths: Map<string, string[]>;
  rows: CellMap[];
}

export interface GroupingOptions {
  sheet: string;
  aliases: ReadonlyMap<string, ColumnTarget>;
  columns: ReadonlySet<string>;
  required?: string[];
  defaultLanguage?: string;
  collapseSpaces?: boolean;
}

export function snakeCase(value: string): string {
  return value.trim().split(/\s+/).filter(Boolean).join('_').toLowerCase();
}

/** The header's parsed path, and whether parsing renamed it (an alias or a normalised spelling). */
function parseHeader(header: string, doubleColon: boolean, options: GroupingOptions): [boolean, string[]] {
  const { aliases, columns } = options;
  if (columns.has(header) && !aliases.has(header)) return [false, [header]];
  const snake = snakeCase(header);
  if (columns.has(snake) && !aliases.has(snake)) return [snake !== header, [snake]];

  let tokens: string[];
  if (doubleColon || header.includes('::')) {
    tokens = header.split('::').map((t) => t.trim());
  } else {
    tokens = header.split(':').map((t) => t.trim());
    const jr = tokens.indexOf('jr');
    if (jr >= 0) tokens = [...tokens.slice(0, jr), `jr:${tokens[jr + 1] ?? ''}`, ...tokens.slice(jr + 2)];
  }
  const first = snakeCase(tokens[0] ?? '');
  const alias = aliases.get(first);
  if (alias !== undefined) {
    const target = typeof alias === 'string' ? [alias] : [...alias];
    return [typeof alias !== 'string' || alias !== header, [...target, ...tokens.slice(1)]];
  }
  if (columns.has(first)) return [first !== header, [first, ...tokens.slice(1)]];
  return [false, tokens];
}

const SMART_QUOTES: Record<string, string> = { '\u2018': "'", '\u2019': "'", '\u201c': '"', '\u201d': '"' };

const SMART_QUOTE = /[\u2018\u2019\u201c\u201d]/;

/** Straightens smart quotes; for the survey sheet (by default) also collapses runs of spaces. */
export function cleanText(value: string, collapseSpaces: boolean): string {
  let text = value;
  if (collapseSpaces && (text.includes('  ') || text !== pyStrip(text))) text = pyStrip(text).replace(/ +/g, ' ');
  return SMART_QUOTE.test(text) ? text.replace(/[\u2018\u2019\u201c\u201d]/g, (q) => SMART_QUOTES[q] ?? q) : text;
}

/** pyxform's recursive merge of two row fragments; plain values meeting maps join under the default language. */
function merge(a: Cell | undefined, b: Cell | undefined, defaultKey: string): Cell | undefined {
  if (a === undefined || a === '' || (a instanceof Map && a.size === 0)) return b;
  if (b === undefined || b === '' || (b instanceof Map && b.size === 0)) return a;
  let left = a;
  let right = b;
  if (typeof left === 'string') {
    if (containsKey(right, defaultKey)) return right;
    left = new Map([[defaultKey, left]]);
  }
  if (typeof right === 'string') {
    if (containsKey(left, defaultKey)) return left;
    right = new Map([[defaultKey, right]]);
  }
  const out = left;
  const keys = new Set([...left.keys(), ...right.keys()]);
  for (const key of keys) {
    const merged = merge(left.get(key), right.get(key), defaultKey);
    if (merged !== undefined) out.set(key, merged);
  }
  return out;
}

// Python's `key in value` is a substring test on strings and a key test on dicts.
function containsKey(value: Cell, key: string): boolean {
  return typeof value === 'string' ? value.includes(key) : value.has(key);
}

/**
 * Puts a value at a header path. Equivalent to merging `{path: value}` into the row, but
 * walks the existing maps directly; pyxform's merge rules apply only where a plain value
 * meets a map (`label` next to `label::French`).
 */
function insertPath(row: CellMap, tokens: string[], value: string, defaultKey: string): void {
  let node = row;
  const last = tokens.length - 1;
  for (let i = 0; i < last; i += 1) {
    const key = tokens[i] ?? '';
    const existing = node.get(key);
    if (existing instanceof Map) {
      node = existing;
    } else if (existing === undefined) {
      const created: CellMap = new Map();
      node.set(key, created);
      node = created;
    } else {
      node.set(key, merge(existing, nest(tokens.slice(i + 1), value), defaultKey) ?? existing);
      return;
    }
  }
  const key = tokens[last] ?? '';
  const existing = node.get(key);
  // A single-token header replaces outright (pyxform assigns it); deeper ones merge.
  node.set(key, existing === undefined || last === 0 ? value : (merge(existing, value, defaultKey) ?? value));
}

function nest(tokens: string[], value: string): Cell {
  let cell: Cell = value;
  for (let i = tokens.length - 1; i >= 0; i -= 1) cell = new Map([[tokens[i] ?? '', cell]]);
  return cell;
}

export function groupHeaders(sheet: RawSheet | undefined, options: GroupingOptions): GroupedSheet {
  const headerPaths = new Map<string, string[]>();
  const pathOwners = new Map<string, string>();
  const headers = sheet?.headers ?? [];
  const doubleColon = headers.some((h) => h.includes('::'));
  for (const header of headers) {
    if (headerPaths.has(header)) continue;
    const [renamed, tokens] = parseHeader(header, doubleColon, options);
    if (tokens.length > MAX_HEADER_PARTS) {
      throw new XlsFormError(
        'xlsform.bad_column',
        `Invalid headers provided for sheet: '${options.sheet}'. The header '${header.slice(0, 80)}' has more than ${MAX_HEADER_PARTS} parts separated by ':' or '::'. Rename the column.`,
        { sheet: options.sheet, row: 1 },
      );
    }
    const key = tokens.join('\u0000');
    const other = pathOwners.get(key);
    if (other !== undefined && renamed) {
      throw new XlsFormError(
        'xlsform.duplicate_column',
        `Invalid headers provided for sheet: '${options.sheet}'. Headers that are different names for the same column were found: '${other}', '${header}'. Rename or remove one of these columns.`,
        { sheet: options.sheet, row: 1 },
      );
    }
    headerPaths.set(header, tokens);
    pathOwners.set(key, header);
  }

  const defaultKey = options.defaultLanguage ?? 'default';
  const rows = (sheet?.rows ?? []).map((raw) => {
    const out: CellMap = new Map();
    for (const [header, rawValue] of raw) {
      const value = cleanText(rawValue, options.collapseSpaces ?? false);
      const tokens = headerPaths.get(header) ?? [header];
      insertPath(out, tokens, value, defaultKey);
    }
    return out;
  });

  const columns = [...pathOwners.keys()].map((key) => key.split('\u0000'));
  if (options.required && (rows.length > 0 || options.sheet === 'survey')) {
    const present = new Set(columns.map((c) => c[0]));
    const missing = options.required.filter((h) => !present.has(h));
    if (missing.length > 0) {
      throw new XlsFormError(
        'xlsform.missing_column',
        `Invalid headers provided for sheet: '${options.sheet}'. One or more required column headers were not found: ${missing.map((m) => `'${m}'`).join(', ')}. Learn more: https://xlsform.org/en/#setting-up-your-worksheets`,
        { sheet: options.sheet, row: 1 },
      );
    }
  }
  return { columns, headerPaths, rows };
}

/** A cell as plain text, or undefined when absent or a nested map. */
export function text(row: CellMap | undefined, key: string): string | undefined {
  const value = row?.get(key);
  return typeof value === 'string' ? value : undefined;
}

export function subMap(row: CellMap | undefined, key: string): CellMap | undefined {
  const value = row?.get(key);
  return value instanceof Map ? value : undefined;
}
