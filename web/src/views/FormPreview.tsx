/**
 * A read-only preview of a form: its groups, repeats and questions as a phone would show them,
 * from the field schema the API returns (published version or draft), in any of its languages.
 * Nothing can be answered here; conditions and checks are shown as the form states them.
 */
import { computed, defineComponent, Fragment, h, ref, watch, type VNode } from 'vue';
import { RouterLink, useRoute } from 'vue-router';
import { get } from '../api.js';
import { formHeader } from '../components/nav.js';
import { attempt, badge, errorNotice, padlockIcon, selectField } from '../components/ui.js';
import { t } from '../i18n.js';
import { formPath, useForm, useProject } from '../project.js';
import type { FormSchema, SchemaField } from '../types.js';
import { labelIn } from '../xform.js';

const INPUT_TYPES: Record<string, string> = { int: 'number', integer: 'number', decimal: 'number', date: 'date', time: 'time', dateTime: 'datetime-local' };

export default defineComponent(() => {
  const route = useRoute();
  const { project } = useProject();
  const { form, error: formError, projectId, formId } = useForm();
  const schema = ref<FormSchema | null>(null);
  const error = ref<unknown>(null);
  const language = ref('');
  const which = computed(() => (route.query.version === 'draft' ? 'draft' : 'published'));
  const base = () => formPath(projectId(), formId());
  const previewPath = () => `/p/${projectId()}/f/${encodeURIComponent(formId())}/preview`;

  /** Switching between the published version and the draft quickly: only the last answer counts. */
  let latestLoad = 0;
  watch(
    [formId, which],
    async ([id, version]) => {
      if (id === '') return;
      const ticket = ++latestLoad;
      schema.value = null;
      await attempt(error, async () => {
        const loaded = await get<FormSchema>(version === 'draft' ? `${base()}/draft/schema` : `${base()}/schema`);
        if (ticket === latestLoad) schema.value = loaded;
      });
    },
    { immediate: true },
  );

  const lang = () => language.value || schema.value?.defaultLanguage || schema.value?.languages[0] || '';
  const text = (labels: Record<string, string>, fallback = '') => labelIn(labels, lang(), fallback);
  const children = computed(() => {
    const byParent = new Map<string | null, SchemaField[]>();
    for (const field of schema.value?.fields ?? []) byParent.set(field.parent, [...(byParent.get(field.parent) ?? []), field]);
    return byParent;
  });
  /** Calculations and other fields without a control: a person never sees them (metadata is not counted). */
  const hiddenCount = computed(() => (schema.value?.fields ?? []).filter((f) => f.kind === 'question' && f.control === null && !/\/meta\//.test(f.path)).length);

  const idOf = (field: SchemaField) => `q-${field.path.replace(/[^A-Za-z0-9_-]/g, '-')}`;

  function conditions(field: SchemaField): VNode | null {
    const notes: string[] = [];
    if (field.bind.relevant !== null) notes.push(t('preview.relevant', { expression: field.bind.relevant }));
    if (field.bind.constraint !== null) notes.push(t('preview.constraint', { expression: field.bind.constraint }));
    if (field.bind.calculate !== null) notes.push(t('preview.calculate', { expression: field.bind.calculate }));
    return notes.length === 0 ? null : <ul class="conditions">{notes.map((note) => <li>{note}</li>)}</ul>;
  }

  function labelText(field: SchemaField): VNode {
    return (
      <>
        {text(field.labels, field.name)}
        {field.bind.required !== null && field.bind.required !== 'false()' ? <span class="required"> * <span class="visually-hidden">{t('preview.required')}</span></span> : null}
      </>
    );
  }

  function hint(field: SchemaField): VNode | null {
    const shown = text(field.hints);
    return shown === '' ? null : <p class="hint" id={`${idOf(field)}-hint`}>{shown}</p>;
  }

  function choicesOf(field: SchemaField, multiple: boolean): VNode {
    const id = idOf(field);
    return (
      <fieldset class="preview-question" aria-describedby={text(field.hints) === '' ? undefined : `${id}-hint`}>
        <legend>{labelText(field)}</legend>
        {hint(field)}
        {field.choices === null ? (
          <p class="muted">{t('preview.externalChoices', { list: field.choiceList ?? '—' })}</p>
        ) : field.choices.map((choice, index) => (
          <div class="check">
            <input type={multiple ? 'checkbox' : 'radio'} id={`${id}-${index}`} name={id} disabled />
            <label for={`${id}-${index}`}>{text(choice.labels, choice.value)}</label>
          </div>
        ))}
        {conditions(field)}
      </fieldset>
    );
  }

  function question(field: SchemaField): VNode | null {
    if (field.control === null) return null;
    const id = idOf(field);
    const described = text(field.hints) === '' ? undefined : `${id}-hint`;
    if (field.control === 'select1' || field.control === 'select') return choicesOf(field, field.control === 'select');
    if (field.control === 'rank' || field.control === 'odk:rank') {
      return (
        <div class="preview-question">
          <p class="label">{labelText(field)} {badge(t('preview.rank'))}</p>
          {hint(field)}
          <ol>{(field.choices ?? []).map((choice) => <li>{text(choice.labels, choice.value)}</li>)}</ol>
          {conditions(field)}
        </div>
      );
    }
    // A read-only input without a calculation is a note: text to read, nothing to answer.
    if (field.bind.readonly === 'true()' && field.bind.calculate === null && field.control === 'input') {
      return (
        <div class="preview-question preview-note">
          <p>{text(field.labels, field.name)}</p>
          {hint(field)}
          {conditions(field)}
        </div>
      );
    }
    let control: VNode;
    if (field.control === 'upload') control = <input id={id} type="file" accept={field.mediaType ?? undefined} disabled aria-describedby={described} />;
    else if (field.control === 'trigger') control = <input id={id} type="checkbox" disabled aria-describedby={described} />;
    else if (field.type === 'geopoint' || field.type === 'geotrace' || field.type === 'geoshape') control = <input id={id} type="text" disabled placeholder={t(`preview.${field.type}`)} aria-describedby={described} />;
    else if (field.control === 'range') control = <input id={id} type="range" disabled aria-describedby={described} />;
    else control = <input id={id} type={INPUT_TYPES[field.type] ?? 'text'} disabled aria-describedby={described} />;
    return (
      <div class={field.control === 'trigger' ? 'preview-question check' : 'preview-question field'}>
        {field.control === 'trigger' ? control : null}
        <label for={id}>{labelText(field)}</label>
        {field.control === 'trigger' ? null : hint(field)}
        {field.control === 'trigger' ? null : control}
        {conditions(field)}
      </div>
    );
  }

  function container(field: SchemaField): VNode {
    return (
      <fieldset class={field.kind === 'repeat' ? 'preview-group preview-repeat' : 'preview-group'}>
        <legend>{text(field.labels, field.name)} {field.kind === 'repeat' ? badge(t('preview.repeat')) : null}</legend>
        {hint(field)}
        {conditions(field)}
        {fieldsUnder(field.path)}
      </fieldset>
    );
  }

  /** A group only in the data (no control in the body, like `meta`) shows what is inside it, unframed. */
  function fieldsUnder(parent: string | null): Array<VNode | null> {
    return (children.value.get(parent) ?? []).flatMap((field) => (field.kind === 'question' ? [question(field)] : field.control === null ? fieldsUnder(field.path) : [container(field)]));
  }

  return () => (
    <section class="page">
      {formHeader({ projectId: projectId(), projectName: project.value?.name, formId: formId(), title: form.value?.title }, route.path)}
      {errorNotice(formError.value ?? error.value)}
      <div class="card toolbar">
        {form.value?.draft != null && form.value.published !== null ? (
          <nav aria-label={t('preview.which')} class="tabs">
            <RouterLink to={previewPath()} aria-current={which.value === 'published' ? 'page' : undefined}>{t('form.published')}</RouterLink>
            <RouterLink to={{ path: previewPath(), query: { version: 'draft' } }} aria-current={which.value === 'draft' ? 'page' : undefined}>{t('form.draft')}</RouterLink>
          </nav>
        ) : null}
        {form.value?.draft != null && form.value.published === null && which.value === 'published' ? (
          <p><RouterLink to={{ path: previewPath(), query: { version: 'draft' } }}>{t('preview.showDraft')}</RouterLink></p>
        ) : null}
        {schema.value !== null && schema.value.languages.length > 1
          ? selectField({ id: 'preview-lang', label: t('data.lang'), value: lang(), options: schema.value.languages.map((l) => [l, l]), onChange: (v) => (language.value = v) })
          : null}
      </div>
      {schema.value === null && error.value === null ? <p role="status">{t('app.loading')}</p> : null}
      {schema.value !== null ? (
        <form class="card preview" aria-labelledby="preview-title" onSubmit={(e: Event) => e.preventDefault()}>
          <div class="row spread">
            <h2 id="preview-title">{schema.value.title ?? schema.value.formId}</h2>
            <span>{badge(which.value === 'draft' ? t('form.draft') : t('form.published'), which.value === 'draft' ? 'warn' : 'good')} {schema.value.version !== null ? badge(`${t('form.version')} ${schema.value.version}`) : null} {schema.value.encrypted ? <span class="badge badge-good">{padlockIcon(false)} {t('form.encrypted')}</span> : null}</span>
          </div>
          <p class="muted">{t('preview.readOnly')}</p>
          {fieldsUnder(null)}
          {schema.value.fields.length === 0 ? <p class="muted">{t('preview.empty')}</p> : null}
          {hiddenCount.value > 0 ? <p class="hint">{t('preview.hidden', { count: hiddenCount.value })}</p> : null}
        </form>
      ) : null}
    </section>
  );
});
