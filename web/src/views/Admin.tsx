/** Administration: every project and its owner (names only), backups, the instance's activity, and the way to accounts. */
import { defineComponent, h, onMounted, ref } from 'vue';
import { RouterLink } from 'vue-router';
import { get } from '../api.js';
import { attempt, badge, errorNotice } from '../components/ui.js';
import { formatBytes, formatDateTime, t } from '../i18n.js';

interface AdminProject {
  id: number;
  name: string;
  archived: boolean;
  createdAt: string;
  owner: { id: number; username: string };
}

interface BackupStatus {
  directory: string;
  schedule: string | null;
  nextRunAt: string | null;
  lastSuccess: { at: string; file: string | null; bytes: number | null; verified: boolean | null } | null;
  lastFailure: { at: string; message: string | null } | null;
}

export default defineComponent(() => {
  const projects = ref<AdminProject[]>([]);
  const backups = ref<BackupStatus | null>(null);
  const error = ref<unknown>(null);
  const backupError = ref<unknown>(null);

  onMounted(async () => {
    await attempt(error, async () => {
      projects.value = (await get<{ projects: AdminProject[] }>('/api/v1/admin/projects')).projects;
    });
    await attempt(backupError, async () => {
      backups.value = await get<BackupStatus>('/api/v1/admin/backups');
    });
  });

  return () => (
    <section class="page">
      <h1>{t('admin.title')}</h1>
      <p><RouterLink to="/admin/activity">{t('audit.systemTitle')}</RouterLink></p>
      {errorNotice(error.value)}
      <div class="grid-2">
        <section class="card" aria-labelledby="backups-title">
          <h2 id="backups-title">{t('admin.backups')}</h2>
          {errorNotice(backupError.value)}
          {backups.value !== null ? (
            <dl class="facts">
              <dt>{t('admin.backupDir')}</dt><dd class="mono">{backups.value.directory}</dd>
              <dt>{t('admin.schedule')}</dt><dd>{backups.value.schedule ?? t('where.backupsNone')}</dd>
              <dt>{t('admin.nextRun')}</dt><dd>{formatDateTime(backups.value.nextRunAt)}</dd>
              <dt>{t('admin.lastSuccess')}</dt>
              <dd>{backups.value.lastSuccess === null ? t('common.never') : `${formatDateTime(backups.value.lastSuccess.at)} · ${formatBytes(backups.value.lastSuccess.bytes)}`}</dd>
              <dt>{t('admin.lastFailure')}</dt>
              <dd>{backups.value.lastFailure === null ? '—' : `${formatDateTime(backups.value.lastFailure.at)} · ${backups.value.lastFailure.message ?? ''}`}</dd>
            </dl>
          ) : null}
          <p><RouterLink to="/admin/backups" class="button secondary">{t('admin.manageBackups')}</RouterLink></p>
        </section>
        <section class="card" aria-labelledby="users-title">
          <h2 id="users-title">{t('admin.users')}</h2>
          <p>{t('admin.usersHelp')}</p>
          <p><RouterLink to="/admin/users" class="button secondary">{t('admin.manageUsers')}</RouterLink></p>
        </section>
      </div>
      <section class="card table-scroll" aria-labelledby="admin-projects-title">
        <h2 id="admin-projects-title">{t('admin.projects')}</h2>
        <table>
          <thead><tr><th scope="col">{t('common.name')}</th><th scope="col">{t('admin.owner')}</th><th scope="col">{t('common.created')}</th></tr></thead>
          <tbody>
            {projects.value.map((project) => (
              <tr>
                <td>{project.name} {project.archived ? badge(t('projects.archived')) : null}</td>
                <td>{project.owner.username}</td>
                <td>{formatDateTime(project.createdAt)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </section>
    </section>
  );
});
