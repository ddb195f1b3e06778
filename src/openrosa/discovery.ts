/**
 * Form discovery for phones (OpenRosa formList, manifest, form and media download). What Collect
 * is shown: forms with a published version that are `open` (closing and closed forms are hidden
 * from the list, as in ODK Central), each hashed over the exact bytes served at its downloadUrl;
 * a manifest of the media files the published version names and that have been uploaded.
 *
 * Links are absolute, built from FIELDKEEP_PUBLIC_URL and the prefix of the request itself: a
 * phone that asked through `/key/<token>/…` is given token-prefixed links, so it can follow them
 * with no other credential (as Central does for app users).
 */
import type { Readable } from 'node:stream';
import type { MediaReference } from '../forms/definition.js';
import type { FormMediaRow, FormRow, FormVersionRow } from '../forms/queries.js';
import { getForm, listForms, listMedia, readBlob, versionOf, type FormScope } from '../forms/service.js';
import { AppError } from '../server/errors.js';
import type { FormListEntry, ManifestEntry } from './documents.js';

/** Where this request's OpenRosa links start: `{publicUrl}[/key/{token}]/projects/{id}`. */
export function openRosaBase(publicUrl: string, projectId: number, token: string | undefined): string {
  return `${publicUrl}${token === undefined ? '' : `/key/${encodeURIComponent(token)}`}/projects/${projectId}`;
}

const formUrl = (base: string, form: FormRow) => `${base}/forms/${encodeURIComponent(form.xml_form_id)}`;

export interface Download {
  content: Readable;
  size: number;
  contentType: string;
}

/** The form list: open forms with a published version, optionally only the one with `formId`. */
export async function formList(scope: FormScope, base: string, formId?: string): Promise<FormListEntry[]> {
  const forms = (await listForms(scope)).filter((f) => f.state === 'open' && f.published_version_id !== null && (formId === undefined || f.xml_form_id === formId));
  return Promise.all(
    forms.map(async (form) => {
      const version = await versionOf(scope, form, 'published');
      const media = await servedMedia(scope, form, version);
      return {
        formId: form.xml_form_id,
        name: version.title,
        version: version.version,
        md5: version.xform_md5,
        downloadUrl: `${formUrl(base, form)}/form.xml`,
        descriptionText: version.title,
        ...(media.length > 0 ? { manifestUrl: `${formUrl(base, form)}/manifest` } : {}),
      };
    }),
  );
}

export async function manifest(scope: FormScope, base: string, xmlFormId: string): Promise<ManifestEntry[]> {
  const form = await getForm(scope, xmlFormId);
  const media = await servedMedia(scope, form, await versionOf(scope, form, 'published'));
  return media.map((m) => ({ filename: m.name, md5: m.md5, downloadUrl: `${formUrl(base, form)}/media/${encodeURIComponent(m.name)}` }));
}

/** The published XForm, byte for byte what the list's hash was computed over. */
export async function formXml(scope: FormScope, xmlFormId: string): Promise<Download> {
  const version = await versionOf(scope, await getForm(scope, xmlFormId), 'published');
  return { content: await readBlob(scope, version.xform_blob), size: version.xform_size, contentType: 'application/xml' };
}

/** A media file, if the published version names it and it has been uploaded. */
export async function mediaFile(scope: FormScope, xmlFormId: string, name: string): Promise<Download> {
  const form = await getForm(scope, xmlFormId);
  const media = (await servedMedia(scope, form, await versionOf(scope, form, 'published'))).find((m) => m.name === name);
  if (!media) throw new AppError('media.not_found', `The published form has no media file ${JSON.stringify(name)}.`);
  return { content: await readBlob(scope, media.blob_id), size: media.size, contentType: media.content_type };
}

/** Uploaded media the published version names; a file the form does not name is not the phone's business. */
async function servedMedia(scope: FormScope, form: FormRow, version: FormVersionRow): Promise<FormMediaRow[]> {
  const named = new Set((JSON.parse(version.media_json) as MediaReference[]).map((m) => m.name));
  if (named.size === 0) return [];
  return (await listMedia(scope, form)).filter((m) => named.has(m.name));
}
