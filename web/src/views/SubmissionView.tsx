/** One submission: every answer with its question, files inline (images, audio, video), review, comments and edits. */
import { computed, defineComponent, Fragment, h, onBeforeUnmount, onMounted, ref, watch } from 'vue';
import { useRoute } from 'vue-router';
import { get, post } from '../api.js';
import { crumbs } from '../components/nav.js';
import { attempt, badge, errorNotice, okNotice, padlockIcon, selectField } from '../components/ui.js';
import { reviewStatusOf, reviewStatuses, setReview, useFormShape } from '../data.js';
import { formatBytes, formatDateTime, t } from '../i18n.js';
import { formPath, hasRole, useProject } from '../project.js';
import { pointOf } from '../summary.js';
import type { Attachment, Comment, Diff, ReviewStatus, SubmissionRow } from '../types.js';
import { displayAnswer, labelIn } from '../xform.js';
import { reviewBadge } from './form-state.js';
import type { SignatureVerdict } from '../encryption/keys.js';
import { EncryptedBar } from '../encryption/padlock.js';
import { isUnlocked, keyCount, loadKeys } from '../encryption/state.js';

interface DecryptedView {
  fields: Record<string, unknown>;
  media: Array<{ name: string; type: string; url: string }>;
  signature: SignatureVerdict;
}

