/*
 * Filters on submission data, written as the MongoDB-style JSON that KoBoToolbox's API v2 takes in
 * `query` (and Fieldkeep's own data API takes in `filter`), parsed into a small tree that the
 * queries turn into parameterised SQL.
 *
 * Supported: implicit AND of the keys of an object; `$and`, `$or`; a bare value (equality; `null`
 * means "no answer", as in MongoDB); `$eq`, `$ne`, `$gt`, `$gte`, `$lt`, `$lte`, `$in`, `$nin`,
 * `$exists`; `$regex` (with `$options: "i"`) for the patterns people actually send — a literal
 * text, optionally anchored with `^` and/or `$` — and Fieldkeep's `$contains`. Anything else is
 * refused with the operator named: answering a query we cannot evaluate exactly would silently
 * give the wrong rows. Regular expressions are never run, so no pattern can hang the server.
 *
 * Comparison follows the operand's type: a number compares with answers typed as numbers; a string
 * compares with the answer's text. Pure: no IO.
 */
import { AppError } from '../server/errors.js';

export type Scalar = string | number;

export type Filter =
  | { kind: 'and' | 'or'; of: Filter[] }
  | { kind: 'compare'; field: string; op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte'; value: Scalar }
  | { kind: 'in'; field: string; values: Scalar[]; negated: boolean }
  | { kind: 'exists'; field: string; exists: boolean }
  | { kind: 'text'; field: string; match: 'exact' | 'prefix' | 'suffix' | 'contains'; text: string; caseInsensitive: boolean };

export const FILTER_LIMITS = { maxQueryChars: 20_000, maxDepth: 8, maxConditions: 200, maxInValues: 1000, maxTextChars: 1000 } as const;

/** A field name as it may appear in a filter, sort or field list: a Kobo path or a system field. */
export const FIELD_NAME = /^[A-Za-z_][A-Za-z0-9_.:\-/]{0,254}$/;

const COMPARISONS = { $eq: 'eq', $ne: 'ne', $gt: 'gt', $gte: 'gte', $lt: 'lt', $lte: 'lte' } as const;

export function parseFilter(text: string): Filter {
  if (text.length > FILTER_LIMITS.maxQueryChars) invalid(`The query is longer than ${FILTER_LIMITS.maxQueryChars} characters.`);
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch {
    invalid('The query is not valid JSON, e.g. {"district": "north", "age": {"$gte": 18}}.');
  }
  const budget = { conditions: 0 };
  return parseObject(json, 1, budget);
}

function parseObject(json: unknown, depth: number, budget: { conditions: number }): Filter {
  if (depth > FILTER_LIMITS.maxDepth) invalid(`The query nests deeper than ${FILTER_LIMITS.maxDepth} levels.`);
  if (!isPlainObject(json)) invalid('A query (and each item of $and / $or) must be a JSON object.');
  const parts: Filter[] = [];
  for (const [key, value] of Object.entries(json)) {
    if (key === '$and' || key === '$or') parts.push({ kind: key === '$and' ? 'and' : 'or', of: parseList(key, value, depth, budget) });
    else if (key.startsWith('$')) unsupported(`The operator ${key} is not supported at the top of a query; use $and, $or or a field name.`);
    else parts.push(...parseField(fieldName(key), value, budget));
  }
  return parts.length === 1 ? parts[0]! : { kind: 'and', of: parts };
}

function parseList(key: string, value: unknown, depth: number, budget: { conditions: number }): Filter[] {
  if (!Array.isArray(value) || value.length === 0) invalid(`${key} takes a non-empty array of queries.`);
  return value.map((item) => parseObject(item, depth + 1, budget));
}

function parseField(field: string, value: unknown, budget: { conditions: number }): Filter[] {
  count(budget);
  if (!isPlainObject(value)) return [equality(field, value)];
  const entries = Object.entries(value);
  if (entries.length === 0) invalid(`The condition on ${field} is an empty object.`);
  const options = value.$options;
  if (options !== undefined && value.$regex === undefined) invalid(`$options on ${field} only goes with $regex.`);
  const parts: Filter[] = [];
  for (const [op, operand] of entries) {
    if (op === '$options') continue;
    if (op in COMPARISONS) parts.push(comparison(field, COMPARISONS[op as keyof typeof COMPARISONS], operand));
    else if (op === '$in' || op === '$nin') parts.push(membership(field, op, operand));
    else if (op === '$exists') parts.push(existence(field, operand));
    else if (op === '$regex') parts.push(regex(field, operand, options));
    else if (op === '$contains') parts.push({ kind: 'text', field, match: 'contains', text: textOperand(field, op, operand), caseInsensitive: false });
    else if (op.startsWith('$')) unsupported(`The operator ${op} (on ${field}) is not supported; use $eq, $ne, $gt, $gte, $lt, $lte, $in, $nin, $exists, $regex or $contains.`);
    else unsupported(`The condition on ${field} is an object without operators; matching whole sub-documents is not supported.`);
  }
  return parts;
}

function equality(field: string, value: unknown): Filter {
  if (value === null) return { kind: 'exists', field, exists: false };
  return { kind: 'compare', field, op: 'eq', value: scalar(field, '$eq', value) };
}

function comparison(field: string, op: 'eq' | 'ne' | 'gt' | 'gte' | 'lt' | 'lte', operand: unknown): Filter {
  if (operand === null && (op === 'eq' || op === 'ne')) return { kind: 'exists', field, exists: op === 'ne' };
  return { kind: 'compare', field, op, value: scalar(field, `$${op}`, operand) };
}

function membership(field: string, op: '$in' | '$nin', operand: unknown): Filter {
  if (!Array.isArray(operand) || operand.length === 0) invalid(`${op} on ${field} takes a non-empty array.`);
  if (operand.length > FILTER_LIMITS.maxInValues) invalid(`${op} on ${field} has more than ${FILTER_LIMITS.maxInValues} values.`);
  return { kind: 'in', field, values: operand.map((v) => scalar(field, op, v)), negated: op === '$nin' };
}

function existence(field: string, operand: unknown): Filter {
  if (typeof operand !== 'boolean' && operand !== 0 && operand !== 1) invalid(`$exists on ${field} takes true or false.`);
  return { kind: 'exists', field, exists: Boolean(operand) };
}

/**
 * A regular expression that is a literal text, optionally anchored: `^abc`, `abc$`, `^abc$`, `abc`
 * (escaped metacharacters such as `\.` are literal). Anything needing a regex engine is refused.
 */
function regex(field: string, operand: unknown, options: unknown): Filter {
  const pattern = textOperand(field, '$regex', operand);
  if (options !== undefined && options !== '' && options !== 'i') unsupported(`$options "${String(options)}" on ${field} is not supported; only "i" (ignore case) is.`);
  const anchoredStart = pattern.startsWith('^');
  const anchoredEnd = pattern.endsWith('$') && !pattern.endsWith('\\$');
  const body = pattern.slice(anchoredStart ? 1 : 0, anchoredEnd ? -1 : undefined);
  const literal = body.replace(/\\(.)|([.*+?()[\]{}|^$\\])/gs, (whole, escaped: string | undefined, meta: string | undefined) => {
    if (meta !== undefined) unsupported(`The $regex on ${field} uses "${meta}"; only literal text, optionally anchored with ^ and $, is supported (e.g. "^abc", "abc$", "abc").`);
    if (/[A-Za-z0-9]/.test(escaped!)) unsupported(`The $regex on ${field} uses "\\${escaped}"; character classes are not supported.`);
    return escaped!;
  });
  const match = anchoredStart && anchoredEnd ? 'exact' : anchoredStart ? 'prefix' : anchoredEnd ? 'suffix' : 'contains';
  return { kind: 'text', field, match, text: literal, caseInsensitive: options === 'i' };
}

function scalar(field: string, op: string, value: unknown): Scalar {
  if (typeof value === 'string') return text(field, op, value);
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (typeof value === 'boolean') return String(value);
  return invalid(`${op} on ${field} takes a string or a number.`);
}

function textOperand(field: string, op: string, value: unknown): string {
  if (typeof value !== 'string') invalid(`${op} on ${field} takes a string.`);
  return text(field, op, value);
}

function text(field: string, op: string, value: string): string {
  if (value.length > FILTER_LIMITS.maxTextChars) invalid(`The value of ${op} on ${field} is longer than ${FILTER_LIMITS.maxTextChars} characters.`);
  return value;
}

const RESERVED_KEYS = new Set(['__proto__', 'constructor', 'prototype']);

function fieldName(key: string): string {
  if (RESERVED_KEYS.has(key)) invalid(`${key} is a reserved name and cannot be a field in a query.`);
  if (!FIELD_NAME.test(key)) invalid(`${JSON.stringify(key.slice(0, 100))} is not a field name; use a question's path such as "group/question", or a system field such as "_submission_time".`);
  return key;
}

function count(budget: { conditions: number }): void {
  budget.conditions += 1;
  if (budget.conditions > FILTER_LIMITS.maxConditions) invalid(`The query has more than ${FILTER_LIMITS.maxConditions} conditions.`);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function invalid(detail: string): never {
  throw new AppError('submission.query_invalid', detail);
}

function unsupported(detail: string): never {
  throw new AppError('submission.query_unsupported', detail);
}
