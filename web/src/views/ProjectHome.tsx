/** A project's home: its forms with their state, how many submissions each has and when the last came. */
import { defineComponent, h, ref, watchEffect } from 'vue';
import { RouterLink, useRoute, useRouter } from 'vue-router';
import { get } from '../api.js';
import { crumbs, projectTabs } from '../components/nav.js';
import { errorNotice, padlockIcon } from '../components/ui.js';
import { FormUpload } from '../components/upload.js';
import { formatDateTime, formatNumber, t } from '../i18n.js';
import { formPath, hasRole, projectPath, useProject } from '../project.js';
import type { Form, SubmissionPage } from '../types.js';
import { formStateBadge } from './form-state.js';
import { EncryptedBar } from '../encryption/padlock.js';

interface FormStats {
  count: number | null;
  last: string | null;
}

export default defineComponent(() => {
  const route = useRoute();
  const router = useRouter();
  const { project, error, projectId } = useProject();
  const forms = ref<Form[] | null>(null);
  const stats = ref<Record<string, FormStats>>({});

  watchEffect(async () => {
    const id = projectId();
    try {
      forms.value = await get<Form[]>(`${projectPath(id)}/forms`);
    } catch (err) {
      error.value = err;
      return;
    }
    for (const form of forms.value) void loadStats(id, form.xmlFormId);
  });

  async function loadStats(id: string, formId: string) {
    try {
      const page = await get<SubmissionPage>(`${formPath(id, formId)}/submissions`, { limit: 1, count: true, sort: '-_submission_time', fields: '_submission_time' });
      const last = page.results[0]?._submission_time;
      stats.value = { ...stats.value, [formId]: { count: page.count ?? null, last: typeof last === 'string' ? last : null } };
    } catch {
      // A collector may not read submissions: the columns stay empty.
    }
  }

  return () => (
    <section class="page">
      {crumbs([['/', t('nav.projects')]])}
      {errorNotice(error.value)}
      {project.value !== null ? (
        <div>
          <h1>{project.value.name}</h1>
          {project.value.description ? <p>{project.value.description}</p> : null}
          <p class="muted">
            {t('project.owner', { name: project.value.owner.username })} · {t('project.yourRole', { roles: project.value.yourRoles.map((role) => t(`role.${role}`)).join(', ') })}
          </p>
          {(project.value.emergencyAccess ?? []).map((grant) => (
            <p class="notice notice-warn" role="status">{t('project.emergency', { name: grant.username, role: t(`role.${grant.role}`), until: formatDateTime(grant.expiresAt), reason: grant.reason })}</p>
          ))}
        </div>
      ) : null}
      {projectTabs(projectId(), route.path)}
      <EncryptedBar projectId={Number(projectId())} />
      <div class="card">
        <div class="table-scroll">
          <table>
            <caption class="visually-hidden">{t('project.forms')}</caption>
            <thead>
              <tr><th scope="col">{t('forms.title')}</th><th scope="col">{t('forms.state')}</th><th scope="col">{t('form.version')}</th><th scope="col">{t('forms.submissions')}</th><th scope="col">{t('forms.lastSubmission')}</th></tr>
            </thead>
            <tbody>
              {forms.value !== null && forms.value.length === 0 ? <tr><td colspan={5} class="muted">{t('project.noForms')}</td></tr> : null}
              {(forms.value ?? []).map((form) => {
                const formStats = stats.value[form.xmlFormId];
                return (
                  <tr>
                    <td>
                      <RouterLink to={`/p/${projectId()}/f/${encodeURIComponent(form.xmlFormId)}`}>{form.title}</RouterLink>
                      <div class="hint mono">{form.xmlFormId}</div>
                    </td>
                    <td>{formStateBadge(form)} {form.published?.encrypted ? <span class="badge badge-good">{padlockIcon(false)} {t('form.encrypted')}</span> : null}</td>
                    <td>{form.published?.version ?? '—'}</td>
                    <td>{formStats?.count == null ? '—' : <RouterLink to={`/p/${projectId()}/f/${encodeURIComponent(form.xmlFormId)}/data`}>{formatNumber(formStats.count)}</RouterLink>}</td>
                    <td>{formatDateTime(formStats?.last)}</td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      </div>
      {hasRole(project.value, ['owner', 'manager']) ? (
        <FormUpload path={`${projectPath(projectId())}/forms`} heading={t('forms.upload')} onUploaded={(form: Form) => void router.push(`/p/${projectId()}/f/${encodeURIComponent(form.xmlFormId)}`)} />
      ) : null}
    </section>
  );
});
