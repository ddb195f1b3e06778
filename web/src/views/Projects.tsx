/** The projects the signed-in person has a role in, and creating a new one. */
import { defineComponent, h, onMounted, ref } from 'vue';
import { RouterLink, useRouter } from 'vue-router';
import { get, post } from '../api.js';
import { attempt, badge, errorNotice, textField } from '../components/ui.js';
import { formatDateTime, t } from '../i18n.js';
import type { ProjectSummary } from '../types.js';

export default defineComponent(() => {
  const router = useRouter();
  const projects = ref<ProjectSummary[] | null>(null);
  const error = ref<unknown>(null);
  const name = ref('');
  const description = ref('');

  onMounted(() =>
    attempt(error, async () => {
      projects.value = (await get<{ projects: ProjectSummary[] }>('/api/v1/projects')).projects;
    }),
  );

  async function create(event: Event) {
    event.preventDefault();
    await attempt(error, async () => {
      const created = await post<{ id: number }>('/api/v1/projects', { name: name.value, ...(description.value ? { description: description.value } : {}) });
      await router.push(`/p/${created.id}`);
    });
  }

  return () => (
    <section class="page">
      <h1>{t('projects.title')}</h1>
      {errorNotice(error.value)}
      <div class="grid-2">
        <div class="card">
          {projects.value === null ? <p>{t('app.loading')}</p> : projects.value.length === 0 ? <p>{t('projects.empty')}</p> : (
            <ul class="project-list">
              {projects.value.map((project) => (
                <li>
                  <RouterLink to={`/p/${project.id}`}><strong>{project.name}</strong></RouterLink> {project.archived ? badge(t('projects.archived')) : null}
                  {project.description ? <p class="muted">{project.description}</p> : null}
                  <p class="hint">{t('common.created')}: {formatDateTime(project.createdAt)}</p>
                </li>
              ))}
            </ul>
          )}
        </div>
        <form class="card" onSubmit={create} aria-labelledby="new-project">
          <h2 id="new-project">{t('projects.new')}</h2>
          {textField({ id: 'project-name', label: t('common.name'), value: name.value, onInput: (v) => (name.value = v), required: true })}
          {textField({ id: 'project-description', label: t('projects.description'), value: description.value, onInput: (v) => (description.value = v) })}
          <button type="submit">{t('common.create')}</button>
        </form>
      </div>
    </section>
  );
});
