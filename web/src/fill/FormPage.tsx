/**
 * Filling in one form: checks the form is open and this person (or link) may submit, renders it
 * with ODK Web Forms, and puts each finished instance in the outbox, encrypted first for an
 * encrypted project; then sends it and says whether it arrived or waits on this device. Drafts
 * save and resume the answers so far. In edit mode the submission's XML and files are reopened
 * in the engine and the result is sent as an edit (meta/deprecatedID).
 */
import { defineComponent, Fragment, h, nextTick, onBeforeUnmount, onMounted, ref, type PropType } from 'vue';
import { formatBytes, formatDateTime } from '../i18n.js';
import { t } from './messages.js';
import { formFacts, instanceFacts, withoutDeprecatedId, type FormFacts } from './instance.js';
import { fillHref } from './location.js';
import { OpenRosaError, Unreachable, currentCsrfToken, formListEntry, formMedia, formXml, submissionLimit, type FormListEntry } from './openrosa.js';
import { enqueue, flushOutbox, itemState } from './outbox.js';
import { getOne, listAll, remove, sameTarget, save, targetKey, type Draft, type FormTarget, type StoredPart } from './store.js';
import type { FilledForm, MountedWebForm, ReopenedInstance } from './web-forms.js';

type Tone = 'ok' | 'warn' | 'error';
interface Blocked {
  text: string;
  signIn: boolean;
}

class Stop extends Error {
  constructor(readonly blocked: Blocked) {
    super(blocked.text);
  }
}

const stop = (text: string, signIn = false) => new Stop({ text, signIn });

/** What a refusal means to the person holding the page. */
function stopFor(error: OpenRosaError): Stop {
  switch (error.code) {
    case 'auth.required':
      return stop(t('fill.signInToFill'), true);
    case 'public_link.refused':
    case 'public_link.wrong_project':
    case 'device.token_malformed':
      return stop(t('fill.linkRefused', { message: error.message }));
    case 'project.not_found':
      return stop(t('fill.noAccess'));
    case 'access.denied':
      return stop(t('fill.noRight'));
    case 'form.not_found':
    case 'form.not_published':
      return stop(t('fill.notFound'));
    case 'submission.form_closed':
      return stop(t('fill.closed'));
    default:
      return stop(error.message);
  }
}

const copyOf = (target: FormTarget): FormTarget => ({ projectId: target.projectId, formId: target.formId, key: target.key });

function plainParts(xml: string, attachments: readonly File[]): StoredPart[] {
  return [
    { field: 'xml_submission_file', fileName: 'submission.xml', type: 'text/xml', blob: new Blob([xml], { type: 'text/xml' }) },
    ...attachments.map((file) => ({ field: file.name, fileName: file.name, type: file.type || 'application/octet-stream', blob: file })),
  ];
}

