/*
 * Exports: a form's submissions as CSV, XLSX, GeoJSON or a ZIP with media, streamed from the
 * database to the reader with flat memory whatever the size. `prepareExport` does everything that
 * can fail on the request (form, options, fields, language, geo field), so errors are clear 4xx
 * answers before the first byte; `write` then streams. The caller's row filter always applies
 * (the same scope as the data API), and submissions still encrypted are exported as their
 * metadata, marked `_encrypted`, never dropped, unless the request brought the passphrase and the
 * project allows decryption on the server (decrypted.ts).
 */
import type { Readable, Writable } from 'node:stream';
import { recordAudit, recordDataRead } from '../audit/index.js';
import { publishedVersions, type FormVersionRow } from '../forms/queries.js';
import { koboTime } from '../kobo/presenters.js';
import { unlockOnServer } from '../project-keys/index.js';
import { AppError } from '../server/errors.js';
import { openFormData, reviewStatuses, typedOf, uuidOf, type DataScope, type DataView, type FormData, type ReviewStatus } from '../submissions/index.js';
import type { FormSchema } from '../xform/index.js';
import { DECRYPTED_NOTE, ExportDecryption, type DecryptedAnswers, type EncryptedRow } from './decrypted.js';
import { buildLayout, type ExportLayout, type GeoField, type SubmissionMeta } from './layout.js';
import { normalizeOptions, type ExportFormat, type ExportOptions, type ExportOptionsInput } from './options.js';
import * as q from './queries.js';
import { SpoolDirectory } from './spool.js';
import { writeCsv, writeCsvZip, writeGeoJson, writeXlsx, type ExportedSubmission, type MediaFile, type Pages } from './writers.js';

/** Rows read per query: large enough to amortise the query, small enough to keep memory flat. */
const PAGE_SIZE = 2000;
/** Decrypted answers are held for a whole page, and each submission costs an RSA operation and a read of its files: smaller pages. */
const DECRYPTED_PAGE_SIZE = 200;

export const ENCRYPTED_NOTE =
  'This form has encrypted versions: encrypted submissions are exported as metadata only (no answers), marked true in the _encrypted column. Decrypt them to export their answers.';

/** How the export was asked for, as the audit log records it. */
export type ExportVia = 'download' | 'setting' | 'job' | 'command line';

export interface PreparedExport {
  format: ExportFormat;
  fileName: string;
  contentType: string;
  /** Set when some submissions may be encrypted and so exported as metadata only. */
  note: string | null;
  /** How many submissions the export holds. */
  count(): Promise<number>;
  /** Streams the export into `out` and ends it; `progress` hears how many submissions are done after each page. */
  write(out: Writable, progress?: (done: number) => void | Promise<void>): Promise<void>;
}

const CONTENT_TYPES = {
  csv: 'text/csv; charset=utf-8',
  zip: 'application/zip',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  geojson: 'application/geo+json',
} as const;

/** What an export will be, checked against the form: everything that can fail on the request fails here. */
interface ExportPlan {
  data: FormData;
  options: ExportOptions;
  layout: ExportLayout;
  versions: FormVersionRow[];
  encrypted: boolean;
  geo: GeoField | null;
}

export async function planExport(scope: DataScope, xmlFormId: string, format: ExportFormat, input: ExportOptionsInput, decrypted = false): Promise<ExportPlan> {
  const options = normalizeOptions(input);
  const data = await openFormData(scope, xmlFormId);
  const versions = await publishedVersions(scope.ctx.database.db, data.form);
  // The current version first, then older ones newest first, as the layout merges them.
  versions.sort((a, b) => Number(b.id === data.form.published_version_id) - Number(a.id === data.form.published_version_id));
  if (versions.length === 0) throw new AppError('form.not_published', 'The form has no published version, so it has no data to export.');
  const encrypted = versions.some((v) => v.encrypted === 1);
  const layout = buildLayout({ xmlFormId, schemas: versions.map((v) => JSON.parse(v.schema_json) as FormSchema), options, encrypted, decrypted });
  return { data, options, layout, versions, encrypted, geo: format === 'geojson' ? geoFieldOf(layout, options) : null };
}

