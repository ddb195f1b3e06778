/**
 * Exports of a form's submissions: choose the format and the options the exports API takes, run
 * the export as a job and watch its progress, download the file; save the options under a name,
 * which gives stable CSV and XLSX addresses for Excel and Power BI.
 */
import { computed, defineAsyncComponent, defineComponent, Fragment, h, nextTick, onBeforeUnmount, reactive, ref, watch } from 'vue';
import { useRoute } from 'vue-router';
import { del, get, post, withQuery } from '../api.js';
import { formHeader } from '../components/nav.js';
import { attempt, badge, checkbox, errorNotice, okNotice, selectField, textField } from '../components/ui.js';
import { useFormShape } from '../data.js';
import { formatBytes, formatDateTime, formatNumber, t } from '../i18n.js';
import { formPath, projectPath, useForm, useProject } from '../project.js';
import type { ExportFormat, ExportJob, ExportOptions, ExportSetting } from '../types.js';
import { labelIn } from '../xform.js';

const formats: ExportFormat[] = ['csv', 'xlsx', 'geojson', 'zip'];
/** Encrypted forms only: decrypting in the browser needs the crypto code, loaded with it. */
const DecryptedExport = defineAsyncComponent(() => import('../encryption/DecryptedExport.js'));
const reviewChoices = ['approved', 'not_approved', 'on_hold', 'none'] as const;
const GEO_TYPES = new Set(['geopoint', 'geotrace', 'geoshape']);
/** How often a running job is asked for its progress. */
const POLL_MS = 1000;

interface Choices {
  format: ExportFormat;
  values: 'xml' | 'labels';
  headers: 'xml' | 'labels';
  language: string;
  selectMultiple: 'summary' | 'details' | 'both';
  groupNames: boolean;
  groupSeparator: string;
  allVersions: boolean;
  from: string;
  to: string;
  includeDeleted: boolean;
  reviewStatus: string[];
  fields: string[];
  geoField: string;
  media: boolean;
}

const defaults = (): Choices => ({
  format: 'csv',
  values: 'xml',
  headers: 'xml',
  language: '',
  selectMultiple: 'summary',
  groupNames: true,
  groupSeparator: '/',
  allVersions: true,
  from: '',
  to: '',
  includeDeleted: false,
  reviewStatus: [],
  fields: [],
  geoField: '',
  media: true,
});

/** Only what differs from the API's defaults is sent, so a saved setting reads like the address it replaces. */
function optionsOf(c: Choices): ExportOptions {
  const options: ExportOptions = {};
  if (c.values !== 'xml') options.values = c.values;
  if (c.headers !== 'xml') options.headers = c.headers;
  if (c.language !== '') options.language = c.language;
  if (c.selectMultiple !== 'summary') options.selectMultiple = c.selectMultiple;
  if (!c.groupNames) options.groupNames = false;
  if (c.groupSeparator !== '/' && c.groupSeparator !== '') options.groupSeparator = c.groupSeparator;
  if (!c.allVersions) options.allVersions = false;
  if (c.from !== '') options.from = c.from;
  if (c.to !== '') options.to = c.to;
  if (c.includeDeleted) options.includeDeleted = true;
  if (c.reviewStatus.length > 0) options.reviewStatus = c.reviewStatus.join(',');
  if (c.fields.length > 0) options.fields = c.fields.join(',');
  if (c.format === 'geojson' && c.geoField !== '') options.geoField = c.geoField;
  if (c.format === 'zip' && !c.media) options.media = false;
  return options;
}

function choicesOf(format: ExportFormat, o: ExportOptions): Choices {
  const list = (text: string | undefined) => (text === undefined || text === '' ? [] : text.split(',').map((item) => item.trim()));
  const d = defaults();
  return {
    format,
    values: o.values ?? d.values,
    headers: o.headers ?? d.headers,
    language: o.language ?? d.language,
    selectMultiple: o.selectMultiple ?? d.selectMultiple,
    groupNames: o.groupNames ?? d.groupNames,
    groupSeparator: o.groupSeparator ?? d.groupSeparator,
    allVersions: o.allVersions ?? d.allVersions,
    from: o.from ?? '',
    to: o.to ?? '',
    includeDeleted: o.includeDeleted ?? false,
    reviewStatus: list(o.reviewStatus),
    fields: list(o.fields),
    geoField: o.geoField ?? '',
    media: o.media ?? true,
  };
}

/** The server names files under its public address; this page downloads them from its own origin. */
function sameOrigin(url: string): string {
  const parsed = new URL(url, location.origin);
  return parsed.pathname + parsed.search;
}

