/**
 * What the data screen's summary and map share: reading the submissions a filter matches, newest
 * first and page by page up to a cap, and the arithmetic of a per-question summary. Computed in
 * the browser from the data API, so the caller's row filter applies as it does to the table.
 */
import { get } from './api.js';
import type { SubmissionPage, SubmissionRow } from './types.js';
import { labelIn, type Question } from './xform.js';

/** Rows per request: the data API's largest page. */
const PAGE = 1000;

export interface ReadResult {
  rows: SubmissionRow[];
  /** Every submission the filter matches; more than `rows.length` when the cap was reached. */
  total: number;
}

export async function readRows(base: string, options: { fields: string[]; filter: string | undefined; cap: number }, progress: (read: number, total: number) => void): Promise<ReadResult> {
  const rows: SubmissionRow[] = [];
  let cursor: string | undefined;
  let total = 0;
  do {
    const first = cursor === undefined;
    const page = await get<SubmissionPage>(`${base}/submissions`, {
      limit: Math.min(PAGE, options.cap - rows.length),
      sort: '-_id',
      fields: options.fields.join(','),
      filter: options.filter,
      cursor,
      count: first ? true : undefined,
    });
    if (first) total = page.count ?? page.results.length;
    rows.push(...page.results);
    progress(rows.length, total);
    cursor = page.next ?? undefined;
  } while (cursor !== undefined && rows.length < options.cap);
  return { rows, total };
}

export interface Tally {
  value: string;
  label: string;
  count: number;
}

export interface Bin {
  from: number;
  to: number;
  count: number;
}

export type QuestionSummary =
  | { kind: 'choices'; answered: number; missing: number; multiple: boolean; tallies: Tally[] }
  | { kind: 'numbers'; answered: number; missing: number; min: number; max: number; mean: number; median: number; bins: Bin[] }
  | { kind: 'answers'; answered: number; missing: number };

const NUMERIC = new Set(['int', 'integer', 'decimal', 'range']);
const SELECTS = new Set(['select_one', 'select_multiple']);

export function isSummarised(question: Question): boolean {
  return !question.inRepeat && question.type !== 'repeat' && question.type !== 'trigger' && question.type !== 'note';
}

const isMissing = (value: unknown) => value === undefined || value === null || value === '' || (Array.isArray(value) && value.length === 0);

/** Counts for a select, figures for a number, answered and missing for anything else. */
export function summarise(question: Question, rows: readonly SubmissionRow[], language: string, labels: boolean): QuestionSummary {
  const values = rows.map((row) => row[question.key]);
  const present = values.filter((value) => !isMissing(value));
  const missing = values.length - present.length;
  if (SELECTS.has(question.type)) return choiceSummary(question, present, missing, language, labels);
  if (NUMERIC.has(question.type)) {
    const numbers = present.map(Number).filter(Number.isFinite);
    if (numbers.length > 0) return numberSummary(numbers, values.length - numbers.length);
  }
  return { kind: 'answers', answered: present.length, missing };
}

function choiceSummary(question: Question, present: unknown[], missing: number, language: string, labels: boolean): QuestionSummary {
  const multiple = question.type === 'select_multiple';
  const counts = new Map<string, number>();
  for (const value of present) {
    const chosen = Array.isArray(value) ? value.map(String) : multiple ? String(value).split(/\s+/).filter(Boolean) : [String(value)];
    for (const choice of new Set(chosen)) counts.set(choice, (counts.get(choice) ?? 0) + 1);
  }
  const known = (question.choices ?? []).map((choice) => choice.value);
  // The form's choices in its order (even those never chosen), then any other answers given.
  const order = [...known, ...[...counts.keys()].filter((value) => !known.includes(value)).sort()];
  const tallies = order.map((value) => {
    const choice = question.choices?.find((c) => c.value === value);
    return { value, label: labels && choice ? labelIn(choice.labels, language, value) : value, count: counts.get(value) ?? 0 };
  });
  return { kind: 'choices', answered: present.length, missing, multiple, tallies };
}

function numberSummary(numbers: number[], missing: number): QuestionSummary {
  const sorted = [...numbers].sort((a, b) => a - b);
  const min = sorted[0]!;
  const max = sorted[sorted.length - 1]!;
  const middle = Math.floor(sorted.length / 2);
  const median = sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
  const mean = sorted.reduce((sum, n) => sum + n, 0) / sorted.length;
  return { kind: 'numbers', answered: sorted.length, missing, min, max, mean, median, bins: histogram(sorted, min, max) };
}

/** Ten equal bins, or one per whole number when the answers are a few whole numbers. */
function histogram(sorted: number[], min: number, max: number): Bin[] {
  const wholes = sorted.every(Number.isInteger);
  const count = wholes && max - min < 10 ? max - min + 1 : min === max ? 1 : 10;
  const width = wholes && max - min < 10 ? 1 : (max - min) / count || 1;
  const bins: Bin[] = Array.from({ length: count }, (_, i) => ({ from: min + i * width, to: wholes && max - min < 10 ? min + i : min + (i + 1) * width, count: 0 }));
  for (const n of sorted) bins[Math.min(count - 1, Math.floor((n - min) / width))]!.count++;
  return bins;
}

/** A geopoint answer as the data API gives it (typed `[lat, lon, alt, acc]`, or ODK's `lat lon alt acc` text). */
export function pointOf(value: unknown): [number, number] | null {
  const parts = Array.isArray(value) ? value : typeof value === 'string' ? value.trim().split(/\s+/) : null;
  if (parts === null || parts.length < 2) return null;
  const lat = Number(parts[0]);
  const lon = Number(parts[1]);
  if (!Number.isFinite(lat) || !Number.isFinite(lon) || Math.abs(lat) > 90 || Math.abs(lon) > 180) return null;
  return [lat, lon];
}