/** Records an export in the audit log; a dashboard refreshing a saved setting's URL is one reading, not one entry per refresh. */
export async function auditExport(scope: DataScope, xmlFormId: string, format: ExportFormat, via: ExportVia, decrypted = false): Promise<void> {
  const { ctx, access, source } = scope;
  const details = { format, via, ...(decrypted ? { decrypted } : {}) };
  const event = { ...source, ...(via === 'command line' ? { actorLabel: via } : {}), action: 'submission.export', projectId: access.projectId, resource: { type: 'form', id: xmlFormId }, details };
  if (via === 'setting') await recordDataRead(ctx.database.db, event, ctx.config.auditReadGroupMs);
  else await recordAudit(ctx.database.db, event);
}

export interface PrepareOptions {
  /**
   * One CSV of the main table even when the form has repeats (a saved setting's data.csv, which
   * spreadsheet connectors read as one table).
   */
  mainTableOnly?: boolean;
  /**
   * Decrypt encrypted submissions on the server with the keys this passphrase opens (direct
   * downloads only). It is used here to unlock them and kept nowhere.
   */
  passphrase?: string;
}

/** Prepares an export for streaming. */
export async function prepareExport(scope: DataScope, xmlFormId: string, format: ExportFormat, input: ExportOptionsInput, via: ExportVia, prepare: PrepareOptions = {}): Promise<PreparedExport> {
  const decrypting = prepare.passphrase !== undefined;
  const { data, options, layout: full, versions, encrypted, geo } = await planExport(scope, xmlFormId, format, input, decrypting);
  const decryption = prepare.passphrase === undefined ? null : new ExportDecryption(scope, data.form.id, await unlockOnServer(scope, xmlFormId, prepare.passphrase), versions);
  const layout = prepare.mainTableOnly ? { ...full, tables: [{ ...full.tables[0]!, children: [] }] } : full;
  const { ctx } = scope;
  const db = ctx.database.db;
  const upToId = await q.lastSubmissionId(db, data.view, options);
  await auditExport(scope, xmlFormId, format, via, decrypting);

  const names = { versions: new Map(versions.map((v) => [Number(v.id), v.version])), users: new Map<number, string>() };
  const pages = (progress?: (done: number) => void | Promise<void>) => submissionPages(scope, data.view, options, upToId, names, decryption, progress);
  const multiTable = layout.tables.length > 1;
  const packed = format === 'zip' || (format === 'csv' && multiTable);
  const note = !encrypted ? null : decryption ? DECRYPTED_NOTE : ENCRYPTED_NOTE;
  const media = () => (decryption ? decryption.media(data.view, options, upToId) : mediaFiles(scope, data.view, options, upToId));
  return {
    format,
    fileName: `${xmlFormId}${format === 'csv' && multiTable ? '-csv.zip' : `.${format}`}`,
    contentType: packed ? CONTENT_TYPES.zip : CONTENT_TYPES[format],
    note,
    count: () => q.countExported(db, data.view, options, upToId),
    async write(out, progress) {
      const spools = packed || format === 'xlsx' ? await SpoolDirectory.create(ctx.config.dataDir) : null;
      try {
        if (format === 'xlsx') await writeXlsx(out, layout, pages(progress), spools!);
        else if (format === 'geojson') await writeGeoJson(out, layout, pages(progress), geo!, xmlFormId, note);
        else if (packed) await writeCsvZip(out, xmlFormId, layout, pages(progress), spools!, format === 'zip' && options.media ? media() : null);
        else await writeCsv(out, layout, pages(progress));
      } catch (error) {
        out.destroy(error as Error);
        throw error;
      } finally {
        await spools?.remove();
      }
    },
  };
}

function geoFieldOf(layout: ExportLayout, options: ExportOptions): GeoField {
  const wanted = options.geoField;
  const geo = wanted === null ? layout.geoFields[0] : layout.geoFields.find((f) => f.path === wanted);
  if (geo) return geo;
  const known = layout.geoFields.map((f) => f.path).join(', ');
  throw new AppError('export.no_geo_field', wanted === null ? undefined : `${JSON.stringify(wanted)} is not a geopoint, geotrace or geoshape question outside repeats${known ? `; these are: ${known}` : ''}.`);
}

/** Form version names and usernames by id, filled as pages name them. */
interface Names {
  versions: Map<number, string>;
  users: Map<number, string>;
}