export default defineComponent(() => {
  const route = useRoute();
  const { project } = useProject();
  const { form, error: formError, projectId, formId } = useForm();
  const base = () => formPath(projectId(), formId());
  const shape = useFormShape(() => `${base()}/xform`);
  const choices = reactive<Choices>(defaults());
  const jobs = ref<ExportJob[]>([]);
  const settings = ref<ExportSetting[] | null>(null);
  const settingName = ref('');
  const error = ref<unknown>(null);
  const settingsError = ref<unknown>(null);
  const notice = ref<string | null>(null);
  const busy = ref(false);
  const confirmingDelete = ref<number | null>(null);
  const jobKey = () => `fieldkeep.exportJobs.${projectId()}.${formId()}`;
  let timer: ReturnType<typeof setTimeout> | undefined;

  const questions = computed(() => (shape.value?.questions ?? []).filter((q) => !q.inRepeat));
  const geoQuestions = computed(() => questions.value.filter((q) => GEO_TYPES.has(q.type)));
  const language = () => choices.language || shape.value?.defaultLanguage || '';

  async function loadSettings() {
    await attempt(settingsError, async () => {
      settings.value = await get<ExportSetting[]>(`${base()}/exports/settings`);
    });
  }

  /** Jobs started on this form in this browser tab survive a reload; the server keeps whose they are. */
  async function loadJobs() {
    const ids = JSON.parse(sessionStorage.getItem(jobKey()) ?? '[]') as number[];
    const found = await Promise.all(ids.map((id) => get<ExportJob>(`${projectPath(projectId())}/exports/jobs/${id}`).catch(() => null)));
    jobs.value = found.filter((job): job is ExportJob => job !== null);
    schedulePoll();
  }

  watch(formId, (id) => {
    if (id === '') return;
    void loadSettings();
    void loadJobs();
  }, { immediate: true });
  onBeforeUnmount(() => clearTimeout(timer));

  const running = (job: ExportJob) => job.state === 'queued' || job.state === 'running';

  function schedulePoll() {
    clearTimeout(timer);
    if (jobs.value.some(running)) timer = setTimeout(poll, POLL_MS);
  }

  async function poll() {
    jobs.value = await Promise.all(jobs.value.map((job) => (running(job) ? get<ExportJob>(`${projectPath(projectId())}/exports/jobs/${job.id}`).catch(() => job) : job)));
    schedulePoll();
  }

  async function start(event: Event) {
    event.preventDefault();
    busy.value = true;
    notice.value = null;
    await attempt(error, async () => {
      const job = await post<ExportJob>(`${base()}/exports/jobs`, { format: choices.format, options: optionsOf(choices) });
      jobs.value = [job, ...jobs.value];
      sessionStorage.setItem(jobKey(), JSON.stringify(jobs.value.map((j) => j.id)));
      schedulePoll();
      await nextTick();
      document.getElementById(`job-${job.id}`)?.focus();
    });
    busy.value = false;
  }

  async function save() {
    notice.value = null;
    if (settingName.value.trim() === '') {
      document.getElementById('setting-name')?.focus();
      return;
    }
    if (await attempt(error, () => post(`${base()}/exports/settings`, { name: settingName.value.trim(), format: choices.format, options: optionsOf(choices) }))) {
      notice.value = t('exports.saved', { name: settingName.value.trim() });
      settingName.value = '';
      await loadSettings();
    }
  }

  async function removeSetting(setting: ExportSetting) {
    confirmingDelete.value = null;
    if (await attempt(settingsError, () => del(`${base()}/exports/settings/${setting.id}`))) await loadSettings();
  }

  function useSetting(setting: ExportSetting) {
    Object.assign(choices, choicesOf(setting.format, setting.options));
    notice.value = t('exports.loaded', { name: setting.name });
    document.getElementById('export-options-title')?.scrollIntoView();
  }

  async function copy(text: string) {
    await navigator.clipboard.writeText(text).then(() => (notice.value = t('exports.copied')), () => undefined);
  }

  function toggle(list: string[], value: string, on: boolean): string[] {
    return on ? [...list, value] : list.filter((item) => item !== value);
  }

  function formatLabel(format: ExportFormat) {
    return t(`exports.format.${format}`);
  }

  const formatSection = () => (
    <fieldset class="choices">
      <legend>{t('exports.format')}</legend>
      {formats.map((format) => (
        <div class="check">
          <input type="radio" id={`format-${format}`} name="format" value={format} checked={choices.format === format} onChange={() => (choices.format = format)} />
          <label for={`format-${format}`}>{formatLabel(format)}<span class="hint"> — {t(`exports.formatHelp.${format}`)}</span></label>
        </div>
      ))}
    </fieldset>
  );

  const optionsSection = () => (
    <>
      <div class="grid-2">
        {selectField({ id: 'export-values', label: t('exports.values'), value: choices.values, options: [['xml', t('exports.asValues')], ['labels', t('exports.asLabels')]], onChange: (v) => (choices.values = v as Choices['values']) })}
        {selectField({ id: 'export-headers', label: t('exports.headers'), value: choices.headers, options: [['xml', t('exports.asNames')], ['labels', t('exports.asLabels')]], onChange: (v) => (choices.headers = v as Choices['headers']) })}
        {shape.value !== null && shape.value.languages.length > 1
          ? selectField({ id: 'export-language', label: t('data.lang'), value: language(), options: shape.value.languages.map((l) => [l, l]), onChange: (v) => (choices.language = v) })
          : null}
        {selectField({
          id: 'export-multiple',
          label: t('exports.selectMultiple'),
          value: choices.selectMultiple,
          options: [['summary', t('exports.multiple.summary')], ['details', t('exports.multiple.details')], ['both', t('exports.multiple.both')]],
          onChange: (v) => (choices.selectMultiple = v as Choices['selectMultiple']),
        })}
        {textField({ id: 'export-from', label: t('exports.from'), type: 'date', value: choices.from, onInput: (v) => (choices.from = v) })}
        {textField({ id: 'export-to', label: t('exports.to'), type: 'date', value: choices.to, onInput: (v) => (choices.to = v) })}
        {textField({ id: 'export-separator', label: t('exports.groupSeparator'), value: choices.groupSeparator, onInput: (v) => (choices.groupSeparator = v) })}
        {choices.format === 'geojson' ? selectField({
          id: 'export-geo',
          label: t('exports.geoField'),
          value: choices.geoField,
          options: [['', t('exports.geoFirst')], ...geoQuestions.value.map((q): [string, string] => [q.key, labelIn(q.labels, language(), q.key)])],
          onChange: (v) => (choices.geoField = v),
        }) : null}
      </div>
      {checkbox({ id: 'export-group-names', label: t('exports.groupNames'), checked: choices.groupNames, onChange: (v) => (choices.groupNames = v) })}
      {checkbox({ id: 'export-all-versions', label: t('exports.allVersions'), checked: choices.allVersions, onChange: (v) => (choices.allVersions = v) })}
      {checkbox({ id: 'export-deleted', label: t('exports.includeDeleted'), checked: choices.includeDeleted, onChange: (v) => (choices.includeDeleted = v) })}
      {choices.format === 'zip' ? checkbox({ id: 'export-media', label: t('exports.media'), checked: choices.media, onChange: (v) => (choices.media = v) }) : null}
      <fieldset class="choices">
        <legend>{t('exports.reviewStatus')}</legend>
        <p class="hint">{t('exports.reviewHelp')}</p>
        <div class="row">
          {reviewChoices.map((status) => checkbox({ id: `export-review-${status}`, label: status === 'none' ? t('review.none') : t(`review.${status}`), checked: choices.reviewStatus.includes(status), onChange: (v) => (choices.reviewStatus = toggle(choices.reviewStatus, status, v)) }))}
        </div>
      </fieldset>
      <details>
        <summary>{choices.fields.length === 0 ? t('exports.fieldsAll') : t('exports.fieldsSome', { count: choices.fields.length })}</summary>
        <div class="columns">
          {questions.value.map((q) => checkbox({ id: `export-field-${q.key}`, label: labelIn(q.labels, language(), q.key), checked: choices.fields.includes(q.key), onChange: (v) => (choices.fields = toggle(choices.fields, q.key, v)) }))}
        </div>
      </details>
    </>
  );

  function jobRow(job: ExportJob) {
    const total = job.progress.total;
    const label = total === null ? t('exports.progressUnknown', { done: formatNumber(job.progress.done) }) : t('exports.progress', { done: formatNumber(job.progress.done), total: formatNumber(total) });
    return (
      <li class="job" id={`job-${job.id}`} tabindex="-1">
        <div class="row spread">
          <strong>{t('exports.job', { id: job.id })}</strong>
          {job.state === 'succeeded' && !job.expired ? badge(t('exports.state.succeeded'), 'good') : job.state === 'failed' || job.state === 'cancelled' ? badge(t(`exports.state.${job.state}`), 'bad') : job.expired ? badge(t('exports.state.expired')) : badge(t(`exports.state.${job.state}`), 'warn')}
        </div>
        {running(job) ? (
          <div class="field">
            <label for={`job-progress-${job.id}`}>{label}</label>
            <progress id={`job-progress-${job.id}`} max={total ?? undefined} value={total === null ? undefined : job.progress.done} />
          </div>
        ) : null}
        {job.state === 'succeeded' && job.result !== null ? (
          <>
            <p>
              <a class="button small" href={sameOrigin(job.result.url)} download={job.result.fileName}>{t('exports.download', { file: job.result.fileName })}</a>{' '}
              <span class="muted">{formatBytes(job.result.size)} · {t('exports.rows', { count: formatNumber(job.result.submissions) })} · {t('exports.keptUntil', { when: formatDateTime(job.expiresAt) })}</span>
            </p>
            {job.result.note !== null ? <p class="notice notice-warn">{job.result.note}</p> : null}
          </>
        ) : null}
        {job.state === 'succeeded' && job.expired ? <p class="muted">{t('exports.expired')}</p> : null}
        {job.error !== null ? <p class="notice notice-error" role="alert">{job.error.message}</p> : null}
      </li>
    );
  }

  const settingsSection = () => (
    <section class="card" aria-labelledby="settings-title">
      <h2 id="settings-title">{t('exports.settings')}</h2>
      <p class="muted">{t('exports.settingsHelp')}</p>
      {errorNotice(settingsError.value)}
      {settings.value === null && settingsError.value === null ? <p role="status">{t('app.loading')}</p> : null}
      {settings.value !== null && settings.value.length === 0 ? <p class="muted">{t('exports.noSettings')}</p> : null}
      <ul class="settings">
        {(settings.value ?? []).map((setting) => (
          <li class="setting">
            <div class="row spread">
              <h3>{setting.name}</h3>
              {badge(formatLabel(setting.format))}
            </div>
            <p class="hint">{t('common.created')}: {formatDateTime(setting.createdAt)}</p>
            {(['csv', 'xlsx'] as const).map((kind) => (
              <div class="field">
                <label for={`setting-${setting.id}-${kind}`}>{t(`exports.url.${kind}`)}</label>
                <div class="copy-row">
                  <input id={`setting-${setting.id}-${kind}`} type="text" readonly value={setting.urls[kind]} onFocus={(e: FocusEvent) => (e.target as HTMLInputElement).select()} />
                  <button type="button" class="small secondary" onClick={() => copy(setting.urls[kind])}>{t('exports.copy')}<span class="visually-hidden"> {t(`exports.url.${kind}`)}</span></button>
                </div>
              </div>
            ))}
            <div class="row">
              <button type="button" class="small secondary" onClick={() => useSetting(setting)}>{t('exports.use')}<span class="visually-hidden"> {setting.name}</span></button>
              {confirmingDelete.value === setting.id ? (
                <span class="row" role="group" aria-label={t('exports.deleteConfirm', { name: setting.name })}>
                  <span>{t('exports.deleteConfirm', { name: setting.name })}</span>
                  <button type="button" class="small danger" onClick={() => removeSetting(setting)}>{t('common.remove')}</button>
                  <button type="button" class="small secondary" onClick={() => (confirmingDelete.value = null)}>{t('common.cancel')}</button>
                </span>
              ) : (
                <button type="button" class="small secondary" onClick={() => (confirmingDelete.value = setting.id)}>{t('common.remove')}<span class="visually-hidden"> {setting.name}</span></button>
              )}
            </div>
          </li>
        ))}
      </ul>
    </section>
  );

  return () => (
    <section class="page">
      {formHeader({ projectId: projectId(), projectName: project.value?.name, formId: formId(), title: form.value?.title }, route.path)}
      {errorNotice(formError.value)}
      {form.value !== null && form.value.published === null ? <p class="notice notice-warn">{t('exports.notPublished')}</p> : null}
      {form.value?.published?.encrypted === true ? <DecryptedExport projectId={Number(projectId())} formId={formId()} /> : null}
      <form class="card" onSubmit={start} aria-labelledby="export-options-title">
        <h2 id="export-options-title">{t('exports.new')}</h2>
        {errorNotice(error.value)}
        {okNotice(notice.value)}
        {formatSection()}
        <h3>{t('exports.options')}</h3>
        {optionsSection()}
        <div class="row">
          <button type="submit" disabled={busy.value}>{t('exports.start')}</button>
          <a class="button secondary" href={withQuery(`${base()}/export.${choices.format}`, { ...optionsOf(choices) })} download>{t('exports.direct')}</a>
        </div>
        <div class="toolbar save-setting">
          {textField({ id: 'setting-name', label: t('exports.settingName'), value: settingName.value, onInput: (v) => (settingName.value = v) })}
          <button type="button" class="secondary" onClick={save}>{t('exports.save')}</button>
        </div>
      </form>
      <section class="card" aria-labelledby="jobs-title">
        <h2 id="jobs-title">{t('exports.jobs')}</h2>
        {/* One line for screen readers when the newest export changes state, not every progress tick. */}
        <p class="visually-hidden" role="status">{jobs.value[0] === undefined ? '' : `${t('exports.job', { id: jobs.value[0].id })}: ${t(`exports.state.${jobs.value[0].expired ? 'expired' : jobs.value[0].state}`)}`}</p>
        {jobs.value.length === 0 ? <p class="muted">{t('exports.noJobs')}</p> : <ul class="jobs">{jobs.value.map(jobRow)}</ul>}
      </section>
      {settingsSection()}
    </section>
  );
});
