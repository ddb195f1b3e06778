/**
 * A form's submissions, one page at a time from the server: sort by any column, a filter under each
 * column heading, a column chooser, labels or values in any of the form's languages, and bulk
 * review or move to the trash. The same submissions (as the filters leave them) can be seen as a
 * per-question summary or a map instead (`?view=summary`, `?view=map`), each loaded when opened.
 */
import { computed, defineAsyncComponent, defineComponent, Fragment, h, reactive, ref, watch } from 'vue';
import { RouterLink, useRoute } from 'vue-router';
import { get, post } from '../api.js';
import { formHeader } from '../components/nav.js';
import { attempt, checkbox, errorNotice, okNotice, padlockIcon, selectField } from '../components/ui.js';
import { filterQuery, reviewStatusOf, reviewStatuses, setReview, submissionIdOf, useFormShape } from '../data.js';
import { formatDateTime, formatNumber, t } from '../i18n.js';
import { formPath, hasRole, useForm, useProject } from '../project.js';
import type { ReviewStatus, SubmissionPage, SubmissionRow } from '../types.js';
import { displayAnswer, labelIn, type Question } from '../xform.js';
import { reviewBadge } from './form-state.js';
import { EncryptedBar } from '../encryption/padlock.js';
import { keyCount, loadKeys } from '../encryption/state.js';

interface Column {
  key: string;
  heading: string;
  question?: Question;
  type: string;
}

const SYSTEM_FIELDS = ['_id', 'meta/rootUuid', 'meta/instanceID', '_validation_status', '_submission_time', '_submitted_by', '_encrypted'];
const DataSummary = defineAsyncComponent(() => import('./DataSummary.js'));
const DataMap = defineAsyncComponent(() => import('./DataMap.js'));
type View = 'table' | 'summary' | 'map';
const views: View[] = ['table', 'summary', 'map'];