async function* submissionPages(
  scope: DataScope,
  view: DataView,
  options: ExportOptions,
  upToId: number,
  names: Names,
  decryption: ExportDecryption | null,
  progress?: (done: number) => void | Promise<void>,
): Pages {
  const pageSize = decryption ? DECRYPTED_PAGE_SIZE : PAGE_SIZE;
  let after = 0;
  let done = 0;
  for (;;) {
    const rows = await q.exportPage(scope.ctx.database, view, options, after, upToId, pageSize);
    if (rows.length === 0) return;
    after = rows[rows.length - 1]![0];
    await learnNames(scope, view, names, rows);
    const decrypted = decryption ? await decryption.page(rows.filter(isEncrypted).map(envelopeRowOf)) : null;
    const count = rows.length;
    // The page's rows are left to `submissionsOf` alone (see there).
    yield submissionsOf(rows, names, decrypted);
    done += count;
    await progress?.(done);
    if (count < pageSize) return;
  }
}

/**
 * The page's submissions, each row let go (taken off `rows`) as it is exported: nothing then holds
 * a row once the writer is past it, so rows die young, in the collections of the new generation,
 * however long the page takes to write or its reader to take it. Rows held for the whole page
 * would survive those collections and be moved to the old generation, which would then grow with
 * every page until a full collection: that, not the page, would set the export's peak memory.
 */
function* submissionsOf(rows: q.ExportRow[], names: Names, decrypted: Map<number, DecryptedAnswers> | null): Generator<ExportedSubmission> {
  for (let row = rows.shift(); row !== undefined; row = rows.shift()) yield exported(row, names, decrypted?.get(row[0]));
}

const isEncrypted = ([, , , , , , , encrypted]: q.ExportRow) => encrypted === 1;

function envelopeRowOf([id, , , , , versionId, instanceId, , xmlBlob, , formVersionId]: q.ExportRow): EncryptedRow {
  return { id, version_id: versionId, instance_id: instanceId, xml_blob: xmlBlob, form_version_id: formVersionId };
}

async function learnNames(scope: DataScope, view: DataView, names: Names, rows: readonly q.ExportRow[]): Promise<void> {
  const db = scope.ctx.database.db;
  const versionIds = new Set<number>();
  const userIds = new Set<number>();
  for (const [, , , , userId, , , , , , versionId] of rows) {
    if (!names.versions.has(versionId)) versionIds.add(versionId);
    if (userId !== null && !names.users.has(userId)) userIds.add(userId);
  }
  if (versionIds.size > 0) for (const v of await q.versionNames(db, view.formId, [...versionIds])) names.versions.set(v.id, v.version);
  if (userIds.size > 0) for (const u of await q.usernames(db, [...userIds])) names.users.set(u.id, u.username);
}

function exported(row: q.ExportRow, names: Names, decrypted?: DecryptedAnswers): ExportedSubmission {
  const [id, createdAt, reviewStatus, deletedAt, userId, , instanceId, encryptedFlag, , dataJson, versionId] = row;
  const encrypted = encryptedFlag === 1;
  const meta: SubmissionMeta = {
    id,
    uuid: uuidOf(instanceId),
    submissionTime: koboTime(createdAt),
    reviewStatus: reviewStatuses.includes(reviewStatus as ReviewStatus) ? (reviewStatus as ReviewStatus) : null,
    submittedBy: userId === null ? null : (names.users.get(userId) ?? null),
    version: names.versions.get(versionId) ?? '',
    deletedAt,
    encrypted,
  };
  if (decrypted) meta.decryption = { signature: decrypted.signature, error: decrypted.error };
  return { meta, answers: decrypted ? decrypted.answers : encrypted ? {} : typedOf({ data_json: dataJson }) };
}

/** The received files of the exported submissions, under `media/<_id>/<file name>`. */
async function* mediaFiles(scope: DataScope, view: DataView, options: ExportOptions, upToId: number): AsyncGenerator<MediaFile> {
  const db = scope.ctx.database.db;
  let after = 0;
  for (;;) {
    const files = await q.attachmentPage(db, view, options, after, upToId, PAGE_SIZE);
    for (const file of files) {
      const blobId = file.blob_id!;
      yield { path: `media/${Number(file.submission_id)}/${file.name}`, open: (): Promise<Readable> => scope.ctx.blobs.get(blobId) };
    }
    if (files.length < PAGE_SIZE) return;
    after = Number(files[files.length - 1]!.id);
  }
}
