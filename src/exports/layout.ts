/*
 * The shape of an export, worked out once from the form's schemas and the options before any row
 * is read: a main table and one table per repeat (nested repeats under their parent), each with
 * its columns, named as KoBoToolbox names them (`_id`, `_uuid`, `_submission_time`, …; repeat
 * rows carry `_index`, `_parent_table_name`, `_parent_index` and `_submission__*`). Then each
 * submission's typed answers (src/submissions/typed-values.ts) are turned into rows of those
 * tables by `emitRows`, which every format shares.
 *
 * Pure: no IO.
 */
import type { SignatureVerdict } from '../crypto/index.js';
import { AppError } from '../server/errors.js';
import { koboValidationStatus, koboValidationUid, type ReviewStatus, type TypedFields, type TypedValue } from '../submissions/index.js';
import { DEFAULT_LANGUAGE, type Choice, type FormField, type FormSchema, type LocalizedText } from '../xform/index.js';
import type { ExportOptions } from './options.js';
import { sheetName, type SheetCell } from './spreadsheetml.js';

export type Cell = SheetCell;

/** What a row needs to know of its submission besides the answers. */
export interface SubmissionMeta {
  id: number;
  uuid: string;
  /** Kobo's `_submission_time`: UTC, to the second, without a zone. */
  submissionTime: string;
  reviewStatus: ReviewStatus | null;
  submittedBy: string | null;
  version: string;
  deletedAt: string | null;
  encrypted: boolean;
  /** For an encrypted submission in an export decrypted on the server: how that went. */
  decryption?: DecryptionOutcome;
}

export interface DecryptionOutcome {
  /** The element signature's verdict; null when the submission could not be decrypted. */
  signature: SignatureVerdict | null;
  /** Why the submission could not be decrypted (it is then exported as metadata only). */
  error: string | null;
}

interface RowSource {
  /** The answers at this table's level: the submission's, or one repeat item's. */
  item: TypedFields;
  meta: SubmissionMeta;
  index: number;
  parentIndex: number;
}

export interface Column {
  header: string;
  cell(source: RowSource): Cell;
}

export interface ExportTable {
  /** Sheet name (unique, at most 31 characters, as Excel requires), also `_parent_table_name`. */
  name: string;
  /** The repeat's path relative to the form root (the key of its items in the answers); null for the main table. */
  path: string | null;
  parent: ExportTable | null;
  children: ExportTable[];
  columns: Column[];
  /** Position in `ExportLayout.tables`. */
  position: number;
}

/** A geopoint, geotrace or geoshape question outside repeats, for GeoJSON geometries. */
export interface GeoField {
  path: string;
  type: 'geopoint' | 'geotrace' | 'geoshape';
}

export interface ExportLayout {
  /** The main table first, then repeats in form order (a parent before its children). */
  tables: ExportTable[];
  geoFields: GeoField[];
  language: string;
}

export interface LayoutInput {
  xmlFormId: string;
  /** The current version's schema first, then older versions, newest first. */
  schemas: readonly FormSchema[];
  options: ExportOptions;
  /** Whether any exported submission is encrypted: adds the `_encrypted` column. */
  encrypted: boolean;
  /** Whether encrypted submissions are decrypted on the server: adds `_signature` and `_decryption_error`. */
  decrypted?: boolean;
}

/** One field of the merged schemas, with paths relative to the form root. */
interface MergedField {
  path: string;
  /** The repeat whose table the field belongs to (for a repeat: the one enclosing it); null for the main table. */
  repeat: string | null;
  field: FormField;
}

