/*
 * KoBoToolbox API v2 shapes. Answers are the strings as sent, under Kobo's flattened keys (the
 * OpenRosa parser already writes them that way); system fields are added as kpi names them. An
 * attachment has today's kpi fields (download URLs, `mimetype`, `filename`, `media_file_basename`,
 * `uid`, `question_xpath`, `is_deleted`) and the older `id`, `instance`, `xform` some scripts read.
 */
import { answersOf, geolocationOf, questionsByFile, uuidOf, validationStatusOf, type AttachmentRow, type FormData, type SubmissionDataRow } from '../submissions/index.js';
import type { FormSchema } from '../xform/index.js';
import { assetUid, type Asset } from './assets.js';

/** Kobo's `_submission_time`: UTC, to the second, without a zone designator. */
export function koboTime(iso: string): string {
  return iso.slice(0, 19);
}

export function assetUrl(publicUrl: string, asset: Asset): string {
  return `${publicUrl}/api/v2/assets/${assetUid(asset.access.projectId, asset.form.id)}/`;
}

export function presentAsset(publicUrl: string, asset: Asset, submissionCount: number): Record<string, unknown> {
  const url = assetUrl(publicUrl, asset);
  const deployed = asset.form.published_version_id !== null;
  return {
    url,
    uid: assetUid(asset.access.projectId, asset.form.id),
    kind: 'asset',
    name: asset.form.title ?? asset.form.xml_form_id,
    asset_type: 'survey',
    owner__username: asset.form.owner_username,
    date_created: asset.form.created_at,
    date_modified: asset.form.updated_at,
    version_id: asset.form.version,
    deployed_version_id: deployed ? asset.form.version : null,
    has_deployment: deployed,
    deployment__active: deployed && asset.form.state !== 'closed',
    deployment__submission_count: submissionCount,
    deployment_status: !deployed ? 'draft' : asset.form.state === 'closed' ? 'archived' : 'deployed',
    data: `${url}data/`,
    settings: { id_string: asset.form.xml_form_id },
  };
}

export interface KoboSubmissionContext {
  form: FormData;
  asset: Asset;
  schema: FormSchema | undefined;
  files: readonly AttachmentRow[];
  attachmentBase: string;
}

export function presentKoboSubmission(row: SubmissionDataRow, c: KoboSubmissionContext): Record<string, unknown> {
  const answers = answersOf(row);
  return {
    _id: row.id,
    ...answers,
    __version__: typeof answers.__version__ === 'string' ? answers.__version__ : row.version,
    'meta/instanceID': row.instance_id,
    'meta/rootUuid': row.root_instance_id,
    _xform_id_string: c.form.form.xml_form_id,
    _uuid: uuidOf(row.instance_id),
    _attachments: koboAttachments(row, answers, c),
    _status: 'submitted_via_web',
    _geolocation: geolocationOf(answers, c.schema),
    _submission_time: koboTime(row.created_at),
    _tags: [],
    _notes: [],
    _validation_status: validationStatusOf(row),
    _submitted_by: row.submitted_by ?? null,
  };
}

function koboAttachments(row: SubmissionDataRow, answers: ReturnType<typeof answersOf>, c: KoboSubmissionContext) {
  const questions = questionsByFile(answers);
  const owner = c.asset.form.owner_username;
  return c.files
    .filter((file) => file.blob_id !== null)
    .map((file) => {
      const url = `${c.attachmentBase}/${encodeURIComponent(file.name)}`;
      return {
        download_url: url,
        download_large_url: url,
        download_medium_url: url,
        download_small_url: url,
        mimetype: file.content_type ?? 'application/octet-stream',
        filename: `${owner}/attachments/${assetUid(c.asset.access.projectId, c.asset.form.id)}/${uuidOf(row.instance_id)}/${file.name}`,
        media_file_basename: file.name,
        instance: row.id,
        xform: c.asset.form.id,
        id: file.id,
        uid: `att${file.id}`,
        question_xpath: questions.get(file.name) ?? null,
        is_deleted: false,
      };
    });
}
