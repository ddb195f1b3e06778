/*
 * Export options, as KoBoToolbox users know them, in one flat shape shared by the download query
 * string, saved export settings and export jobs. Lists (`fields`, `reviewStatus`) are
 * comma-separated text, as the data API's `fields` is, so a saved setting reads like the URL it
 * replaces. `normalizeOptions` gives every option its default and checks what a schema alone
 * cannot (dates, field names).
 */
import { Type, type Static } from 'typebox';
import { FIELD_NAME, reviewStatuses, type ReviewStatus } from '../submissions/index.js';
import { AppError } from '../server/errors.js';

export const exportFormats = ['csv', 'xlsx', 'geojson', 'zip'] as const;
export type ExportFormat = (typeof exportFormats)[number];
export const ExportFormatSchema = Type.Union([Type.Literal('csv'), Type.Literal('xlsx'), Type.Literal('geojson'), Type.Literal('zip')]);

const xmlOrLabels = (description: string) => Type.Optional(Type.Union([Type.Literal('xml'), Type.Literal('labels')], { description }));

export const ExportOptionsSchema = Type.Object(
  {
    values: xmlOrLabels('Answers as XML values (default) or as choice labels.'),
    headers: xmlOrLabels('Column headers as field names (default) or as labels.'),
    language: Type.Optional(Type.String({ minLength: 1, maxLength: 100, description: "The labels' language, as the form names it (e.g. \"English (en)\"); the form's default language when not given." })),
    groupSeparator: Type.Optional(Type.String({ minLength: 1, maxLength: 5, description: 'Joins group names in headers; default "/".' })),
    groupNames: Type.Optional(Type.Boolean({ description: 'Include the names (or labels) of enclosing groups in headers; default true.' })),
    selectMultiple: Type.Optional(
      Type.Union([Type.Literal('summary'), Type.Literal('details'), Type.Literal('both')], { description: 'select_multiple answers as one column (summary, default), one 0/1 column per choice (details), or both.' }),
    ),
    allVersions: Type.Optional(Type.Boolean({ description: 'Columns for the fields of every published version (default true), or of the current version only.' })),
    fields: Type.Optional(Type.String({ maxLength: 10_000, description: 'Comma-separated field paths to export (a group or repeat path takes what is inside it); every field when not given.' })),
    from: Type.Optional(Type.String({ maxLength: 40, description: 'Submitted at or after: 2024-05-01 or 2024-05-01T10:00:00Z.' })),
    to: Type.Optional(Type.String({ maxLength: 40, description: 'Submitted at or before: 2024-05-31 (the whole day) or 2024-05-31T18:00:00Z.' })),
    includeDeleted: Type.Optional(Type.Boolean({ description: 'Also export submissions in the trash (with a _deleted_at column); default false.' })),
    reviewStatus: Type.Optional(Type.String({ maxLength: 100, description: 'Comma-separated review statuses to export: approved, not_approved, on_hold, none (not reviewed); every status when not given.' })),
    geoField: Type.Optional(Type.String({ maxLength: 500, description: "GeoJSON: the geopoint, geotrace or geoshape field whose answer is each feature's geometry; the first one outside repeats when not given." })),
    media: Type.Optional(Type.Boolean({ description: 'ZIP: include the files submitted with each submission (default true).' })),
  },
  { additionalProperties: false },
);

export type ExportOptionsInput = Static<typeof ExportOptionsSchema>;

export type ReviewFilter = ReviewStatus | 'none';

export interface ExportOptions {
  values: 'xml' | 'labels';
  headers: 'xml' | 'labels';
  language: string | null;
  groupSeparator: string;
  groupNames: boolean;
  selectMultiple: 'summary' | 'details' | 'both';
  allVersions: boolean;
  fields: string[] | null;
  /** Inclusive lower bound on the submission time, UTC ISO-8601. */
  from: string | null;
  /** Exclusive upper bound on the submission time, UTC ISO-8601. */
  toBefore: string | null;
  includeDeleted: boolean;
  reviewStatus: ReviewFilter[] | null;
  geoField: string | null;
  media: boolean;
}

const DATE = /^\d{4}-\d\d-\d\d$/;
const DATE_TIME = /^\d{4}-\d\d-\d\dT\d\d:\d\d(:\d\d(\.\d{1,3})?)?(Z|[+-]\d\d:\d\d)$/;

function instant(name: string, text: string): Date {
  const time = DATE.test(text) ? new Date(`${text}T00:00:00.000Z`) : DATE_TIME.test(text) ? new Date(text) : new Date(NaN);
  if (Number.isNaN(time.getTime())) throw new AppError('export.options_invalid', `${name} must be a date (2024-05-01) or a time with its zone (2024-05-01T10:00:00Z), not ${JSON.stringify(text)}.`);
  return time;
}

function list(text: string | undefined): string[] | null {
  if (text === undefined || text.trim() === '') return null;
  return text.split(',').map((item) => item.trim()).filter((item) => item !== '');
}

export function normalizeOptions(input: ExportOptionsInput): ExportOptions {
  const fields = list(input.fields);
  const badField = fields?.find((f) => !FIELD_NAME.test(f));
  if (badField !== undefined) throw new AppError('export.options_invalid', `${JSON.stringify(badField.slice(0, 100))} is not a field path.`);
  const statuses = list(input.reviewStatus);
  const known: readonly string[] = [...reviewStatuses, 'none'];
  const badStatus = statuses?.find((s) => !known.includes(s));
  if (badStatus !== undefined) throw new AppError('export.options_invalid', `${JSON.stringify(badStatus.slice(0, 40))} is not a review status; use ${known.join(', ')}.`);
  const from = input.from === undefined ? null : instant('from', input.from);
  // A date alone means that whole day, so `to` is turned into the next instant not included.
  const to = input.to === undefined ? null : DATE.test(input.to) ? new Date(instant('to', input.to).getTime() + 86_400_000) : new Date(instant('to', input.to).getTime() + 1);
  if (from && to && from >= to) throw new AppError('export.options_invalid', '`from` must come before `to`.');
  return {
    values: input.values ?? 'xml',
    headers: input.headers ?? 'xml',
    language: input.language ?? null,
    groupSeparator: input.groupSeparator ?? '/',
    groupNames: input.groupNames ?? true,
    selectMultiple: input.selectMultiple ?? 'summary',
    allVersions: input.allVersions ?? true,
    fields,
    from: from?.toISOString() ?? null,
    toBefore: to?.toISOString() ?? null,
    includeDeleted: input.includeDeleted ?? false,
    reviewStatus: statuses as ReviewFilter[] | null,
    geoField: input.geoField ?? null,
    media: input.media ?? true,
  };
}
