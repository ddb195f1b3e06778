/** Loading a project and a form by the ids in the address, shared by their screens. */
import { ref, watchEffect } from 'vue';
import { useRoute } from 'vue-router';
import { get } from './api.js';
import type { Form, Project } from './types.js';

export function projectPath(projectId: string): string {
  return `/api/v1/projects/${encodeURIComponent(projectId)}`;
}

export function formPath(projectId: string, formId: string): string {
  return `${projectPath(projectId)}/forms/${encodeURIComponent(formId)}`;
}

export function useProjectParams() {
  const route = useRoute();
  return {
    projectId: () => String(route.params.projectId ?? ''),
    formId: () => String(route.params.formId ?? ''),
  };
}

export function useProject() {
  const params = useProjectParams();
  const project = ref<Project | null>(null);
  const error = ref<unknown>(null);
  watchEffect(async () => {
    const id = params.projectId();
    if (id === '') return;
    try {
      project.value = await get<Project>(projectPath(id));
    } catch (err) {
      error.value = err;
    }
  });
  return { project, error, ...params };
}

export function useForm() {
  const params = useProjectParams();
  const form = ref<Form | null>(null);
  const error = ref<unknown>(null);
  async function reload() {
    try {
      form.value = await get<Form>(formPath(params.projectId(), params.formId()));
    } catch (err) {
      error.value = err;
    }
  }
  watchEffect(() => {
    if (params.formId() !== '') void reload();
  });
  return { form, error, reload, ...params };
}

/** Whether the signed-in person's roles allow one of the listed roles' actions. */
export function hasRole(project: Project | null, roles: readonly string[]): boolean {
  return project !== null && project.yourRoles.some((role) => roles.includes(role));
}
