/*
 * Submission answers as typed JSON. The OpenRosa parser (src/xform) keeps every answer as the text
 * the phone sent, in KoBoToolbox's flattened shape (`group/question` keys, repeats as arrays of
 * objects keyed by full paths). This module reads those strings with the form's schema and gives
 * each its JSON type, so the database can compare numbers as numbers and times as times:
 *
 * - `int`, `decimal` → numbers; `boolean` → true/false;
 * - `geopoint` → [lat, lon, alt, acc] (missing parts null); `geotrace`/`geoshape` → arrays of those;
 * - `date` stays `YYYY-MM-DD`; `dateTime` becomes UTC ISO-8601 (`…Z`), so text order is time order;
 * - select_multiple stays the space-separated string (as Kobo shows it); `splitSelected` splits it;
 * - everything else, and any answer that does not read as its type, stays the string: a typed
 *   value is a convenience and must never lose what was sent.
 *
 * Pure: no IO.
 */
import type { FormField, FormSchema, SubmissionFields, SubmissionValue } from '../xform/index.js';

export type TypedValue = string | number | boolean | null | TypedValue[] | TypedFields;

export interface TypedFields {
  [path: string]: TypedValue;
}

export type Geopoint = [lat: number, lon: number, alt: number | null, acc: number | null];

/** Fields of the schema by path relative to the root (`group/question`), as keys appear in the answers. */
export function fieldsByPath(schema: FormSchema): ReadonlyMap<string, FormField> {
  const prefix = `/${schema.rootName}/`;
  return new Map(schema.fields.filter((f) => f.path.startsWith(prefix)).map((f) => [f.path.slice(prefix.length), f]));
}

export function typedAnswers(fields: SubmissionFields, schema: FormSchema): TypedFields {
  return typeObject(fields, fieldsByPath(schema));
}

/** What ingest stores in `data_json` beside `fields_json` (null, like it, for an encrypted envelope). */
export function typedAnswersJson(fieldsJson: string | null, schema: FormSchema): string | null {
  return fieldsJson === null ? null : JSON.stringify(typedAnswers(JSON.parse(fieldsJson) as SubmissionFields, schema));
}

function typeObject(fields: SubmissionFields, byPath: ReadonlyMap<string, FormField>): TypedFields {
  const typed: TypedFields = {};
  for (const [path, value] of Object.entries(fields)) typed[path] = typeValue(value, byPath.get(path), byPath);
  return typed;
}

function typeValue(value: SubmissionValue, field: FormField | undefined, byPath: ReadonlyMap<string, FormField>): TypedValue {
  if (Array.isArray(value)) return value.map((item) => typeObject(item, byPath));
  return field ? typeText(value, field.type) : value;
}

/** One answer's text read as `type` (a schema field type), or the text itself when it does not read as one. */
export function typeText(text: string, type: string): TypedValue {
  switch (type) {
    case 'int':
      return /^\s*[+-]?\d{1,15}\s*$/.test(text) ? Number(text) : text;
    case 'decimal':
      return readDecimal(text) ?? text;
    case 'boolean':
      return readBoolean(text) ?? text;
    case 'geopoint':
      return readGeopoint(text) ?? text;
    case 'geotrace':
    case 'geoshape':
      return readGeopoints(text) ?? text;
    case 'date':
      return /^\d{4}-\d\d-\d\d$/.test(text.trim()) ? text.trim() : text;
    case 'dateTime':
      return readDateTime(text) ?? text;
    default:
      return text;
  }
}

function readDecimal(text: string): number | undefined {
  if (!/^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$/.test(text)) return undefined;
  const number = Number(text);
  return Number.isFinite(number) ? number : undefined;
}

function readBoolean(text: string): boolean | undefined {
  const word = text.trim();
  if (word === 'true' || word === '1') return true;
  if (word === 'false' || word === '0') return false;
  return undefined;
}

/** `lat lon [alt [acc]]`, separated by white space, as ODK writes a geopoint. */
export function readGeopoint(text: string): Geopoint | undefined {
  const parts = text.trim().split(/\s+/);
  if (parts.length < 2 || parts.length > 4) return undefined;
  const numbers = parts.map(readDecimal);
  if (numbers.some((n) => n === undefined)) return undefined;
  const [lat, lon, alt, acc] = numbers as number[];
  if (Math.abs(lat!) > 90 || Math.abs(lon!) > 180) return undefined;
  return [lat!, lon!, alt ?? null, acc ?? null];
}

/** Points separated by `;` (a trailing `;` is allowed, as some clients write one). */
function readGeopoints(text: string): Geopoint[] | undefined {
  const points = text.split(';').map((p) => p.trim()).filter((p) => p !== '');
  if (points.length === 0) return undefined;
  const read = points.map(readGeopoint);
  return read.every((p) => p !== undefined) ? (read as Geopoint[]) : undefined;
}

/** An ISO-8601 date-time with an offset (ODK always writes one) as UTC; local times without one are left as sent. */
function readDateTime(text: string): string | undefined {
  const trimmed = text.trim();
  if (!/^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,9})?)?(Z|[+-]\d\d(:?\d\d)?)$/.test(trimmed)) return undefined;
  const withColon = trimmed.replace(/([+-]\d\d)(\d\d)$/, '$1:$2').replace(/([+-]\d\d)$/, '$1:00');
  const time = new Date(withColon);
  return Number.isNaN(time.getTime()) ? undefined : time.toISOString();
}

/** The choices of a select_multiple answer, in the order given. */
export function splitSelected(value: string): string[] {
  return value.split(/\s+/).filter((choice) => choice !== '');
}

/** Paths of select_multiple questions (`select` type) outside repeats, for presenting split values. */
export function selectMultiplePaths(schema: FormSchema): string[] {
  return [...fieldsByPath(schema)].filter(([, f]) => f.type === 'select' && f.repeat === null).map(([path]) => path);
}
