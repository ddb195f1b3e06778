/** Breadcrumbs and tabs shared by the project and form screens. */
import { Fragment, h, type VNode } from 'vue';
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

/** The top of every form screen: the way back to the project, the form's title and its tabs. */
export function formHeader(place: { projectId: string; projectName: string | undefined; formId: string; title: string | undefined }, current: string): VNode {
  const base = `/p/${place.projectId}/f/${encodeURIComponent(place.formId)}`;
  return (
    <>
      {crumbs([['/', t('nav.projects')], [`/p/${place.projectId}`, place.projectName ?? '…']])}
      <h1>{place.title ?? place.formId}</h1>
      {tabs(t('project.forms'), [[base, 'form.overview'], [`${base}/preview`, 'form.preview'], [`${base}/data`, 'form.data'], [`${base}/exports`, 'form.exports']], current)}
    </>
  );
}