export function buildLayout(input: LayoutInput): ExportLayout {
  const { options } = input;
  const current = input.schemas[0];
  if (!current) throw new AppError('form.not_published');
  const merged = mergeFields(options.allVersions ? input.schemas : [current]);
  const byPath = new Map(merged.map((f) => [f.path, f]));
  const language = chooseLanguage(input.schemas, options.language, current);
  const selected = fieldSelection(merged, options.fields);
  const naming = new Naming(options, language, byPath);

  const main: ExportTable = { name: sheetName(input.xmlFormId), path: null, parent: null, children: [], columns: [], position: 0 };
  const tables: ExportTable[] = [main];
  const tableOf = new Map<string | null, ExportTable>([[null, main]]);
  const usedNames = new Set([main.name]);
  const tableFor = (repeatPath: string | null): ExportTable => {
    const existing = tableOf.get(repeatPath);
    if (existing) return existing;
    const repeat = byPath.get(repeatPath!)!;
    // Made on first use, parent first, so the list always has a parent before its children.
    const parent = tableFor(repeat.repeat);
    const table: ExportTable = { name: uniqueName(sheetName(repeat.field.name), usedNames), path: repeat.path, parent, children: [], columns: [], position: tables.length };
    parent.children.push(table);
    tables.push(table);
    tableOf.set(repeatPath, table);
    return table;
  };
  for (const entry of merged) {
    if (entry.field.kind === 'repeat' && selected(entry.path)) tableFor(entry.path);
    if (entry.field.kind !== 'question' || !selected(entry.path)) continue;
    tableFor(entry.repeat).columns.push(...questionColumns(entry, naming, options));
  }
  for (const table of tables) table.columns.push(...(table.parent === null ? mainSystemColumns(options, input.encrypted, input.decrypted === true) : repeatSystemColumns(table.parent, options)));

  const geoFields = merged
    .filter((f) => f.repeat === null && (f.field.type === 'geopoint' || f.field.type === 'geotrace' || f.field.type === 'geoshape'))
    .map((f) => ({ path: f.path, type: f.field.type as GeoField['type'] }));
  return { tables, geoFields, language };
}

/**
 * The fields of every given version, the first schema's in its order; a field only older versions
 * have is placed after the field that precedes it there. Choices of a select are the union, newest
 * labels first.
 */
function mergeFields(schemas: readonly FormSchema[]): MergedField[] {
  const merged: MergedField[] = [];
  const index = new Map<string, MergedField>();
  for (const schema of schemas) {
    const prefix = `/${schema.rootName}/`;
    const relative = (path: string | null) => (path === null ? null : path.slice(prefix.length));
    let after: MergedField | undefined;
    for (const field of schema.fields) {
      const path = relative(field.path)!;
      if (path === 'meta' || path.startsWith('meta/') || !field.path.startsWith(prefix)) continue;
      const known = index.get(path);
      if (known) {
        if (known.field.choices && field.choices) known.field = { ...known.field, choices: unionChoices(known.field.choices, field.choices) };
        after = known;
        continue;
      }
      const entry: MergedField = { path, repeat: relative(field.repeat === field.path ? parentRepeatOf(field, schema) : field.repeat), field };
      merged.splice(after ? merged.indexOf(after) + 1 : merged.length, 0, entry);
      index.set(path, entry);
      after = entry;
    }
  }
  return merged;
}

/** For a repeat field (whose `repeat` is itself): the repeat that encloses it, if any. */
function parentRepeatOf(field: FormField, schema: FormSchema): string | null {
  return field.parent === null ? null : (schema.fields.find((f) => f.path === field.parent)?.repeat ?? null);
}

function unionChoices(newer: readonly Choice[], older: readonly Choice[]): Choice[] {
  const values = new Set(newer.map((c) => c.value));
  return [...newer, ...older.filter((c) => !values.has(c.value))];
}

function chooseLanguage(schemas: readonly FormSchema[], asked: string | null, current: FormSchema): string {
  if (asked === null) return current.defaultLanguage ?? current.languages[0] ?? DEFAULT_LANGUAGE;
  const known = new Set(schemas.flatMap((s) => s.languages));
  if (asked !== DEFAULT_LANGUAGE && !known.has(asked)) {
    throw new AppError('export.unknown_language', `The form has no language ${JSON.stringify(asked)}; it has ${[...known].map((l) => JSON.stringify(l)).join(', ') || 'no translations'}.`);
  }
  return asked;
}

function fieldSelection(merged: readonly MergedField[], fields: readonly string[] | null): (path: string) => boolean {
  if (fields === null) return () => true;
  const known = new Set(merged.map((f) => f.path));
  const unknown = fields.filter((f) => !known.has(f));
  if (unknown.length > 0) throw new AppError('export.unknown_field', `The form has no field ${unknown.slice(0, 5).map((f) => JSON.stringify(f)).join(', ')}.`);
  // A repeat is kept when anything inside it is chosen, so its rows can still be linked.
  return (path) => fields.some((f) => path === f || path.startsWith(`${f}/`) || f.startsWith(`${path}/`));
}

function labelIn(labels: LocalizedText, language: string): string | undefined {
  return labels[language] ?? labels[DEFAULT_LANGUAGE] ?? Object.values(labels)[0];
}

