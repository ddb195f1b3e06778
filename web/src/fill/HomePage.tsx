/** `/fill/`: the forms opened on this device, their drafts, and the submissions waiting to be sent or refused. */
import { defineComponent, h, onMounted, ref } from 'vue';
import { formatBytes, formatDateTime } from '../i18n.js';
import { t } from './messages.js';
import { fillHref } from './location.js';
import { discardItem, refreshOutbox, retryItem } from './outbox.js';
import { listAll, targetKey, type Draft, type KnownForm, type OutboxItem } from './store.js';

export const HomePage = defineComponent(() => {
  const forms = ref<KnownForm[]>([]);
  const drafts = ref<Draft[]>([]);
  const items = ref<OutboxItem[]>([]);

  async function load() {
    forms.value = (await listAll('forms')).sort((a, b) => b.openedAt.localeCompare(a.openedAt));
    drafts.value = (await listAll('drafts')).sort((a, b) => b.savedAt.localeCompare(a.savedAt));
    items.value = await refreshOutbox();
  }
  onMounted(load);

  async function retry(id: number) {
    await retryItem(id);
    await load();
  }
  async function discard(id: number) {
    if (!window.confirm(t('fill.discardConfirm'))) return;
    await discardItem(id);
    await load();
  }

  return () => (
    <div class="fill-page">
      <h1 class="fill-title">{t('fill.home')}</h1>
      <p class="muted">{t('fill.homeHelp')}</p>
      {forms.value.length === 0 ? (
        <p>{t('fill.noForms')}</p>
      ) : (
        <ul class="fill-list">
          {forms.value.map((form) => (
            <li key={targetKey(form.target)}>
              <a href={fillHref(form.target)}>{form.title}</a>
              <span class="muted">{form.target.key === null ? t('fill.viaAccount') : t('fill.viaLink')} · {formatDateTime(form.openedAt)}</span>
            </li>
          ))}
        </ul>
      )}
      <h2>{t('fill.draftsTitle')}</h2>
      {drafts.value.length === 0 ? (
        <p class="muted">{t('fill.draftsNone')}</p>
      ) : (
        <ul class="fill-list">
          {drafts.value.map((draft) => (
            <li key={draft.id}>
              <a href={fillHref(draft.target, `?draft=${draft.id}`)}>{draft.title}</a>
              <span class="muted">{formatDateTime(draft.savedAt)}</span>
            </li>
          ))}
        </ul>
      )}
      <h2>{t('fill.outboxTitle')}</h2>
      {items.value.length === 0 ? (
        <p class="muted">{t('fill.outboxNone')}</p>
      ) : (
        <ul class="fill-list">
          {items.value.map((item) => (
            <li key={item.id}>
              <span>{item.title} · {formatDateTime(item.createdAt)} · {formatBytes(item.bytes)}</span>
              {item.refusal !== null ? <span class="fill-refusal">{t('fill.refused', { message: item.refusal.message })}</span> : null}
              <span class="row">
                {item.refusal !== null ? <button type="button" class="fk-btn small" onClick={() => void retry(item.id!)}>{t('fill.retry')}</button> : null}
                <button type="button" class="fk-btn small secondary" onClick={() => void discard(item.id!)}>{t('fill.discard')}</button>
              </span>
            </li>
          ))}
        </ul>
      )}
    </div>
  );
});
