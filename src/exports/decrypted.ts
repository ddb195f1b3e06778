/*
 * Exports decrypted on the server, ODK Central's way, for projects that allow it. The export
 * reads its pages as every export does; the encrypted submissions of each page are decrypted with
 * keys unlocked for this export alone (src/project-keys/server-decrypt.ts), and their XML is read
 * against its form version and typed as ingest types plaintext answers, so every format and option
 * works on them unchanged. A submission that cannot be decrypted (sent to a key the project does
 * not hold, a file missing or altered) does not stop the export, which has already begun: it is
 * exported as metadata only, with the reason in `_decryption_error`. In a ZIP, the media of
 * encrypted submissions are decrypted too (their answers are in the CSV files).
 */
import type { ServerDecryptor, StoredEnvelope } from '../project-keys/index.js';
import { AppError } from '../server/errors.js';
import { typedAnswers, type DataScope, type DataView, type TypedFields } from '../submissions/index.js';
import { XFormError, XmlError, parseSubmission, type FormSchema } from '../xform/index.js';
import type { DecryptionOutcome } from './layout.js';
import type { ExportOptions } from './options.js';
import * as q from './queries.js';
import type { MediaFile } from './writers.js';

export const DECRYPTED_NOTE =
  "Encrypted submissions were decrypted on the server for this export. _signature gives each one's signature verdict (valid, invalid, or absent when the client sent none); a submission that could not be decrypted is exported as metadata only, with the reason in _decryption_error.";

/** Submissions per page when reading media: each page's manifests are read one at a time. */
const MEDIA_PAGE = 500;

export interface DecryptedAnswers extends DecryptionOutcome {
  answers: TypedFields;
}

/** What decrypting an encrypted submission of a page needs to know of its row. */
export interface EncryptedRow {
  id: number;
  version_id: number;
  instance_id: string;
  xml_blob: string;
  form_version_id: number;
}

type Files = ReadonlyMap<number, ReadonlyArray<{ name: string; blob_id: string }>>;

export class ExportDecryption {
  readonly #schemas = new Map<number, FormSchema>();

  constructor(
    private readonly scope: DataScope,
    private readonly formId: number,
    private readonly decryptor: ServerDecryptor,
    versions: ReadonlyArray<{ id: number; schema_json: string }>,
  ) {
    for (const version of versions) this.#schemas.set(Number(version.id), JSON.parse(version.schema_json) as FormSchema);
  }

  /** The answers of a page's encrypted submissions, by submission id. */
  async page(encrypted: readonly EncryptedRow[]): Promise<Map<number, DecryptedAnswers>> {
    const decrypted = new Map<number, DecryptedAnswers>();
    if (encrypted.length === 0) return decrypted;
    const db = this.scope.ctx.database.db;
    const files = await filesOf(this.scope, encrypted.map((row) => Number(row.version_id)));
    const unknown = [...new Set(encrypted.map((row) => Number(row.form_version_id)))].filter((id) => !this.#schemas.has(id));
    if (unknown.length > 0) for (const version of await q.versionSchemas(db, this.formId, unknown)) this.#schemas.set(version.id, JSON.parse(version.schema_json) as FormSchema);
    for (const row of encrypted) decrypted.set(Number(row.id), await this.#answers(row, envelopeOf(row, files)));
    return decrypted;
  }

  async #answers(row: EncryptedRow, envelope: StoredEnvelope): Promise<DecryptedAnswers> {
    let opened;
    try {
      opened = await this.decryptor.decrypt(envelope);
    } catch (err) {
      if (isUndecryptable(err)) return { answers: {}, signature: null, error: err.detail ?? err.message };
      throw err;
    }
    const schema = this.#schemas.get(Number(row.form_version_id))!;
    try {
      return { answers: typedAnswers(parseSubmission(opened.submissionXml, schema).fields, schema), signature: opened.signature, error: null };
    } catch (err) {
      if (err instanceof XmlError || err instanceof XFormError) return { answers: {}, signature: opened.signature, error: `The decrypted submission could not be read: ${err.message}` };
      throw err;
    }
  }

  /**
   * The files of the exported submissions, under `media/<_id>/<file name>`: decrypted for an
   * encrypted submission, as received for the others and for one that cannot be decrypted.
   */
  async *media(view: DataView, options: ExportOptions, upToId: number): AsyncGenerator<MediaFile> {
    const { ctx } = this.scope;
    let after = 0;
    for (;;) {
      const rows = await q.envelopePage(ctx.database.db, view, options, after, upToId, MEDIA_PAGE);
      const files = await filesOf(this.scope, rows.map((row) => Number(row.version_id)));
      for (const row of rows) {
        const id = Number(row.id);
        if (row.encrypted === 1) {
          const media = await this.decryptor.media(envelopeOf(row, files)).catch((err: unknown) => {
            if (isUndecryptable(err)) return null;
            throw err;
          });
          if (media) {
            for (const file of media) yield { path: `media/${id}/${file.name}`, open: async () => file.read() };
            continue;
          }
        }
        for (const file of files.get(Number(row.version_id)) ?? []) yield { path: `media/${id}/${file.name}`, open: () => ctx.blobs.get(file.blob_id) };
      }
      if (rows.length < MEDIA_PAGE) return;
      after = Number(rows[rows.length - 1]!.id);
    }
  }
}

function isUndecryptable(err: unknown): err is AppError {
  return err instanceof AppError && err.code === 'key.undecryptable_submission';
}

async function filesOf(scope: DataScope, versionIds: readonly number[]): Promise<Files> {
  const files = new Map<number, Array<{ name: string; blob_id: string }>>();
  for (const file of await q.receivedFiles(scope.ctx.database.db, versionIds)) {
    const list = files.get(file.version_id) ?? [];
    list.push(file);
    files.set(file.version_id, list);
  }
  return files;
}

function envelopeOf(row: { version_id: number | bigint; instance_id: string; xml_blob: string }, files: Files): StoredEnvelope {
  return { instanceId: row.instance_id, manifestBlob: row.xml_blob, files: new Map((files.get(Number(row.version_id)) ?? []).map((f) => [f.name, f.blob_id])) };
}
