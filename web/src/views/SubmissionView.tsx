/** One submission: every answer with its question, files inline (images, audio, video), review, comments and edits. */
import { computed, defineComponent, Fragment, h, onMounted, ref } from 'vue';
import { useRoute } from 'vue-router';
import { get, post } from '../api.js';
import { crumbs } from '../components/nav.js';
import { attempt, errorNotice, okNotice, selectField } from '../components/ui.js';
import { reviewStatusOf, reviewStatuses, setReview, useFormShape } from '../data.js';
import { formatBytes, formatDateTime, t } from '../i18n.js';
import { formPath, hasRole, useProject } from '../project.js';
import type { Attachment, Comment, Diff, ReviewStatus, SubmissionRow } from '../types.js';
import { displayAnswer, labelIn } from '../xform.js';
import { reviewBadge } from './form-state.js';

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
    const file = attachments.value.find((a) => a.question === key || a.name === value);
    if (file !== undefined) return media(file);
    const question = shape.value?.questions.find((q) => q.key === key);
    if (question?.type === 'geopoint' && typeof value === 'string') {
      const [lat, lon] = value.split(' ');
      return <span>{value} · <a href={`geo:${lat},${lon}`}>{t('submission.map')}</a></span>;
    }
    return displayAnswer(question, value, language.value, true);
  }

  return () => {
    const current = row.value;
    const questions = shape.value?.questions.filter((q) => !q.inRepeat && q.type !== 'trigger') ?? [];
    const keys = questions.length > 0 ? questions.map((q) => q.key) : Object.keys(current ?? {}).filter((k) => !k.startsWith('_') && !k.startsWith('meta/'));
    return (
      <section class="page">
        {crumbs([['/', t('nav.projects')], [`/p/${projectId()}`, project.value?.name ?? '…'], [`/p/${projectId()}/f/${encodeURIComponent(formId())}/data`, t('form.data')]])}
        <h1>{t('submission.title', { id: String(current?._id ?? '') })}</h1>
        {errorNotice(error.value)}
        {okNotice(notice.value)}
        {current !== null ? (
          <>
            <div class="card">
              <dl class="facts">
                <dt>{t('data.submittedAt')}</dt><dd>{formatDateTime(current._submission_time as string)}</dd>
                <dt>{t('data.submittedBy')}</dt><dd>{String(current._submitted_by ?? '—')}</dd>
                <dt>{t('data.reviewStatus')}</dt><dd>{reviewBadge(reviewStatusOf(current))}</dd>
                <dt>instanceID</dt><dd class="mono">{String(current['meta/instanceID'] ?? '')}</dd>
                {current._encrypted === true ? <><dt>{t('form.encrypted')}</dt><dd class="padlock">🔒</dd></> : null}
              </dl>
            </div>
            <div class="grid-2">
              <section class="card" aria-labelledby="answers-title">
                <h2 id="answers-title">{t('submission.answers')}</h2>
                <dl class="facts">
                  {keys.map((key) => {
                    const question = questions.find((q) => q.key === key);
                    return (
                      <>
                        <dt>{question ? labelIn(question.labels, language.value, key) : key}</dt>
                        <dd>{answer(key, current[key])}</dd>
                      </>
                    );
                  })}
                </dl>
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
