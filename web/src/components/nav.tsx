/** Breadcrumbs and tabs shared by the project and form screens. */
import { h, type VNode } from 'vue';
import { RouterLink } from 'vue-router';
import { t } from '../i18n.js';
import type { MessageKey } from '../messages/en.js';

export function crumbs(links: Array<[string, string]>): VNode {
  return (
    <nav aria-label="Breadcrumb" class="crumbs">
      {links.map(([to, label], index) => (
        <span>{index > 0 ? ' / ' : ''}<RouterLink to={to}>{label}</RouterLink></span>
      ))}
    </nav>
  );
}

export function tabs(label: string, items: Array<[string, MessageKey]>, current: string): VNode {
  return (
    <nav aria-label={label} class="tabs">
      {items.map(([to, key]) => (
        <RouterLink to={to} aria-current={to === current ? 'page' : undefined}>{t(key)}</RouterLink>
      ))}
    </nav>
  );
}

export function projectTabs(projectId: string, current: string): VNode {
  const base = `/p/${projectId}`;
  return tabs(t('nav.projects'), [[base, 'project.forms'], [`${base}/sharing`, 'project.sharing'], [`${base}/encryption`, 'project.encryption'], [`${base}/activity`, 'project.audit']], current);
}

export function formTabs(projectId: string, formId: string, current: string): VNode {
  const base = `/p/${projectId}/f/${encodeURIComponent(formId)}`;
  return tabs(t('project.forms'), [[base, 'form.overview'], [`${base}/preview`, 'form.preview'], [`${base}/data`, 'form.data'], [`${base}/exports`, 'form.exports']], current);
}
