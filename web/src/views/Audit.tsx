/** The audit log of a project (/p/:id/activity) or of the instance (/admin/activity), newest first, with filters. */
import { defineComponent, h, onMounted, ref } from 'vue';
import { useRoute } from 'vue-router';
import { get, withQuery, type Query } from '../api.js';
import { crumbs, projectTabs } from '../components/nav.js';
import { attempt, errorNotice, textField } from '../components/ui.js';
import { formatDateTime, t } from '../i18n.js';
import { projectPath, useProject } from '../project.js';
import type { AuditEntry } from '../types.js';

export default defineComponent(() => {
  const route = useRoute();
  const projectId = route.params.projectId === undefined ? null : String(route.params.projectId);
  const path = projectId === null ? '/api/v1/admin/audit' : `${projectPath(projectId)}/audit`;
  const { project } = useProject();
  const entries = ref<AuditEntry[]>([]);
  const nextBefore = ref<number | null>(null);
  const action = ref('');
  const from = ref('');
  const to = ref('');
  const error = ref<unknown>(null);

  const filters = (): Query => ({
    action: action.value.trim() || undefined,
    from: from.value ? new Date(from.value).toISOString() : undefined,
    to: to.value ? new Date(to.value).toISOString() : undefined,
  });

  async function load(more: boolean) {
    await attempt(error, async () => {
      const page = await get<{ entries: AuditEntry[]; nextBefore: number | null }>(path, { ...filters(), limit: 50, before: more ? (nextBefore.value ?? undefined) : undefined });
      entries.value = more ? [...entries.value, ...page.entries] : page.entries;
      nextBefore.value = page.nextBefore;
    });
  }
  onMounted(() => load(false));

  function apply(event: Event) {
    event.preventDefault();
    void load(false);
  }

  return () => (
    <section class="page">
      {projectId !== null ? crumbs([['/', t('nav.projects')], [`/p/${projectId}`, project.value?.name ?? '…']]) : crumbs([['/admin', t('nav.admin')]])}
      <h1>{projectId === null ? t('audit.systemTitle') : (project.value?.name ?? t('audit.title'))}</h1>
      {projectId !== null ? projectTabs(projectId, route.path) : null}
      {errorNotice(error.value)}
      <form class="card toolbar" onSubmit={apply}>
        {textField({ id: 'audit-action', label: t('audit.filterAction'), value: action.value, onInput: (v) => (action.value = v), placeholder: 'submission.review' })}
        {textField({ id: 'audit-from', label: t('audit.from'), type: 'datetime-local', value: from.value, onInput: (v) => (from.value = v) })}
        {textField({ id: 'audit-to', label: t('audit.to'), type: 'datetime-local', value: to.value, onInput: (v) => (to.value = v) })}
        <button type="submit">{t('audit.apply')}</button>
        <a class="button secondary" href={withQuery(path.replace(/\/audit$/, '/audit.csv'), filters())} download>{t('audit.csv')}</a>
      </form>
      <div class="card table-scroll">
        <table>
          <thead><tr><th scope="col">{t('audit.when')}</th><th scope="col">{t('audit.who')}</th><th scope="col">{t('audit.action')}</th><th scope="col">{t('audit.resource')}</th><th scope="col">{t('audit.address')}</th></tr></thead>
          <tbody>
            {entries.value.length === 0 ? <tr><td colspan={5} class="muted">{t('common.none')}</td></tr> : null}
            {entries.value.map((entry) => (
              <tr>
                <td class="nowrap">{formatDateTime(entry.at)}</td>
                <td>{entry.actor.label ?? entry.actor.kind}</td>
                <td class="mono">{entry.action}</td>
                <td>{entry.resource === null ? '—' : `${entry.resource.type} ${entry.resource.id}`}</td>
                <td>{entry.address ?? '—'}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      {nextBefore.value !== null ? <button type="button" class="secondary" onClick={() => load(true)}>{t('audit.more')}</button> : null}
    </section>
  );
});