export default defineComponent(() => {
  const route = useRoute();
  const { project, projectId } = useProject();
  const formId = () => String(route.params.formId);
  const instanceId = () => String(route.params.instanceId);
  const base = () => formPath(projectId(), formId());
  const submissionPath = () => `${base()}/submissions/${encodeURIComponent(instanceId())}`;
  const shape = useFormShape(() => `${base()}/xform`);

  const row = ref<SubmissionRow | null>(null);
  const attachments = ref<Attachment[]>([]);
  const comments = ref<Comment[]>([]);
  const diffs = ref<Diff[]>([]);
  const commentText = ref('');
  const status = ref<string>('');
  const error = ref<unknown>(null);
  const notice = ref<string | null>(null);

  const canReview = () => hasRole(project.value, ['owner', 'manager', 'editor', 'reviewer']);
  const canEdit = () => hasRole(project.value, ['owner', 'manager', 'editor']);
  // The fill page is a page of its own (its own policy): a plain link loads it.
  const editHref = () => `/fill/${encodeURIComponent(projectId())}/${encodeURIComponent(formId())}/edit/${encodeURIComponent(instanceId())}`;

  async function load() {
    await attempt(error, async () => {
      row.value = await get<SubmissionRow>(submissionPath());
      status.value = reviewStatusOf(row.value) ?? '';
      attachments.value = await get<Attachment[]>(`${submissionPath()}/attachments`);
      comments.value = await get<Comment[]>(`${submissionPath()}/comments`);
      diffs.value = await get<Diff[]>(`${submissionPath()}/diffs`);
    });
  }
  onMounted(load);

  // An encrypted submission's answers, files and signature are decrypted here once the project is
  // unlocked in this tab; its files are shown from blob: addresses, released when left.
  const encrypted = () => row.value?._encrypted === true;
  const decrypted = ref<DecryptedView | null>(null);
  const decryptError = ref<unknown>(null);
  function release() {
    for (const file of decrypted.value?.media ?? []) URL.revokeObjectURL(file.url);
    decrypted.value = null;
  }
  watch([() => (encrypted() ? instanceId() : null), () => keyCount(Number(projectId()))], async ([id, count]) => {
    release();
    decryptError.value = null;
    if (id === null || count === 0) return;
    await attempt(decryptError, async () => {
      const keys = await loadKeys();
      const result = await keys.decryptSubmission(Number(projectId()), formId(), String(row.value?.__version__ ?? ''), id).catch((err) => Promise.reject(keys.explain(err)));
      if (id !== instanceId()) return;
      decrypted.value = { fields: result.fields, signature: result.signature, media: result.media.map((file) => ({ name: file.name, type: file.type, url: URL.createObjectURL(file.blob) })) };
    });
  });
  onBeforeUnmount(release);

  function decryptedMedia(file: DecryptedView['media'][number]) {
    if (file.type.startsWith('image/')) return <a href={file.url} download={file.name}><img class="answer-media" src={file.url} alt={file.name} /></a>;
    if (file.type.startsWith('audio/')) return <audio controls preload="metadata" src={file.url} aria-label={file.name} />;
    if (file.type.startsWith('video/')) return <video class="answer-media" controls preload="metadata" src={file.url} aria-label={file.name} />;
    return <a href={file.url} download={file.name}>{file.name}</a>;
  }

  function signatureBadge(verdict: SignatureVerdict) {
    if (verdict === 'valid') return badge(t('submission.signature.valid'), 'good');
    if (verdict === 'invalid') return badge(t('submission.signature.invalid'), 'bad');
    return badge(t('submission.signature.absent'), 'warn');
  }

  const language = computed(() => shape.value?.defaultLanguage ?? '');

  async function saveReview() {
    const chosen = status.value === '' ? null : (status.value as ReviewStatus);
    if (await attempt(error, () => setReview(base(), [instanceId()], chosen))) {
      notice.value = t('review.saved');
      await load();
    }
  }

  async function addComment(event: Event) {
    event.preventDefault();
    if (await attempt(error, () => post(`${submissionPath()}/comments`, { body: commentText.value }))) {
      commentText.value = '';
      await load();
    }
  }

  function media(file: Attachment) {
    if (!file.received) return <span class="muted">{file.name} — {t('submission.notReceived')}</span>;
    // The server names files under its public URL; this page loads them from its own origin.
    const parsed = new URL(file.url, location.origin);
    const src = parsed.pathname + parsed.search;
    const type = file.contentType ?? '';
    if (type.startsWith('image/')) return <a href={src}><img class="answer-media" src={src} alt={file.name} loading="lazy" /></a>;
    if (type.startsWith('audio/')) return <audio controls preload="metadata" src={src} aria-label={file.name} />;
    if (type.startsWith('video/')) return <video class="answer-media" controls preload="metadata" src={src} aria-label={file.name} />;
    return <a href={src} download>{file.name} ({formatBytes(file.size)})</a>;
  }

  function answer(key: string, value: unknown) {
    const plainFile = decrypted.value?.media.find((m) => m.name === value);
    if (plainFile !== undefined) return decryptedMedia(plainFile);
    // An encrypted submission's stored files are ciphertext (….enc): never shown as answers.
    const file = encrypted() ? undefined : attachments.value.find((a) => a.question === key || a.name === value);
    if (file !== undefined) return media(file);
    const question = shape.value?.questions.find((q) => q.key === key);
    const point = question?.type === 'geopoint' ? pointOf(value) : null;
    if (point !== null) {
      return <span>{point.join(', ')} · <a href={`geo:${point[0]},${point[1]}`}>{t('submission.map')}</a></span>;
    }
    return displayAnswer(question, value, language.value, true);
  }

  return () => {
    const current = row.value;
    const questions = shape.value?.questions.filter((q) => !q.inRepeat && q.type !== 'trigger') ?? [];
    const answers = encrypted() ? (decrypted.value?.fields ?? {}) : (current ?? {});
    const keys = questions.length > 0 ? questions.map((q) => q.key) : Object.keys(answers).filter((k) => !k.startsWith('_') && !k.startsWith('meta/'));
    return (
      <section class="page">
        {crumbs([['/', t('nav.projects')], [`/p/${projectId()}`, project.value?.name ?? '…'], [`/p/${projectId()}/f/${encodeURIComponent(formId())}/data`, t('form.data')]])}
        <h1>{t('submission.title', { id: String(current?._id ?? '') })}</h1>
        {errorNotice(error.value)}
        {okNotice(notice.value)}
        {current?._encrypted === true ? <EncryptedBar projectId={Number(projectId())} encrypted lockedText={t('submission.lockedHelp')} /> : null}
        {current !== null ? (
          <>
            <div class="card">
              <dl class="facts">
                <dt>{t('data.submittedAt')}</dt><dd>{formatDateTime(current._submission_time as string)}</dd>
                <dt>{t('data.submittedBy')}</dt><dd>{String(current._submitted_by ?? '—')}</dd>
                <dt>{t('data.reviewStatus')}</dt><dd>{reviewBadge(reviewStatusOf(current))}</dd>
                <dt>instanceID</dt><dd class="mono">{String(current['meta/instanceID'] ?? '')}</dd>
                {current._encrypted === true ? <><dt>{t('form.encrypted')}</dt><dd>{padlockIcon(false)} {t('common.yes')}</dd></> : null}
                {decrypted.value !== null ? <><dt>{t('submission.signature')}</dt><dd>{signatureBadge(decrypted.value.signature)} <span class="hint">{t(`submission.signatureHelp.${decrypted.value.signature}`)}</span></dd></> : null}
              </dl>
              {canEdit() && current._encrypted !== true ? <p class="row"><a class="button small secondary" href={editHref()}>{t('fill.editInForm')}</a></p> : null}
              {canEdit() && current._encrypted === true ? <p class="hint after-facts">{t('submission.encryptedNoEdit')}</p> : null}
            </div>
            <div class="grid-2">
              <section class="card" aria-labelledby="answers-title">
                <h2 id="answers-title">{t('submission.answers')}</h2>
                {errorNotice(decryptError.value)}
                {encrypted() && decrypted.value === null && decryptError.value === null ? (
                  <p class="muted" role="status">{isUnlocked(Number(projectId())) ? t('submission.decrypting') : t('submission.answersLocked')}</p>
                ) : null}
                {encrypted() && decrypted.value === null ? null : <dl class="facts">
                  {keys.map((key) => {
                    const question = questions.find((q) => q.key === key);
                    return (
                      <>
                        <dt>{question ? labelIn(question.labels, language.value, key) : key}</dt>
                        <dd>{answer(key, answers[key])}</dd>
                      </>
                    );
                  })}
                </dl>}
              </section>
              <div class="page">
                {canReview() ? (
                  <section class="card" aria-labelledby="review-title">
                    <h2 id="review-title">{t('data.review')}</h2>
                    {selectField({ id: 'review-status', label: t('data.reviewStatus'), value: status.value, options: [['', t('review.none')], ...reviewStatuses.map((s): [string, string] => [s, t(`review.${s}`)])], onChange: (v) => (status.value = v) })}
                    <button type="button" onClick={saveReview}>{t('common.save')}</button>
                  </section>
                ) : null}
                <section class="card" aria-labelledby="comments-title">
                  <h2 id="comments-title">{t('submission.comments')}</h2>
                  {comments.value.length === 0 ? <p class="muted">{t('common.none')}</p> : null}
                  {comments.value.map((comment) => (
                    <div class="comment">
                      <p>{comment.body}</p>
                      <p class="hint">{comment.author.username} · {formatDateTime(comment.createdAt)}</p>
                    </div>
                  ))}
                  {canReview() ? (
                    <form onSubmit={addComment}>
                      <div class="field">
                        <label for="comment">{t('submission.comment')}</label>
                        <textarea id="comment" value={commentText.value} onInput={(e: Event) => (commentText.value = (e.target as HTMLTextAreaElement).value)} />
                      </div>
                      <button type="submit" disabled={commentText.value.trim() === ''}>{t('submission.post')}</button>
                    </form>
                  ) : null}
                </section>
                <section class="card" aria-labelledby="edits-title">
                  <h2 id="edits-title">{t('submission.versions')}</h2>
                  {diffs.value.length === 0 ? <p class="muted">{t('submission.noEdits')}</p> : (
                    <ol>
                      {diffs.value.map((diff) => (
                        <li>
                          <span class="mono">{diff.to}</span>
                          <ul>{diff.changes.map((change) => <li>{t('submission.change', { path: change.path, before: change.before ?? '', after: change.after ?? '' })}</li>)}</ul>
                        </li>
                      ))}
                    </ol>
                  )}
                </section>
              </div>
            </div>
          </>
        ) : null}
      </section>
    );
  };
});
