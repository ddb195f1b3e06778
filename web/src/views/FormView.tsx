/** One form: published version and draft (with warnings), publish, versions, media files, public links, trash. */
import { defineComponent, Fragment, h, ref, watchEffect } from 'vue';
import { useRoute } from 'vue-router';
import { ApiError, api, del, get, patch, post } from '../api.js';
import { formHeader } from '../components/nav.js';
import { attempt, badge, checkbox, errorNotice, issuesTable, okNotice, padlockIcon, textField } from '../components/ui.js';
import { FormUpload } from '../components/upload.js';
import { formatBytes, formatDateTime, t } from '../i18n.js';
import { formPath, hasRole, useForm, useProject } from '../project.js';
import type { Form, FormVersion, MediaFile, PublicLink, TrashEntry } from '../types.js';
import { formStateBadge } from './form-state.js';

export default defineComponent(() => {
  const route = useRoute();
  const { project } = useProject();
  const { form, error, reload, projectId, formId } = useForm();
  const versions = ref<FormVersion[]>([]);
  const trash = ref<TrashEntry[]>([]);
  const links = ref<PublicLink[]>([]);
  const newLink = ref<{ serverUrl: string; fillUrl: string } | null>(null);
  const linkLabel = ref('');
  const linkOnce = ref(false);
  const notice = ref<string | null>(null);
  const actionError = ref<unknown>(null);
  const needsConsent = ref(false);

  const base = () => formPath(projectId(), formId());
  const canManage = () => hasRole(project.value, ['owner', 'manager']);
  const canSubmit = () => hasRole(project.value, ['owner', 'manager', 'editor', 'collector']);

  async function loadLists() {
    await attempt(actionError, async () => {
      versions.value = await get<FormVersion[]>(`${base()}/versions`);
      if (canManage()) {
        trash.value = await get<TrashEntry[]>(`${base()}/trash`);
        links.value = await get<PublicLink[]>(`${base()}/public-links`);
      }
    });
  }
  watchEffect(() => {
    if (formId() !== '' && project.value !== null) void loadLists();
  });

  async function publish(acceptChanges: boolean) {
    notice.value = null;
    try {
      await post(`${base()}/draft/publish`, undefined, acceptChanges ? { acceptChanges: true } : {});
      needsConsent.value = false;
      notice.value = t('form.published.done');
      actionError.value = null;
      await reload();
      await loadLists();
    } catch (err) {
      if (err instanceof ApiError && err.code === 'form.incompatible_change') needsConsent.value = true;
      actionError.value = err;
    }
  }

  async function discardDraft() {
    if (await attempt(actionError, () => del(`${base()}/draft`))) await reload();
  }

  async function setState(state: string) {
    if (await attempt(actionError, () => patch(base(), { state }))) await reload();
  }

  async function uploadMedia(file: MediaFile, event: Event) {
    const chosen = (event.target as HTMLInputElement).files?.[0];
    if (chosen === undefined) return;
    if (await attempt(actionError, () => api('PUT', `${base()}/media/${encodeURIComponent(file.name)}`, { body: chosen }))) await reload();
  }

  async function restore(instanceId: string) {
    if (await attempt(actionError, () => post(`${base()}/submissions/${encodeURIComponent(instanceId)}/restore`))) {
      notice.value = t('trash.restored');
      await loadLists();
    }
  }

  async function createLink(event: Event) {
    event.preventDefault();
    await attempt(actionError, async () => {
      newLink.value = await post<{ serverUrl: string; fillUrl: string }>(`${base()}/public-links`, { label: linkLabel.value, ...(linkOnce.value ? { once: true } : {}) });
      linkLabel.value = '';
    });
    await loadLists();
  }

  async function revokeLink(id: number) {
    if (await attempt(actionError, () => del(`${base()}/public-links/${id}`))) await loadLists();
  }

  function versionFacts(version: FormVersion) {
    return (
      <dl class="facts">
        <dt>{t('forms.title')}</dt><dd>{version.title}</dd>
        <dt>{t('form.version')}</dt><dd>{version.version}</dd>
        <dt>{t('form.source')}</dt><dd>{version.source.fileName}</dd>
        <dt>{t('common.created')}</dt><dd>{formatDateTime(version.createdAt)}</dd>
        {version.encrypted ? <><dt>{t('form.encrypted')}</dt><dd class="padlock">{padlockIcon(false)} {t('common.yes')}</dd></> : null}
      </dl>
    );
  }

  const publishedSection = (current: Form) => (
    <section class="card" aria-labelledby="published-title">
      <div class="row spread">
        <h2 id="published-title">{t('form.published')}</h2>
        {formStateBadge(current)}
      </div>
      {current.published === null ? <p>{t('form.notPublished')}</p> : (
        <>
          {versionFacts(current.published)}
          <p class="row">
            <a class="button small secondary" href={`${base()}/xform`} download>{t('form.xform')}</a>
            {canSubmit() && current.state === 'open' ? <a class="button small" href={new URL(current.fillUrl).pathname}>{t('fill.fill')}</a> : null}
            {canManage() && current.state !== 'open' ? <button type="button" class="small secondary" onClick={() => setState('open')}>{t('form.open')}</button> : null}
            {canManage() && current.state === 'open' ? <button type="button" class="small secondary" onClick={() => setState('closing')}>{t('form.close')}</button> : null}
          </p>
        </>
      )}
    </section>
  );

  const draftSection = (current: Form) => (
    <section class="card" aria-labelledby="draft-title">
      <h2 id="draft-title">{t('form.draft')}</h2>
      {current.draft === null ? <p>{t('form.noDraft')}</p> : (
        <>
          {versionFacts(current.draft)}
          {current.draft.warnings.length > 0 ? <div class="notice notice-warn">{issuesTable(current.draft.warnings, t('forms.warnings'))}</div> : <p class="muted">{t('forms.noWarnings')}</p>}
          {canManage() ? (
            <div class="row">
              {needsConsent.value ? (
                <>
                  <p class="notice notice-warn">{t('form.incompatible')}</p>
                  <button type="button" class="danger" onClick={() => publish(true)}>{t('common.confirm')}</button>
                </>
              ) : <button type="button" onClick={() => publish(false)}>{t('form.publish')}</button>}
              <button type="button" class="secondary" onClick={discardDraft}>{t('form.discardDraft')}</button>
            </div>
          ) : null}
        </>
      )}
    </section>
  );

  const mediaSection = (current: Form) => (
    <section class="card" aria-labelledby="media-title">
      <h2 id="media-title">{t('form.media')}</h2>
      {current.media.length === 0 ? <p class="muted">{t('media.none')}</p> : (
        <div class="table-scroll">
          <table>
            <thead><tr><th scope="col">{t('common.name')}</th><th scope="col">{t('common.state')}</th><th scope="col">{t('media.size')}</th><th scope="col"><span class="visually-hidden">{t('common.actions')}</span></th></tr></thead>
            <tbody>
              {current.media.map((file) => (
                <tr>
                  <td class="mono">{file.name}</td>
                  <td>{file.uploaded ? badge(t('media.present'), 'good') : badge(t('media.missing'), 'warn')}</td>
                  <td>{formatBytes(file.size)}</td>
                  <td>
                    {canManage() ? (
                      <label class="button small secondary">
                        {t('common.upload')}<span class="visually-hidden"> {file.name}</span>
                        <input type="file" class="visually-hidden" onChange={(e: Event) => uploadMedia(file, e)} />
                      </label>
                    ) : null}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );

  const versionsSection = () => (
    <section class="card" aria-labelledby="versions-title">
      <h2 id="versions-title">{t('form.versions')}</h2>
      <div class="table-scroll">
        <table>
          <thead><tr><th scope="col">{t('form.version')}</th><th scope="col">{t('forms.title')}</th><th scope="col">{t('form.publishedAt')}</th><th scope="col">{t('form.source')}</th></tr></thead>
          <tbody>
            {versions.value.length === 0 ? <tr><td colspan={4} class="muted">{t('common.none')}</td></tr> : null}
            {versions.value.map((version) => (
              <tr>
                <td>{version.version}</td>
                <td>{version.title}</td>
                <td>{formatDateTime(version.publishedAt)}</td>
                <td><a href={`${base()}/versions/${version.id}/source`} download>{version.source.fileName}</a></td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );

  const linksSection = () => (
    <section class="card" aria-labelledby="links-title">
      <h2 id="links-title">{t('form.links')}</h2>
      <p class="muted">{t('links.help')}</p>
      {newLink.value !== null ? <div class="notice notice-ok" role="status"><p>{t('links.fillUrl')}: <code>{newLink.value.fillUrl}</code></p><p>{t('links.url')}: <code>{newLink.value.serverUrl}</code></p></div> : null}
      <form class="toolbar" onSubmit={createLink}>
        {textField({ id: 'link-label', label: t('devices.label'), value: linkLabel.value, onInput: (v) => (linkLabel.value = v), required: true })}
        {checkbox({ id: 'link-once', label: t('links.once'), checked: linkOnce.value, onChange: (v) => (linkOnce.value = v) })}
        <button type="submit">{t('links.add')}</button>
      </form>
      <div class="table-scroll">
        <table>
          <thead><tr><th scope="col">{t('devices.label')}</th><th scope="col">{t('common.state')}</th><th scope="col">{t('common.created')}</th><th scope="col"><span class="visually-hidden">{t('common.actions')}</span></th></tr></thead>
          <tbody>
            {links.value.map((link) => (
              <tr>
                <td>{link.label} {link.once ? badge(t('links.once')) : null}</td>
                <td>{badge(link.state === 'used' ? t('links.state.used') : t(`devices.state.${link.state}`), link.state === 'active' ? 'good' : 'plain')}</td>
                <td>{formatDateTime(link.createdAt)}</td>
                <td>{link.state === 'active' ? <button type="button" class="small secondary" onClick={() => revokeLink(link.id)}>{t('common.revoke')}</button> : null}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </div>
    </section>
  );

  const trashSection = () => (
    <section class="card" aria-labelledby="trash-title">
      <h2 id="trash-title">{t('form.trash')}</h2>
      {trash.value.length === 0 ? <p class="muted">{t('trash.empty')}</p> : (
        <div class="table-scroll">
          <table>
            <thead><tr><th scope="col">ID</th><th scope="col">{t('trash.deletedAt')}</th><th scope="col">{t('trash.deletedBy')}</th><th scope="col">{t('trash.purgeAfter')}</th><th scope="col"><span class="visually-hidden">{t('common.actions')}</span></th></tr></thead>
            <tbody>
              {trash.value.map((entry) => (
                <tr>
                  <td class="mono">{entry.instanceId}</td>
                  <td>{formatDateTime(entry.deletedAt)}</td>
                  <td>{entry.deletedBy ?? '—'}</td>
                  <td>{formatDateTime(entry.purgeAfter)}</td>
                  <td><button type="button" class="small secondary" aria-label={t('trash.restoreOne', { id: entry.instanceId })} onClick={() => restore(entry.instanceId)}>{t('trash.restore')}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </section>
  );

  return () => (
    <section class="page">
      {formHeader({ projectId: projectId(), projectName: project.value?.name, formId: formId(), title: form.value?.title }, route.path)}
      {errorNotice(error.value ?? actionError.value)}
      {okNotice(notice.value)}
      {form.value !== null ? (
        <>
          <div class="grid-2">
            {publishedSection(form.value)}
            {draftSection(form.value)}
          </div>
          {canManage() ? <FormUpload path={`${base()}/draft`} heading={t('form.uploadDraft')} onUploaded={() => void reload()} /> : null}
          {mediaSection(form.value)}
          {versionsSection()}
          {canManage() ? linksSection() : null}
          {canManage() ? trashSection() : null}
        </>
      ) : null}
    </section>
  );
});
