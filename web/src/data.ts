/** What the data table and submission view share: the form's shape, review statuses, per-column filters. */
import { ref, watchEffect, type Ref } from 'vue';
import { api } from './api.js';
import type { ReviewStatus, SubmissionRow } from './types.js';
import { parseXForm, type FormShape } from './xform.js';

export const reviewStatuses: ReviewStatus[] = ['approved', 'not_approved', 'on_hold'];

export function reviewStatusOf(row: SubmissionRow): ReviewStatus | null {
  const uid = (row._validation_status as { uid?: string } | undefined)?.uid;
  const status = uid?.replace(/^validation_status_/, '');
  return reviewStatuses.find((s) => s === status) ?? null;
}

/** The id that names a submission in addresses: the instanceID of its first version. */
export function submissionIdOf(row: SubmissionRow): string {
  return String(row['meta/rootUuid'] ?? row['meta/instanceID'] ?? '');
}

/** The published XForm, parsed; null while loading or when the form has no published version. */
export function useFormShape(xformPath: () => string): Ref<FormShape | null> {
  const shape = ref<FormShape | null>(null);
  watchEffect(async () => {
    const path = xformPath();
    try {
      const response = await fetch(path, { credentials: 'same-origin' });
      shape.value = response.ok ? parseXForm(await response.text()) : null;
    } catch {
      shape.value = null;
    }
  });
  return shape;
}

const NUMERIC = new Set(['int', 'integer', 'decimal', 'range']);

function escapeRegex(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * A column filter as typed: `>10`, `<=2024-05-01`, `=north` compare; a number on a numeric
 * question matches exactly; anything else matches as contained text, ignoring case.
 */
export function columnCondition(type: string, text: string): unknown {
  const trimmed = text.trim();
  const comparison = /^(>=|<=|>|<|=)\s*(.+)$/.exec(trimmed);
  const operand = (raw: string) => (NUMERIC.has(type) && raw !== '' && !Number.isNaN(Number(raw)) ? Number(raw) : raw);
  if (comparison !== null) {
    const op = { '>=': '$gte', '<=': '$lte', '>': '$gt', '<': '$lt', '=': '$eq' }[comparison[1]!]!;
    return { [op]: operand(comparison[2]!.trim()) };
  }
  if (NUMERIC.has(type) && !Number.isNaN(Number(trimmed))) return Number(trimmed);
  return { $regex: escapeRegex(trimmed), $options: 'i' };
}

export function filterQuery(filters: Record<string, string>, typeOf: (key: string) => string): string | undefined {
  const conditions = Object.entries(filters)
    .filter(([, text]) => text.trim() !== '')
    .map(([key, text]) => ({ [key]: columnCondition(typeOf(key), text) }));
  if (conditions.length === 0) return undefined;
  return JSON.stringify(conditions.length === 1 ? conditions[0] : { $and: conditions });
}

export async function setReview(base: string, instanceIds: string[], status: ReviewStatus | null): Promise<void> {
  if (instanceIds.length === 1) await api('PUT', `${base}/submissions/${encodeURIComponent(instanceIds[0]!)}/review`, { body: { status } });
  else await api('POST', `${base}/submissions/review`, { body: { instanceIds, status } });
}