/** How headers and values read under the options. */
class Naming {
  constructor(
    readonly options: ExportOptions,
    readonly language: string,
    readonly byPath: ReadonlyMap<string, MergedField>,
  ) {}

  header(entry: MergedField): string {
    const own = this.step(entry);
    if (!this.options.groupNames) return own;
    const steps: string[] = [];
    for (let at = entry.path.indexOf('/'); at !== -1; at = entry.path.indexOf('/', at + 1)) {
      const ancestor = this.byPath.get(entry.path.slice(0, at));
      steps.push(ancestor ? this.step(ancestor) : entry.path.slice(entry.path.lastIndexOf('/', at - 1) + 1, at));
    }
    return [...steps, own].join(this.options.groupSeparator);
  }

  private step(entry: MergedField): string {
    return this.options.headers === 'labels' ? (labelIn(entry.field.labels, this.language) ?? entry.field.name) : entry.field.name;
  }

  choiceLabels(field: FormField): ReadonlyMap<string, string> {
    return new Map((field.choices ?? []).map((c) => [c.value, labelIn(c.labels, this.language) ?? c.value]));
  }

  choiceHeader(choice: Choice): string {
    return this.options.headers === 'labels' ? (labelIn(choice.labels, this.language) ?? choice.value) : choice.value;
  }
}

function questionColumns(entry: MergedField, naming: Naming, options: ExportOptions): Column[] {
  const { path, field } = entry;
  const header = naming.header(entry);
  const labels = options.values === 'labels' && field.choices ? naming.choiceLabels(field) : null;
  if (field.type === 'select') {
    const columns: Column[] = [];
    if (options.selectMultiple !== 'details') {
      columns.push({ header, cell: ({ item }) => selectedCell(item[path], labels) });
    }
    if (options.selectMultiple !== 'summary') {
      for (const choice of field.choices ?? []) {
        const value = choice.value;
        columns.push({
          header: `${header}${options.groupSeparator}${naming.choiceHeader(choice)}`,
          cell: ({ item }) => {
            const answer = item[path];
            return typeof answer === 'string' ? (answer.split(' ').includes(value) ? 1 : 0) : null;
          },
        });
      }
    }
    return columns;
  }
  const answer: Column = { header, cell: ({ item }) => answerCell(item[path], labels) };
  if (field.type !== 'geopoint') return [answer];
  const part = (name: string, i: number): Column => ({
    header: `_${header}_${name}`,
    cell: ({ item }) => {
      const point = item[path];
      return Array.isArray(point) && typeof point[i] === 'number' ? point[i] : null;
    },
  });
  return [answer, part('latitude', 0), part('longitude', 1), part('altitude', 2), part('precision', 3)];
}

function selectedCell(answer: TypedValue | undefined, labels: ReadonlyMap<string, string> | null): Cell {
  if (typeof answer !== 'string') return answerCell(answer, null);
  return labels === null ? answer : answer.split(' ').filter((v) => v !== '').map((v) => labels.get(v) ?? v).join(' ');
}

/** A typed answer as one cell: numbers stay numbers, geo answers read as ODK writes them. */
export function answerCell(answer: TypedValue | undefined, labels: ReadonlyMap<string, string> | null): Cell {
  if (answer === undefined || answer === null) return null;
  if (typeof answer === 'number') return answer;
  if (typeof answer === 'string') return labels?.get(answer) ?? answer;
  if (typeof answer === 'boolean') return String(answer);
  if (Array.isArray(answer)) {
    if (answer.every((p) => typeof p === 'number' || p === null)) return pointText(answer);
    if (answer.every(Array.isArray)) return answer.map((p) => pointText(p as TypedValue[])).join(';');
  }
  return JSON.stringify(answer);
}

function pointText(point: readonly TypedValue[]): string {
  return point.filter((p) => p !== null).join(' ');
}

function validationCell(status: ReviewStatus | null, options: ExportOptions): Cell {
  if (status === null) return null;
  if (options.values === 'xml') return koboValidationUid(status);
  const shown = koboValidationStatus(status, null, null);
  return 'label' in shown ? shown.label : null;
}

