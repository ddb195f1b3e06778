import { Type, type Static } from 'typebox';
import type { MediaReference } from './definition.js';
import type { FormRow, FormVersionRow } from './queries.js';
import { listMedia, versionOf, type FormScope } from './service.js';

export const MediaView = Type.Object({
  name: Type.String(),
  uploaded: Type.Boolean({ description: 'False for a file the form names that has not been uploaded yet.' }),
  md5: Type.Optional(Type.String()),
  size: Type.Optional(Type.Number()),
  contentType: Type.Optional(Type.String()),
});

export const FormVersionView = Type.Object({
  id: Type.Number(),
  version: Type.String(),
  title: Type.String(),
  hash: Type.String({ description: 'MD5 of the XForm as served, as in the OpenRosa form list.' }),
  encrypted: Type.Boolean(),
  source: Type.Object({ kind: Type.String(), fileName: Type.String() }),
  warnings: Type.Array(Type.Object({ code: Type.String(), message: Type.String(), sheet: Type.Optional(Type.String()), row: Type.Optional(Type.Number()) })),
  createdAt: Type.String(),
  publishedAt: Type.Union([Type.String(), Type.Null()]),
});

export const FormView = Type.Object({
  xmlFormId: Type.String(),
  title: Type.String(),
  state: Type.String(),
  published: Type.Union([FormVersionView, Type.Null()]),
  draft: Type.Union([FormVersionView, Type.Null()]),
  media: Type.Array(MediaView),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

export function presentVersion(version: FormVersionRow): Static<typeof FormVersionView> {
  return {
    id: version.id,
    version: version.version,
    title: version.title,
    hash: version.xform_md5,
    encrypted: version.encrypted === 1,
    source: { kind: version.source_kind, fileName: version.source_name },
    warnings: JSON.parse(version.warnings_json) as Static<typeof FormVersionView>['warnings'],
    createdAt: version.created_at,
    publishedAt: version.published_at,
  };
}

export async function presentForm(scope: FormScope, form: FormRow): Promise<Static<typeof FormView>> {
  const [published, draft, media] = await Promise.all([
    form.published_version_id === null ? null : versionOf(scope, form, 'published'),
    form.draft_version_id === null ? null : versionOf(scope, form, 'draft'),
    listMedia(scope, form),
  ]);
  const current = draft ?? published;
  const named = current ? (JSON.parse(current.media_json) as MediaReference[]) : [];
  const uploaded = new Map(media.map((m) => [m.name, m]));
  const missing = named.filter((m) => !uploaded.has(m.name)).map((m) => ({ name: m.name, uploaded: false }));
  return {
    xmlFormId: form.xml_form_id,
    title: (published ?? draft)?.title ?? form.xml_form_id,
    state: form.state,
    published: published ? presentVersion(published) : null,
    draft: draft ? presentVersion(draft) : null,
    media: [...media.map((m) => ({ name: m.name, uploaded: true, md5: m.md5, size: m.size, contentType: m.content_type })), ...missing],
    createdAt: form.created_at,
    updatedAt: form.updated_at,
  };
}
