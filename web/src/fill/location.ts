/**
 * The fill page's addresses, all served by the same page:
 *
 * - `/fill/` — the forms opened on this device, drafts, and what waits to be sent;
 * - `/fill/{projectId}/{formId}` — fill in a form (`?draft={id}` resumes a draft);
 * - `/fill/{projectId}/{formId}/edit/{instanceId}` — edit a submission (members who may);
 *
 * with `#key=fk_pub_…` for a public link. The link's token stays in the fragment, which browsers
 * never send to the server, so it is in no request line and no log; the page puts it only in the
 * OpenRosa paths (`/key/{token}/…`), whose tokens the server's log redacts.
 */
import type { FormTarget } from './store.js';

export type FillRoute =
  | { kind: 'home' }
  | { kind: 'form'; target: FormTarget; draftId: number | null }
  | { kind: 'edit'; target: FormTarget; instanceId: string }
  | { kind: 'unknown' };

export function fillRoute(location: Pick<Location, 'pathname' | 'search' | 'hash'>): FillRoute {
  const parts = location.pathname.split('/').filter((part) => part !== '').map((part) => decodeURIComponent(part));
  if (parts[0] !== 'fill') return { kind: 'unknown' };
  if (parts.length === 1) return { kind: 'home' };
  const [, projectId, formId, action, instanceId] = parts;
  if (projectId === undefined || formId === undefined || !/^[1-9][0-9]{0,14}$/.test(projectId)) return { kind: 'unknown' };
  const key = new URLSearchParams(location.hash.replace(/^#/, '')).get('key');
  const target: FormTarget = { projectId, formId, key: key === null || key === '' ? null : key };
  if (parts.length === 3) {
    const draft = Number(new URLSearchParams(location.search).get('draft'));
    return { kind: 'form', target, draftId: Number.isInteger(draft) && draft > 0 ? draft : null };
  }
  if (parts.length === 5 && action === 'edit' && instanceId !== undefined && target.key === null) return { kind: 'edit', target, instanceId };
  return { kind: 'unknown' };
}

/** The address of a form's fill page (with its link's token in the fragment). */
export function fillHref(target: FormTarget, search = ''): string {
  const path = `/fill/${encodeURIComponent(target.projectId)}/${encodeURIComponent(target.formId)}${search}`;
  return target.key === null ? path : `${path}#key=${encodeURIComponent(target.key)}`;
}
