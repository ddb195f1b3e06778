import { Type, type Static } from 'typebox';
import type { MediaReference } from './definition.js';
import type { FormRow, FormVersionRow } from './queries.js';
import { listMedia, schemaOf, versionOf, type FormScope } from './service.js';
import { fillUrl } from '../web/fill-url.js';

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
  fillUrl: Type.String({ description: 'The web page where project members fill in the form in a browser (docs/web-forms.md).' }),
  createdAt: Type.String(),
  updatedAt: Type.String(),
});

const LocalizedText = Type.Record(Type.String(), Type.String(), { description: 'Text by language as the form names it; untranslated text is under "default".' });
const Nullable = (schema: ReturnType<typeof Type.String>) => Type.Union([schema, Type.Null()]);

/**
 * A version's field schema (src/xform/schema.ts), as the web application's preview reads it: every
 * group, repeat and question in form order with labels, hints, choices and bind expressions.
 */
export const FormSchemaView = Type.Object({
  formId: Type.String(),
  version: Nullable(Type.String()),
  title: Nullable(Type.String()),
  rootName: Type.String(),
  languages: Type.Array(Type.String()),
  defaultLanguage: Nullable(Type.String()),
  encrypted: Type.Boolean(),
  fields: Type.Array(
    Type.Object({
      path: Type.String(),
      name: Type.String(),
      kind: Type.Union([Type.Literal('question'), Type.Literal('group'), Type.Literal('repeat')]),
      type: Type.String(),
      control: Nullable(Type.String()),
      parent: Nullable(Type.String()),
      repeat: Nullable(Type.String()),
      labels: LocalizedText,
      hints: LocalizedText,
      choices: Type.Union([Type.Array(Type.Object({ value: Type.String(), labels: LocalizedText })), Type.Null()]),
      choiceList: Nullable(Type.String()),
      mediaType: Nullable(Type.String()),
      bind: Type.Object({
        required: Nullable(Type.String()),
        relevant: Nullable(Type.String()),
        constraint: Nullable(Type.String()),
        calculate: Nullable(Type.String()),
        readonly: Nullable(Type.String()),
      }),
    }),
  ),
});

export function presentSchema(version: FormVersionRow): Static<typeof FormSchemaView> {
  const schema = schemaOf(version);
  return {
    formId: schema.formId,
    version: schema.version,
    title: schema.title,
    rootName: schema.rootName,
    languages: schema.languages,
    defaultLanguage: schema.defaultLanguage,
    encrypted: schema.base64RsaPublicKey !== null,
    fields: schema.fields.map((f) => ({
      path: f.path,
      name: f.name,
      kind: f.kind,
      type: f.type,
      control: f.control,
      parent: f.parent,
      repeat: f.repeat,
      labels: f.labels,
      hints: f.hints,
      choices: f.choices,
      choiceList: f.choiceList,
      mediaType: f.mediaType,
      bind: { required: f.bind.required, relevant: f.bind.relevant, constraint: f.bind.constraint, calculate: f.bind.calculate, readonly: f.bind.readonly },
    })),
  };
}

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
    fillUrl: fillUrl(scope.ctx.config.publicUrl, scope.access.projectId, form.xml_form_id),
    createdAt: form.created_at,
    updatedAt: form.updated_at,
  };
}
