/**
 * Backups, for instance administrators: whether they are healthy at a glance, where they go and
 * how they are encrypted, the schedule and next run, the last success and failure, the verifier's
 * latest verification and one waiting for it, recent runs, the archives in the location, and a
 * backup started now (a job; the screen follows it until its run ends). Metadata only: the API
 * never hands out an archive.
 */
import { defineComponent, Fragment, h, nextTick, onBeforeUnmount, onMounted, ref } from 'vue';
import { get, post } from '../api.js';
import { crumbs } from '../components/nav.js';
import { attempt, badge, errorNotice } from '../components/ui.js';
import { formatBytes, formatDateTime, formatNumber, t } from '../i18n.js';

interface Run {
  id: number;
  trigger: string;
  state: string;
  startedAt: string;
  finishedAt: string | null;
  file: string | null;
  bytes: number | null;
  error: string | null;
  verified: boolean | null;
}

interface Archive {
  file: string;
  createdAt: string;
  bytes: number;
  encrypted: boolean;
  recipients: string[];
  passphrase: boolean;
  fieldkeepVersion: string;
  sourceDialect: string;
  rows: number;
  blobs: number;
}

interface BackupStatus {
  directory: string;
  encryption: { recipients: number; passphrase: boolean };
  schedule: string | null;
  nextRunAt: string | null;
  lastSuccess: { at: string; file: string | null; bytes: number | null; verifiedAt: string | null; verified: boolean | null } | null;
  lastFailure: { at: string; message: string | null } | null;
  lastVerification: { file: string; at: string; ok: boolean; message: string | null } | null;
  pendingVerification: { file: string; since: string } | null;
  recentRuns: Run[];
  archives: Archive[];
  archivesError: string | null;
}

/** How often a backup started here is looked at, and for how long at most. */
const POLL_MS = 1500;
const POLL_LIMIT = 400;

function verifiedBadge(verified: boolean | null) {
  if (verified === true) return badge(t('backups.verified'), 'good');
  if (verified === false) return badge(t('backups.verifyFailed'), 'bad');
  return badge(t('backups.notVerified'));
}

function runBadge(state: string) {
  if (state === 'succeeded') return badge(t('backups.state.succeeded'), 'good');
  if (state === 'failed') return badge(t('backups.state.failed'), 'bad');
  if (state === 'running') return badge(t('backups.state.running'), 'warn');
  return badge(state);
}

/** One line for the whole: what an administrator should do something about first. */
function health(status: BackupStatus): { tone: 'good' | 'warn' | 'bad'; text: string } {
  if (status.lastFailure !== null) return { tone: 'bad', text: t('backups.health.failed') };
  if (status.lastVerification?.ok === false) return { tone: 'bad', text: t('backups.health.verifyFailed') };
  if (status.archivesError !== null) return { tone: 'bad', text: t('backups.health.storage') };
  if (status.lastSuccess === null) return { tone: 'warn', text: t('backups.health.none') };
  if (status.schedule === null) return { tone: 'warn', text: t('backups.health.unscheduled') };
  if (status.lastVerification === null) return { tone: 'warn', text: t('backups.health.unverified') };
  return { tone: 'good', text: t('backups.health.good') };
}