function mainSystemColumns(options: ExportOptions, encrypted: boolean, decrypted: boolean): Column[] {
  const columns: Column[] = [
    { header: '_id', cell: ({ meta }) => meta.id },
    { header: '_uuid', cell: ({ meta }) => meta.uuid },
    { header: '_submission_time', cell: ({ meta }) => meta.submissionTime },
    { header: '_validation_status', cell: ({ meta }) => validationCell(meta.reviewStatus, options) },
    { header: '_submitted_by', cell: ({ meta }) => meta.submittedBy },
    { header: '__version__', cell: ({ meta }) => meta.version },
  ];
  if (options.includeDeleted) columns.push({ header: '_deleted_at', cell: ({ meta }) => meta.deletedAt });
  // Encrypted submissions are exported as metadata only unless decrypted on the server; this column says which rows were sent encrypted.
  if (encrypted) columns.push({ header: '_encrypted', cell: ({ meta }) => String(meta.encrypted) });
  if (encrypted && decrypted) {
    columns.push({ header: '_signature', cell: ({ meta }) => meta.decryption?.signature ?? null }, { header: '_decryption_error', cell: ({ meta }) => meta.decryption?.error ?? null });
  }
  columns.push({ header: '_index', cell: ({ index }) => index });
  return columns;
}

function repeatSystemColumns(parent: ExportTable, options: ExportOptions): Column[] {
  return [
    { header: '_index', cell: ({ index }) => index },
    { header: '_parent_table_name', cell: () => parent.name },
    { header: '_parent_index', cell: ({ parentIndex }) => parentIndex },
    { header: '_submission__id', cell: ({ meta }) => meta.id },
    { header: '_submission__uuid', cell: ({ meta }) => meta.uuid },
    { header: '_submission__submission_time', cell: ({ meta }) => meta.submissionTime },
    { header: '_submission__validation_status', cell: ({ meta }) => validationCell(meta.reviewStatus, options) },
    { header: '_submission__submitted_by', cell: ({ meta }) => meta.submittedBy },
    { header: '_submission___version__', cell: ({ meta }) => meta.version },
  ];
}

function uniqueName(name: string, used: Set<string>): string {
  let candidate = name;
  for (let n = 2; used.has(candidate.toLowerCase()) || used.has(candidate); n += 1) candidate = `${name.slice(0, 31 - String(n).length - 1)}_${n}`;
  used.add(candidate);
  used.add(candidate.toLowerCase());
  return candidate;
}

/**
 * What `emitRows` keeps from one submission to the next in an export: the row number each table
 * has reached, so `_index` and `_parent_index` run across the export, and per table one row of
 * cells, refilled for every row rather than made anew.
 */
export interface RowState {
  counters: number[];
  cells: Cell[][];
}

export function newRowState(layout: ExportLayout): RowState {
  return { counters: layout.tables.map(() => 0), cells: layout.tables.map((t) => new Array<Cell>(t.columns.length).fill(null)) };
}

/** Receives a row of `table`; `cells` is refilled for the next row, so it is used before returning, never kept. */
export type EmitRow = (table: ExportTable, cells: readonly Cell[]) => void;

/**
 * A submission's rows: its main row, then the rows of its repeat items (depth first), each given
 * to `emit` with the table it belongs to. `withRepeats` false emits the main row alone.
 */
export function emitRows(layout: ExportLayout, meta: SubmissionMeta, answers: TypedFields, state: RowState, withRepeats: boolean, emit: EmitRow): void {
  const main = layout.tables[0]!;
  const index = ++state.counters[0]!;
  emit(main, cellsOf(main, state, answers, meta, index, 0));
  if (withRepeats) descend(main, answers, index, meta, state, emit);
}

function descend(table: ExportTable, item: TypedFields, index: number, meta: SubmissionMeta, state: RowState, emit: EmitRow): void {
  for (const child of table.children) {
    const items = item[child.path!];
    if (!Array.isArray(items)) continue;
    for (const entry of items) {
      if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) continue;
      const childIndex = ++state.counters[child.position]!;
      emit(child, cellsOf(child, state, entry, meta, childIndex, index));
      descend(child, entry, childIndex, meta, state, emit);
    }
  }
}

function cellsOf(table: ExportTable, state: RowState, item: TypedFields, meta: SubmissionMeta, index: number, parentIndex: number): Cell[] {
  const source: RowSource = { item, meta, index, parentIndex };
  const cells = state.cells[table.position]!;
  const columns = table.columns;
  for (let i = 0; i < columns.length; i += 1) cells[i] = columns[i]!.cell(source);
  return cells;
}
