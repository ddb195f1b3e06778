/*
 * Field changes to a submission's instance XML, as an edit made on a phone would produce them: the
 * current version's XML with the changed answers set, a new `meta/instanceID`, and
 * `meta/deprecatedID` naming the version it replaces. Pure: bytes and values in, bytes out.
 *
 * Changes are checked against the form version's schema first: the field must be a question of
 * the form, outside repeats (an answer inside a repeat has no single path), not a meta or file
 * field, and the value must fit its type. Answers are written as ODK writes them (numbers as
 * digits, booleans `true`/`false`, a geopoint as `lat lon alt acc`, a select_multiple's choices
 * separated by spaces); null clears an answer.
 *
 * The XML is rebuilt from its element tree. The parser keeps each name's namespace but not where
 * it was declared, so the writer declares a prefix wherever the namespace in scope differs.
 */
import { AppError } from '../server/errors.js';
import { parseXmlTree, type FormField, type FormSchema, type XmlElement, type XmlNode } from '../xform/index.js';

export type ChangeValue = string | number | boolean | null | Array<string | number>;

const OPENROSA_NS = 'http://openrosa.org/xforms';
const MAX_VALUE_CHARS = 100_000;

/** The changes as the text each answer will hold, keyed by path below the root ('' clears). */
export function checkChanges(schema: FormSchema, changes: Readonly<Record<string, unknown>>): Map<string, string> {
  const prefix = `/${schema.rootName}/`;
  const byPath = new Map(schema.fields.map((f) => [f.path.slice(prefix.length), f]));
  const checked = new Map<string, string>();
  for (const [path, value] of Object.entries(changes)) {
    const field = byPath.get(path);
    if (!field) throw new AppError('submission.edit_unknown_field', `Form ${JSON.stringify(schema.formId)} has no field ${JSON.stringify(path)}; name fields by their path below the root, such as "group/question".`, { field: path });
    checkEditable(field, path);
    if (!isChangeValue(value)) {
      throw new AppError('submission.edit_invalid_value', `Field ${JSON.stringify(path)} needs text, a number, true/false, a list or null; got a ${typeof value === 'object' ? 'JSON object' : typeof value}.`, { field: path });
    }
    checked.set(path, value === null ? '' : answerText(field, path, value));
  }
  if (checked.size === 0) throw new AppError('submission.edit_invalid_value', 'Name at least one field to change.');
  return checked;
}

function isChangeValue(value: unknown): value is ChangeValue {
  const scalar = (v: unknown) => typeof v === 'string' || (typeof v === 'number' && Number.isFinite(v));
  return value === null || typeof value === 'boolean' || scalar(value) || (Array.isArray(value) && value.length <= 1000 && value.every(scalar));
}

function checkEditable(field: FormField, path: string): void {
  const refuse = (why: string) => new AppError('submission.edit_field_not_editable', `Field ${JSON.stringify(path)} cannot be changed through the API: ${why}.`, { field: path });
  if (field.kind !== 'question') throw refuse(`it is a ${field.kind}, not a question`);
  if (path === 'meta' || path.startsWith('meta/')) throw refuse('meta fields are kept by the server');
  if (field.repeat !== null) throw refuse('answers inside repeats cannot be edited this way yet');
  if (field.binary) throw refuse('it is a file; files are carried over, not replaced');
}

function answerText(field: FormField, path: string, value: Exclude<ChangeValue, null>): string {
  const invalid = (expected: string) =>
    new AppError('submission.edit_invalid_value', `Field ${JSON.stringify(path)} (${field.type}) needs ${expected}; got ${JSON.stringify(value).slice(0, 100)}.`, { field: path });
  const text = Array.isArray(value) ? null : String(value);
  if (text !== null && text.length > MAX_VALUE_CHARS) throw invalid(`at most ${MAX_VALUE_CHARS} characters`);
  switch (field.type) {
    case 'int':
      if (text === null || typeof value === 'boolean' || !/^-?\d{1,18}$/.test(text)) throw invalid('a whole number');
      return text;
    case 'decimal':
      if (text === null || typeof value === 'boolean' || !/^-?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(text)) throw invalid('a number');
      return text;
    case 'boolean':
      if (typeof value === 'boolean') return String(value);
      if (text === 'true' || text === 'false') return text;
      throw invalid('true or false');
    case 'date':
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}$/.test(value) || Number.isNaN(Date.parse(value))) throw invalid('a date written YYYY-MM-DD');
      return value;
    case 'dateTime':
      if (typeof value !== 'string' || !/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value) || Number.isNaN(Date.parse(value))) {
        throw invalid('a date and time in ISO 8601, such as 2026-05-01T09:30:00.000+02:00');
      }
      return value;
    case 'time':
      if (typeof value !== 'string' || !/^([01]\d|2[0-3]):[0-5]\d(:[0-5]\d(\.\d{1,9})?)?(Z|[+-]\d{2}:?\d{2})?$/.test(value)) throw invalid('a time such as 09:30:00.000+02:00');
      return value;
    case 'geopoint':
      return geoText([value], invalid);
    case 'geotrace':
    case 'geoshape':
      if (typeof value !== 'string') throw invalid('points "lat lon alt acc" separated by ";"');
      return geoText(value.split(';'), invalid);
    case 'select1':
      if (typeof value !== 'string') throw invalid('one choice name as text');
      checkChoices(field, [value], invalid);
      return value;
    case 'select':
    case 'odk:rank': {
      const chosen = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(/\s+/).filter(Boolean) : null;
      if (chosen === null) throw invalid('choice names as a list or separated by spaces');
      checkChoices(field, chosen, invalid);
      return chosen.join(' ');
    }
    default:
      if (typeof value !== 'string') throw invalid('text');
      return value;
  }
}