export default defineComponent(() => {
  const status = ref<BackupStatus | null>(null);
  const error = ref<unknown>(null);
  const actionError = ref<unknown>(null);
  const notice = ref<{ text: string; ok: boolean } | null>(null);
  /** The runs there were when a backup was asked for: the new one is the run not among them. */
  const waitingBeyond = ref<Set<number> | null>(null);
  let timer: ReturnType<typeof setTimeout> | undefined;
  let polls = 0;

  async function load() {
    await attempt(error, async () => {
      status.value = await get<BackupStatus>('/api/v1/admin/backups');
    });
  }
  onMounted(load);
  onBeforeUnmount(() => clearTimeout(timer));

  async function follow() {
    await load();
    const known = waitingBeyond.value;
    if (known === null) return;
    const run = status.value?.recentRuns.find((r) => !known.has(r.id));
    if (run !== undefined && run.state !== 'running') {
      waitingBeyond.value = null;
      notice.value = run.state === 'succeeded' ? { text: t('backups.doneOk', { file: run.file ?? '' }), ok: true } : { text: t('backups.doneFailed', { error: run.error ?? '' }), ok: false };
      await nextTick();
      document.getElementById('backup-notice')?.focus();
      return;
    }
    if (++polls < POLL_LIMIT) timer = setTimeout(() => void follow(), POLL_MS);
    else waitingBeyond.value = null;
  }

  async function backUpNow() {
    notice.value = null;
    const known = new Set((status.value?.recentRuns ?? []).map((r) => r.id));
    if (await attempt(actionError, () => post('/api/v1/admin/backups', {}))) {
      waitingBeyond.value = known;
      polls = 0;
      timer = setTimeout(() => void follow(), POLL_MS);
    }
  }

  function statusSection(current: BackupStatus) {
    const overall = health(current);
    const encryption = current.encryption.recipients > 0 || current.encryption.passphrase
      ? [current.encryption.recipients > 0 ? t('backups.recipients', { count: current.encryption.recipients }) : null, current.encryption.passphrase ? t('backups.passphrase') : null].filter(Boolean).join(' · ')
      : t('backups.noKey');
    return (
      <section class="card" aria-labelledby="backup-status-title">
        <div class="row spread section-head">
          <h2 id="backup-status-title">{t('backups.status')}</h2>
          {badge(overall.text, overall.tone)}
        </div>
        <dl class="facts">
          <dt>{t('admin.backupDir')}</dt><dd class="mono">{current.directory}</dd>
          <dt>{t('backups.encryption')}</dt><dd>{encryption}</dd>
          <dt>{t('admin.schedule')}</dt><dd>{current.schedule === null ? t('where.backupsNone') : <code>{current.schedule}</code>}</dd>
          <dt>{t('admin.nextRun')}</dt><dd>{current.nextRunAt === null ? '—' : formatDateTime(current.nextRunAt)}</dd>
          <dt>{t('admin.lastSuccess')}</dt>
          <dd>
            {current.lastSuccess === null ? t('common.never') : (
              <>
                {formatDateTime(current.lastSuccess.at)} · {formatBytes(current.lastSuccess.bytes)} {verifiedBadge(current.lastSuccess.verified)}
                {current.lastSuccess.file !== null ? <div class="hint mono">{current.lastSuccess.file}</div> : null}
              </>
            )}
          </dd>
          <dt>{t('admin.lastFailure')}</dt>
          <dd>{current.lastFailure === null ? '—' : <>{formatDateTime(current.lastFailure.at)}<div class="hint">{current.lastFailure.message ?? ''}</div></>}</dd>
          <dt>{t('backups.lastVerification')}</dt>
          <dd>
            {current.lastVerification === null ? t('common.never') : (
              <>
                {formatDateTime(current.lastVerification.at)} {current.lastVerification.ok ? badge(t('backups.sound'), 'good') : badge(t('backups.verifyFailed'), 'bad')}
                <div class="hint mono">{current.lastVerification.file}</div>
                {current.lastVerification.message !== null ? <div class="hint">{current.lastVerification.message}</div> : null}
              </>
            )}
          </dd>
          <dt>{t('backups.pendingVerification')}</dt>
          <dd>
            {current.pendingVerification === null ? '—' : (
              <>
                {t('backups.pendingSince', { when: formatDateTime(current.pendingVerification.since) })}
                <div class="hint mono">{current.pendingVerification.file}</div>
                <div class="hint">{t('backups.pendingHelp')}</div>
              </>
            )}
          </dd>
        </dl>
      </section>
    );
  }

  function runsSection(current: BackupStatus) {
    return (
      <section class="card" aria-labelledby="runs-title">
        <h2 id="runs-title">{t('backups.runs')}</h2>
        {current.recentRuns.length === 0 ? <p class="muted">{t('backups.noRuns')}</p> : (
          <div class="table-scroll">
            <table class="stack">
              <thead>
                <tr><th scope="col">{t('backups.started')}</th><th scope="col">{t('common.state')}</th><th scope="col">{t('backups.trigger')}</th><th scope="col">{t('backups.archive')}</th><th scope="col">{t('media.size')}</th><th scope="col">{t('backups.verification')}</th></tr>
              </thead>
              <tbody>
                {current.recentRuns.map((run) => (
                  <tr>
                    <td><strong>{formatDateTime(run.startedAt)}</strong></td>
                    <td data-label={t('common.state')}>{runBadge(run.state)}{run.error !== null ? <div class="hint">{run.error}</div> : null}</td>
                    <td data-label={t('backups.trigger')}>{t(`backups.trigger.${run.trigger === 'schedule' || run.trigger === 'cli' ? run.trigger : 'api'}`)}</td>
                    <td data-label={t('backups.archive')}><span class="mono">{run.file ?? '—'}</span></td>
                    <td data-label={t('media.size')}>{formatBytes(run.bytes)}</td>
                    <td data-label={t('backups.verification')}>{run.state === 'succeeded' ? verifiedBadge(run.verified) : '—'}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </section>
    );
  }

  function archivesSection(current: BackupStatus) {
    return (
      <section class="card" aria-labelledby="archives-title">
        <h2 id="archives-title">{t('backups.archives')}</h2>
        <p class="hint">{t('backups.archivesHelp')}</p>
        {current.archivesError !== null ? <div class="notice notice-error" role="alert"><p><strong>{t('backups.archivesError')}</strong></p><p>{current.archivesError}</p></div> : null}
        {current.archivesError === null && current.archives.length === 0 ? <p class="muted">{t('backups.noArchives')}</p> : null}
        {current.archives.length > 0 ? (
          <div class="table-scroll">
            <table class="stack">
              <thead>
                <tr><th scope="col">{t('backups.archive')}</th><th scope="col">{t('common.created')}</th><th scope="col">{t('media.size')}</th><th scope="col">{t('backups.contents')}</th><th scope="col">{t('backups.encryption')}</th><th scope="col">{t('backups.version')}</th></tr>
              </thead>
              <tbody>
                {current.archives.map((archive) => (
                  <tr>
                    <td><strong class="mono">{archive.file}</strong></td>
                    <td data-label={t('common.created')}>{formatDateTime(archive.createdAt)}</td>
                    <td data-label={t('media.size')}>{formatBytes(archive.bytes)}</td>
                    <td data-label={t('backups.contents')}>{t('backups.rowsFiles', { rows: formatNumber(archive.rows), files: formatNumber(archive.blobs) })}</td>
                    <td data-label={t('backups.encryption')}>{archive.encrypted ? badge(t('backups.encrypted'), 'good') : badge(t('backups.unencrypted'), 'bad')}</td>
                    <td data-label={t('backups.version')}>{archive.fieldkeepVersion} · {archive.sourceDialect}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    );
  }

  return () => {
    const current = status.value;
    return (
      <section class="page">
        {crumbs([['/admin', t('admin.title')]])}
        <h1>{t('admin.backups')}</h1>
        {errorNotice(error.value)}
        {current === null && error.value === null ? <p class="card" role="status">{t('app.loading')}</p> : null}
        {current !== null ? (
          <>
            {statusSection(current)}
            <section class="card" aria-labelledby="backup-now-title">
              <h2 id="backup-now-title">{t('backups.now')}</h2>
              <p>{t('backups.nowHelp')}</p>
              {errorNotice(actionError.value)}
              {notice.value !== null ? <p id="backup-notice" tabindex="-1" role="status" class={`notice ${notice.value.ok ? 'notice-ok' : 'notice-error'}`}>{notice.value.text}</p> : null}
              <button type="button" onClick={backUpNow} disabled={waitingBeyond.value !== null}>{t('backups.start')}</button>
              {waitingBeyond.value !== null ? <p role="status" class="hint">{t('backups.running')}</p> : null}
            </section>
            {runsSection(current)}
            {archivesSection(current)}
          </>
        ) : null}
      </section>
    );
  };
});