export const FormPage = defineComponent({
  props: {
    target: { type: Object as PropType<FormTarget>, required: true },
    draftId: { type: Number as PropType<number | null>, default: null },
    editInstanceId: { type: String as PropType<string | null>, default: null },
  },
  setup(props) {
    const target = copyOf(props.target);
    const editing = props.editInstanceId !== null;
    const host = ref<HTMLElement | null>(null);
    const phase = ref<'loading' | 'ready' | 'blocked'>('loading');
    const blocked = ref<Blocked | null>(null);
    const title = ref(target.formId);
    const notice = ref<{ tone: Tone; text: string } | null>(null);
    const drafts = ref<Draft[]>([]);
    const facts = ref<FormFacts>({ encryptionKey: null, definesDeprecatedId: false });
    let engine: MountedWebForm | null = null;
    let maxBytes: number | null = null;
    /** The draft these answers came from or were last saved as: replaced on save, deleted once sent. */
    let draftId: number | null = null;
    let reopenedDraft = false;

    const say = (tone: Tone, text: string) => {
      notice.value = { tone, text };
      window.scrollTo(0, 0);
    };

    async function loadDrafts() {
      drafts.value = (await listAll('drafts')).filter((draft) => sameTarget(draft.target, target)).sort((a, b) => b.savedAt.localeCompare(a.savedAt));
    }

    async function openForm(): Promise<string> {
      const known = await getOne('forms', targetKey(target));
      if (target.key === null) {
        // Asking the OpenRosa paths without a session would meet an authentication challenge.
        const token = await currentCsrfToken().catch((error: unknown) => {
          if (error instanceof Unreachable) return undefined;
          throw error;
        });
        if (token === null) throw stop(t('fill.signInToFill'), true);
      }
      let entry: FormListEntry | null;
      try {
        entry = await formListEntry(target);
      } catch (error) {
        if (error instanceof OpenRosaError) throw stopFor(error);
        if (error instanceof Unreachable) throw stop(t('fill.offlineUnknown'));
        throw error;
      }
      let xml: string;
      try {
        xml = await formXml(target);
      } catch (error) {
        if (error instanceof OpenRosaError) throw stopFor(error);
        if (error instanceof Unreachable) throw stop(t('fill.offlineUnknown'));
        throw error;
      }
      // The form list offers only open forms; an edit of a submission to a closing form is still taken.
      if (entry === null && !editing) throw stop(t('fill.closed'));
      try {
        maxBytes = await submissionLimit(target);
      } catch (error) {
        if (error instanceof OpenRosaError) throw stopFor(error);
        if (!(error instanceof Unreachable)) throw error;
        maxBytes = known?.maxBytes ?? null;
      }
      facts.value = formFacts(xml);
      title.value = entry?.title || known?.title || target.formId;
      await save('forms', { id: targetKey(target), target, title: title.value, maxBytes, openedAt: new Date().toISOString() });
      return xml;
    }

    async function reopenDraft(): Promise<ReopenedInstance | undefined> {
      if (props.draftId === null) return undefined;
      const draft = await getOne('drafts', props.draftId);
      if (draft === undefined || !sameTarget(draft.target, target)) {
        say('warn', t('fill.draftNotFound'));
        return undefined;
      }
      draftId = props.draftId;
      reopenedDraft = true;
      return { xml: draft.xml, attachments: new Map(draft.attachments.map((file) => [file.name, async () => file.blob])) };
    }

    async function reopenSubmission(instanceId: string): Promise<ReopenedInstance> {
      const base = `/api/v1/projects/${encodeURIComponent(target.projectId)}/forms/${encodeURIComponent(target.formId)}/submissions/${encodeURIComponent(instanceId)}`;
      const read = async (path: string) => {
        const response = await fetch(`${base}${path}`, { credentials: 'same-origin' }).catch(() => {
          throw stop(t('fill.offlineUnknown'));
        });
        if (!response.ok) {
          const problem = (await response.json().catch(() => ({}))) as { title?: string; detail?: string };
          throw stop(t('fill.editNotPossible', { message: problem.detail ?? problem.title ?? String(response.status) }));
        }
        return response;
      };
      const row = (await (await read('')).json()) as { _encrypted?: boolean };
      if (row._encrypted === true) throw stop(t('fill.editNotPossible', { message: 'it is encrypted, and its answers are not in this browser.' }));
      const xml = await (await read('.xml')).text();
      const files = (await (await read('/attachments')).json()) as Array<{ name: string; received: boolean }>;
      const attachments = new Map(files.filter((file) => file.received).map((file) => [file.name, async () => (await read(`/attachments/${encodeURIComponent(file.name)}`)).blob()]));
      return { xml, attachments };
    }

    async function submit(filled: FilledForm): Promise<'next' | 'stay'> {
      notice.value = null;
      const xml = reopenedDraft && !facts.value.definesDeprecatedId ? withoutDeprecatedId(filled.xml) : filled.xml;
      const size = new Blob([xml]).size + filled.attachments.reduce((sum, file) => sum + file.size, 0);
      if (maxBytes !== null && size > maxBytes) {
        say('error', t('fill.tooLarge', { size: formatBytes(size), limit: formatBytes(maxBytes) }));
        throw new Error('too large');
      }
      const key = facts.value.encryptionKey;
      const parts = key === null ? plainParts(xml, filled.attachments) : await (await import('./encrypt.js')).encryptFilled(filled, xml, key);
      const id = await enqueue({ target, title: title.value, instanceId: instanceFacts(xml).instanceId, parts, bytes: size, createdAt: new Date().toISOString(), attempts: 0, refusal: null });
      if (draftId !== null) {
        await remove('drafts', draftId);
        draftId = null;
        reopenedDraft = false;
        history.replaceState(null, '', fillHref(target));
        await loadDrafts();
      }
      await flushOutbox();
      const { state, item } = await itemState(id);
      if (state === 'sent') say('ok', editing ? t('fill.editSent') : t('fill.sent'));
      else if (state === 'waiting') say('warn', t('fill.queued'));
      else say('error', t('fill.refused', { message: item?.refusal?.message ?? '' }));
      if (state === 'sent' && target.key !== null) await checkLinkStillWorks();
      return editing ? 'stay' : 'next';
    }

    /** A single-use link is spent by its submission: say so now rather than after the next form is filled. */
    async function checkLinkStillWorks() {
      try {
        await formListEntry(target);
      } catch (error) {
        if (error instanceof OpenRosaError) {
          blocked.value = stopFor(error).blocked;
          phase.value = 'blocked';
          engine?.unmount();
          engine = null;
        }
      }
    }

    async function saveDraft() {
      try {
        const filled = await engine?.snapshot();
        if (filled === null || filled === undefined) throw new Error(t('fill.draftNotReady'));
        const draft: Draft = { target, title: title.value, savedAt: new Date().toISOString(), xml: filled.xml, attachments: filled.attachments.map((file) => ({ name: file.name, blob: file })) };
        draftId = Number(await save('drafts', draftId === null ? draft : { ...draft, id: draftId }));
        await loadDrafts();
        say('ok', t('fill.draftSaved'));
      } catch (error) {
        say('error', t('fill.draftFailed', { message: error instanceof Error ? error.message : String(error) }));
      }
    }

    async function deleteDraft(id: number) {
      await remove('drafts', id);
      if (draftId === id) draftId = null;
      await loadDrafts();
    }

    onMounted(async () => {
      try {
        const xml = await openForm();
        const reopen = props.editInstanceId !== null ? await reopenSubmission(props.editInstanceId) : await reopenDraft();
        await loadDrafts();
        document.title = `${title.value} — ${t('fill.title')}`;
        phase.value = 'ready';
        await nextTick();
        const { mountWebForm } = await import('./web-forms.js');
        engine = await mountWebForm(host.value!, { formXml: xml, fetchMedia: (name) => formMedia(target, name), reopen, onSubmit: submit });
      } catch (error) {
        blocked.value = error instanceof Stop ? error.blocked : { text: error instanceof Error ? error.message : String(error), signIn: false };
        phase.value = 'blocked';
      }
    });
    onBeforeUnmount(() => engine?.unmount());

    const signInHref = () => `/sign-in?next=${encodeURIComponent(location.pathname + location.search)}`;
    const canDraft = () => !editing && facts.value.encryptionKey === null;

    return () => (
      <div class="fill-page">
        {/* Once the form shows, its own header carries the title. */}
        {phase.value !== 'ready' ? <h1 class="fill-title">{title.value}</h1> : null}
        {notice.value !== null ? (
          <div class={`notice notice-${notice.value.tone}`} role={notice.value.tone === 'error' ? 'alert' : 'status'}>
            <p>{notice.value.text}</p>
            {editing && notice.value.tone === 'ok' ? <p><a href={`/p/${encodeURIComponent(target.projectId)}/f/${encodeURIComponent(target.formId)}/data`}>{t('fill.backToData')}</a></p> : null}
          </div>
        ) : null}
        {phase.value === 'loading' ? <p class="muted" role="status">{t('fill.loading')}</p> : null}
        {phase.value === 'blocked' && blocked.value !== null ? (
          <div class="notice notice-error" role="alert">
            <p>{blocked.value.text}</p>
            {blocked.value.signIn ? <p><a class="fk-btn" href={signInHref()}>{t('fill.signIn')}</a></p> : null}
          </div>
        ) : null}
        {phase.value === 'ready' ? (
          <>
            {editing ? <p class="notice notice-warn">{t('fill.editing', { instanceId: props.editInstanceId ?? '' })}</p> : null}
            {facts.value.encryptionKey !== null ? <p class="notice notice-ok">{t('fill.encrypted')}</p> : null}
            {canDraft() ? (
              <section class="fill-drafts" aria-label={t('fill.draftsTitle')}>
                <button type="button" class="fk-btn secondary" onClick={() => void saveDraft()}>{t('fill.saveDraft')}</button>
                {drafts.value.length > 0 ? (
                  <ul class="fill-list">
                    {drafts.value.map((draft) => (
                      <li key={draft.id}>
                        <span>{t('fill.draftsTitle')}: {formatDateTime(draft.savedAt)}</span>
                        <a href={fillHref(target, `?draft=${draft.id}`)}>{t('fill.resume')}</a>
                        <button type="button" class="fk-btn small secondary" onClick={() => void deleteDraft(draft.id!)}>{t('fill.discard')}</button>
                      </li>
                    ))}
                  </ul>
                ) : null}
              </section>
            ) : !editing ? (
              <p class="muted">{t('fill.noDraftsEncrypted')}</p>
            ) : null}
            <div ref={host} class="fill-engine" />
          </>
        ) : null}
      </div>
    );
  },
});