function checkChoices(field: FormField, chosen: readonly string[], invalid: (expected: string) => AppError): void {
  if (field.choices === null) return;
  const names = new Set(field.choices.map((c) => c.value));
  const unknown = chosen.find((c) => !names.has(c));
  if (unknown !== undefined) throw invalid(`one of the choices ${[...names].slice(0, 20).join(', ')}`);
}

/** Points as ODK writes them; a geopoint may be given as text or as [lat, lon, alt?, acc?]. */
function geoText(points: ReadonlyArray<Exclude<ChangeValue, null>>, invalid: (expected: string) => AppError): string {
  const written = points.map((point) => {
    const parts = Array.isArray(point) ? point.map(Number) : typeof point === 'string' ? point.trim().split(/\s+/).map(Number) : [];
    const [lat, lon] = parts;
    const fits = parts.length >= 2 && parts.length <= 4 && parts.every(Number.isFinite) && Math.abs(lat as number) <= 90 && Math.abs(lon as number) <= 180;
    if (!fits) throw invalid('a point "lat lon alt acc" (latitude -90 to 90, longitude -180 to 180; altitude and accuracy optional)');
    return parts.join(' ');
  });
  return written.join(';');
}

/**
 * The instance with `answers` set, `meta/instanceID` replaced by `newInstanceId` and
 * `meta/deprecatedID` set to `replacedInstanceId`.
 */
export function editInstance(xml: Uint8Array, answers: ReadonlyMap<string, string>, ids: { newInstanceId: string; replacedInstanceId: string }, maxBytes: number): Buffer {
  const root = parseXmlTree(xml, { maxBytes });
  const dataNs = root.prefix === '' ? root.uri : '';
  for (const [path, text] of answers) setText(descend(root, path.split('/'), { prefix: '', uri: dataNs }), text);
  const meta = descend(root, ['meta'], { prefix: 'orx', uri: OPENROSA_NS });
  const instanceIdElement = descend(meta, ['instanceID'], meta);
  setText(instanceIdElement, ids.newInstanceId);
  setText(descend(meta, ['deprecatedID'], instanceIdElement), ids.replacedInstanceId);
  return Buffer.from(`<?xml version="1.0" encoding="UTF-8"?>\n${writeElement(root, new Map([['', '']]))}`, 'utf8');
}

/** The element at `steps` below `parent` (first of each name), created where missing. */
function descend(parent: XmlElement, steps: readonly string[], naming: { prefix: string; uri: string }): XmlElement {
  let current = parent;
  for (const step of steps) {
    let next = current.children.find((c): c is XmlElement => typeof c !== 'string' && c.local === step);
    if (!next) {
      next = { name: naming.prefix ? `${naming.prefix}:${step}` : step, local: step, prefix: naming.prefix, uri: naming.uri, attributes: [], children: [] };
      current.children.push(next);
    }
    current = next;
  }
  return current;
}

function setText(element: XmlElement, text: string): void {
  element.children = text === '' ? [] : [text];
}

function writeElement(element: XmlElement, inScope: ReadonlyMap<string, string>): string {
  const scope = new Map(inScope);
  const declarations: string[] = [];
  const declare = (prefix: string, uri: string) => {
    if (prefix === 'xml' || scope.get(prefix) === uri) return;
    scope.set(prefix, uri);
    declarations.push(prefix === '' ? ` xmlns="${escapeXml(uri)}"` : ` xmlns:${prefix}="${escapeXml(uri)}"`);
  };
  declare(element.prefix, element.uri);
  for (const attribute of element.attributes) if (attribute.prefix !== '') declare(attribute.prefix, attribute.uri);
  const attributes = element.attributes.map((a) => ` ${a.name}="${escapeXml(a.value)}"`).join('');
  const open = `<${element.name}${declarations.join('')}${attributes}`;
  if (element.children.length === 0) return `${open}/>`;
  return `${open}>${element.children.map((child: XmlNode) => (typeof child === 'string' ? escapeXml(child) : writeElement(child, scope))).join('')}</${element.name}>`;
}

function escapeXml(text: string): string {
  return text.replace(/[&<>"\r]/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', '\r': '&#13;' })[c] as string);
}