export default defineComponent(() => {
  const route = useRoute();
  const { project } = useProject();
  const { form, projectId, formId } = useForm();
  const base = () => formPath(projectId(), formId());
  const shape = useFormShape(() => `${base()}/xform`);

  const language = ref('');
  const showLabels = ref(true);
  const pageSize = ref(25);
  const sort = ref('-_submission_time');
  const filters = reactive<Record<string, string>>({});
  // What is typed in each filter box before it is applied (Enter or leaving the box): Vue sets an
  // input's value on every render, so without it a page arriving mid-typing would wipe the text.
  const typed = reactive<Record<string, string>>({});
  const hidden = ref<Set<string>>(new Set(JSON.parse(localStorage.getItem(`fieldkeep.hidden.${formId()}`) ?? '[]') as string[]));
  const cursors = ref<Array<string | undefined>>([undefined]);
  const pageIndex = ref(0);
  const page = ref<SubmissionPage | null>(null);
  const total = ref<number | null>(null);
  const selected = ref<Set<string>>(new Set());
  const bulkStatus = ref<string>('approved');
  const confirmingDelete = ref(false);
  const error = ref<unknown>(null);
  const notice = ref<string | null>(null);

  const view = computed<View>(() => views.find((v) => v === route.query.view) ?? 'table');
  const canReview = () => hasRole(project.value, ['owner', 'manager', 'editor', 'reviewer']);
  const canDelete = () => hasRole(project.value, ['owner', 'manager']);
  /** Rows are selectable only for someone who can act on a selection. */
  const canSelect = () => canReview() || canDelete();

  const columns = computed<Column[]>(() => {
    const lang = language.value || shape.value?.defaultLanguage || '';
    const answers: Column[] = (shape.value?.questions ?? [])
      .filter((q) => !q.inRepeat && q.type !== 'trigger' && q.type !== 'note')
      .map((q) => ({ key: q.key, heading: showLabels.value ? labelIn(q.labels, lang, q.key) : q.key, question: q, type: q.type }));
    return [
      { key: '_submission_time', heading: t('data.submittedAt'), type: 'dateTime' },
      { key: '_submitted_by', heading: t('data.submittedBy'), type: 'string' },
      { key: '_validation_status', heading: t('data.reviewStatus'), type: 'review' },
      ...answers,
    ];
  });
  const visibleColumns = computed(() => columns.value.filter((c) => !hidden.value.has(c.key)));
  const typeOf = (key: string) => columns.value.find((c) => c.key === key)?.type ?? 'string';

  /** Which load is the latest: an answer to an earlier one (a filter typed while a page loads) is dropped. */
  let latestLoad = 0;

  async function load() {
    if (view.value !== 'table' || (shape.value === null && form.value?.published != null)) return;
    const ticket = ++latestLoad;
    const fields = [...new Set([...SYSTEM_FIELDS, ...visibleColumns.value.map((c) => c.key)])].join(',');
    const index = pageIndex.value;
    await attempt(error, async () => {
      const answer = await get<SubmissionPage>(`${base()}/submissions`, {
        limit: pageSize.value,
        sort: sort.value,
        fields,
        filter: filterQuery(filters, typeOf),
        cursor: cursors.value[index],
        count: index === 0 ? true : undefined,
      });
      if (ticket !== latestLoad) return;
      page.value = answer;
      if (index === 0) total.value = answer.count ?? null;
      cursors.value[index + 1] = answer.next ?? undefined;
    });
  }

  function restart() {
    cursors.value = [undefined];
    pageIndex.value = 0;
    selected.value = new Set();
    void load();
  }

  watch([shape, sort, pageSize, () => JSON.stringify(filters), view], restart);
  watch(hidden, () => {
    localStorage.setItem(`fieldkeep.hidden.${formId()}`, JSON.stringify([...hidden.value]));
    void load();
  });

  function toggleSort(key: string) {
    sort.value = sort.value === key ? `-${key}` : key;
  }

  function toggleColumn(key: string, visible: boolean) {
    const next = new Set(hidden.value);
    if (visible) next.delete(key);
    else next.add(key);
    hidden.value = next;
  }

  function toggleRow(id: string, on: boolean) {
    const next = new Set(selected.value);
    if (on) next.add(id);
    else next.delete(id);
    selected.value = next;
  }

  function toggleAll(on: boolean) {
    selected.value = on ? new Set((page.value?.results ?? []).map(submissionIdOf)) : new Set();
  }

  async function reviewSelected() {
    const ids = [...selected.value];
    if (await attempt(error, () => setReview(base(), ids, bulkStatus.value as ReviewStatus))) {
      notice.value = t('review.saved');
      selected.value = new Set();
      await load();
    }
  }

  async function deleteSelected() {
    const ids = [...selected.value];
    confirmingDelete.value = false;
    if (await attempt(error, () => post(`${base()}/submissions/delete`, { instanceIds: ids }))) restart();
  }

  function cell(column: Column, row: SubmissionRow) {
    if (row._encrypted === true && column.question !== undefined) {
      const answers = decrypted.value[submissionIdOf(row)];
      if (answers === undefined || answers === 'failed') {
        return <span class="locked-cell">{padlockIcon(false)}<span class="visually-hidden">{answers === 'failed' ? t('data.notDecrypted') : t('data.encryptedCell')}</span></span>;
      }
      return displayAnswer(column.question, answers[column.key], currentLanguage(), showLabels.value);
    }
    const value = row[column.key];
    if (column.key === '_submission_time') return formatDateTime(value as string);
    if (column.key === '_validation_status') {
      return reviewBadge(reviewStatusOf(row));
    }
    return displayAnswer(column.question, value, language.value || shape.value?.defaultLanguage || '', showLabels.value);
  }

  function sortButton(column: Column) {
    // The server cannot sort on answers it cannot read.
    if (encrypted() && column.question !== undefined) return <th scope="col">{column.heading}</th>;
    const active = sort.value === column.key ? 'ascending' : sort.value === `-${column.key}` ? 'descending' : 'none';
    const label = active === 'ascending' ? t('data.sortDesc', { column: column.heading }) : t('data.sortAsc', { column: column.heading });
    return (
      <th scope="col" aria-sort={active}>
        <button type="button" class="sort" aria-label={label} onClick={() => toggleSort(column.key)}>
          {column.heading} {active === 'ascending' ? '▲' : active === 'descending' ? '▼' : ''}
        </button>
      </th>
    );
  }

  const rows = () => page.value?.results ?? [];
  const currentLanguage = () => language.value || shape.value?.defaultLanguage || '';
  const activeFilters = () => Object.values(filters).filter((text) => text.trim() !== '').length;
  const submissionPath = (id: string) => `/p/${projectId()}/f/${encodeURIComponent(formId())}/s/${encodeURIComponent(id)}`;

  // Encrypted submissions come without answers; once the project is unlocked in this tab, each
  // row of the page is decrypted here (its answers only: photos stay on the server until opened).
  const encrypted = () => form.value?.published?.encrypted === true || rows().some((row) => row._encrypted === true);
  const decrypted = ref<Record<string, Record<string, unknown> | 'failed'>>({});
  watch([page, () => keyCount(Number(projectId()))], async ([current, count]) => {
    decrypted.value = {};
    if (count === 0 || current === null) return;
    const keys = await loadKeys().catch((err: unknown) => {
      error.value = err;
      return null;
    });
    if (keys === null) return;
    const version = form.value?.published?.version ?? '';
    await Promise.all(
      current.results.filter((row) => row._encrypted === true).map(async (row) => {
        const id = submissionIdOf(row);
        const answers = await keys.decryptAnswers(Number(projectId()), formId(), version, id).catch(() => 'failed' as const);
        if (page.value === current) decrypted.value = { ...decrypted.value, [id]: answers };
      }),
    );
  });

  const tableView = () => (
    <>
      {selected.value.size > 0 ? (
        <div class="card toolbar" role="region" aria-label={t('data.selected', { count: selected.value.size })}>
          <p><strong>{t('data.selected', { count: selected.value.size })}</strong></p>
          {canReview() ? (
            <>
              {selectField({ id: 'bulk-status', label: t('data.review'), value: bulkStatus.value, options: reviewStatuses.map((s) => [s, t(`review.${s}`)]), onChange: (v) => (bulkStatus.value = v) })}
              <button type="button" onClick={reviewSelected}>{t('data.review')}</button>
            </>
          ) : null}
          {canDelete() ? (
            confirmingDelete.value ? (
              <div class="notice notice-warn" role="alertdialog" aria-label={t('data.deleteSelected')}>
                <p>{t('data.deleteConfirm', { count: selected.value.size })}</p>
                <div class="row">
                  <button type="button" class="danger" onClick={deleteSelected}>{t('data.deleteSelected')}</button>
                  <button type="button" class="secondary" onClick={() => (confirmingDelete.value = false)}>{t('common.cancel')}</button>
                </div>
              </div>
            ) : <button type="button" class="danger" onClick={() => (confirmingDelete.value = true)}>{t('data.deleteSelected')}</button>
          ) : null}
        </div>
      ) : null}

      {encrypted() ? <p class="hint">{t('data.encryptedNoFilter')}</p> : null}
      <div class="table-scroll card">
        <table class="data-table">
          <thead>
            <tr>
              <th scope="col">{canSelect() ? <input type="checkbox" aria-label={t('data.selectAll')} checked={rows().length > 0 && selected.value.size === rows().length} onChange={(e: Event) => toggleAll((e.target as HTMLInputElement).checked)} /> : <span class="visually-hidden">{t('data.open')}</span>}</th>
              {visibleColumns.value.map(sortButton)}
            </tr>
            <tr class="filter">
              <td></td>
              {visibleColumns.value.map((column) => (
                <td>
                  {column.key === '_validation_status' || column.key === '_submission_time' || (encrypted() && column.question !== undefined) ? null : (
                    <input type="search" aria-label={t('data.filter', { column: column.heading })} value={typed[column.key] ?? filters[column.key] ?? ''} onInput={(e: Event) => (typed[column.key] = (e.target as HTMLInputElement).value)} onChange={(e: Event) => (filters[column.key] = (e.target as HTMLInputElement).value)} />
                  )}
                </td>
              ))}
            </tr>
          </thead>
          <tbody>
            {page.value === null && error.value === null ? <tr><td colspan={visibleColumns.value.length + 1} role="status">{t('app.loading')}</td></tr> : null}
            {page.value !== null && rows().length === 0 ? <tr><td colspan={visibleColumns.value.length + 1} class="muted">{t('data.empty')}</td></tr> : null}
            {rows().map((row) => {
              const id = submissionIdOf(row);
              return (
                <tr class={selected.value.has(id) ? 'selected' : ''}>
                  <td class="nowrap">
                    <div class="row">
                      {canSelect() ? <input type="checkbox" aria-label={t('data.selectRow', { id: String(row._id) })} checked={selected.value.has(id)} onChange={(e: Event) => toggleRow(id, (e.target as HTMLInputElement).checked)} /> : null}
                      <RouterLink to={submissionPath(id)}>{t('data.open')}<span class="visually-hidden"> {String(row._id)}</span></RouterLink>
                    </div>
                  </td>
                  {visibleColumns.value.map((column) => <td>{cell(column, row)}</td>)}
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
      <div class="row">
        <button type="button" class="secondary" disabled={pageIndex.value === 0} onClick={() => { pageIndex.value--; void load(); }}>{t('common.previous')}</button>
        <button type="button" class="secondary" disabled={!page.value?.next} onClick={() => { pageIndex.value++; void load(); }}>{t('common.next')}</button>
      </div>
    </>
  );

  return () => (
    <section class="page">
      {formHeader({ projectId: projectId(), projectName: project.value?.name, formId: formId(), title: form.value?.title }, route.path)}
      {errorNotice(error.value)}
      {okNotice(notice.value)}
      {encrypted() ? <EncryptedBar projectId={Number(projectId())} encrypted lockedText={t('data.lockedHelp')} /> : null}
      <nav aria-label={t('data.views')} class="tabs subtabs">
        {views.map((v) => (
          <RouterLink to={{ path: route.path, query: { ...route.query, view: v === 'table' ? undefined : v } }} aria-current={view.value === v ? 'page' : undefined}>{t(`data.view.${v}`)}</RouterLink>
        ))}
      </nav>
      {view.value === 'map' && (shape.value?.languages.length ?? 0) < 2 && activeFilters() === 0 ? null : <div class="card">
        <div class="toolbar">
          {shape.value !== null && shape.value.languages.length > 1
            ? selectField({ id: 'data-lang', label: t('data.lang'), value: language.value || shape.value.defaultLanguage, options: shape.value.languages.map((l) => [l, l]), onChange: (v) => (language.value = v) })
            : null}
          {view.value !== 'map' ? selectField({ id: 'data-labels', label: t('data.display'), value: showLabels.value ? 'labels' : 'values', options: [['labels', t('data.labels')], ['values', t('data.values')]], onChange: (v) => (showLabels.value = v === 'labels') }) : null}
          {view.value === 'table' ? selectField({ id: 'data-size', label: t('data.pageSize'), value: String(pageSize.value), options: [['25', '25'], ['50', '50'], ['100', '100']], onChange: (v) => (pageSize.value = Number(v)) }) : null}
          {view.value === 'table' ? <p class="muted" aria-live="polite">{total.value === null ? '' : t('data.count', { count: formatNumber(total.value) })}</p> : null}
        </div>
        {view.value !== 'table' && activeFilters() > 0 ? <p class="hint">{t('data.filtersApply', { count: activeFilters() })}</p> : null}
        {view.value === 'table' ? <details>
          <summary>{t('data.columns')}</summary>
          <div class="columns">
            {columns.value.map((column) => checkbox({ id: `col-${column.key}`, label: column.heading, checked: !hidden.value.has(column.key), onChange: (v) => toggleColumn(column.key, v) }))}
          </div>
        </details> : null}
      </div>}
      {view.value !== 'table' && encrypted() ? <p class="notice notice-warn">{t('data.encryptedNotSummarised')}</p> : null}
      {view.value === 'summary' && shape.value !== null ? <DataSummary base={base()} shape={shape.value} language={currentLanguage()} showLabels={showLabels.value} filter={filterQuery(filters, typeOf)} /> : null}
      {view.value === 'map' && shape.value !== null ? <DataMap base={base()} shape={shape.value} language={currentLanguage()} filter={filterQuery(filters, typeOf)} submissionPath={submissionPath} /> : null}
      {view.value !== 'table' && shape.value === null ? <p role="status" class="card">{form.value !== null && form.value.published === null ? t('form.notPublished') : t('app.loading')}</p> : null}
      {view.value === 'table' ? tableView() : null}
    </section>
  );
});

