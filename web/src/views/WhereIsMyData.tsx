/** "Where is my data?": where this instance keeps the database, attachments and backups, and which projects are encrypted. */
import { defineComponent, Fragment, h, onMounted, ref } from 'vue';
import { get } from '../api.js';
import { attempt, errorNotice, padlockIcon } from '../components/ui.js';
import { t } from '../i18n.js';
import { instanceLinks } from '../instance.js';
import { projectPath } from '../project.js';
import type { ProjectSummary } from '../types.js';

interface Storage {
  database: string;
  attachments: string;
  backups: { directory: string; schedule: string | null; encrypted: boolean };
}

export default defineComponent(() => {
  const storage = ref<Storage | null>(null);
  const encryption = ref<Array<{ name: string; enabled: boolean }>>([]);
  const error = ref<unknown>(null);

  onMounted(() =>
    attempt(error, async () => {
      storage.value = await get<Storage>('/api/v1/instance/storage');
      const projects = (await get<{ projects: ProjectSummary[] }>('/api/v1/projects')).projects;
      encryption.value = await Promise.all(
        projects.map(async (project) => {
          const state = await get<{ enabled: boolean }>(`${projectPath(String(project.id))}/encryption`).catch(() => null);
          return { name: project.name, enabled: state?.enabled ?? false };
        }),
      );
    }),
  );

  return () => (
    <section class="page">
      <h1>{t('where.title')}</h1>
      <p>{t('where.intro')}</p>
      {errorNotice(error.value)}
      {storage.value !== null ? (
        <section class="card">
          <dl class="facts">
            <dt>{t('where.database')}</dt><dd class="mono">{storage.value.database}</dd>
            <dt>{t('where.attachments')}</dt><dd class="mono">{storage.value.attachments}</dd>
            <dt>{t('where.backups')}</dt>
            <dd>
              <span class="mono">{storage.value.backups.directory}</span>
              {' · '}{storage.value.backups.schedule ?? t('where.backupsNone')}
              {storage.value.backups.encrypted ? <> · {padlockIcon(false)} {t('form.encrypted')}</> : null}
            </dd>
          </dl>
        </section>
      ) : null}
      {instanceLinks.privacyUrl !== null || instanceLinks.termsUrl !== null ? (
        <section class="card" aria-labelledby="policies-title">
          <h2 id="policies-title">{t('where.policies')}</h2>
          <ul>
            {instanceLinks.privacyUrl !== null ? <li><a href={instanceLinks.privacyUrl} rel="noopener">{t('footer.privacy')}</a></li> : null}
            {instanceLinks.termsUrl !== null ? <li><a href={instanceLinks.termsUrl} rel="noopener">{t('footer.terms')}</a></li> : null}
          </ul>
        </section>
      ) : null}
      <section class="card" aria-labelledby="encryption-title">
        <h2 id="encryption-title">{t('where.encryption')}</h2>
        <ul>
          {encryption.value.map((project) => (
            <li class={project.enabled ? 'padlock' : ''}>{project.enabled ? <>{padlockIcon(false)} {t('where.encryptionOn', { project: project.name })}</> : t('where.encryptionOff', { project: project.name })}</li>
          ))}
        </ul>
      </section>
    </section>
  );
});
