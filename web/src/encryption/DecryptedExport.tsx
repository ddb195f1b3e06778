/**
 * The exports screen's part for encrypted forms: a CSV or XLSX of the decrypted submissions, made
 * in a Web Worker in this browser (the page stays usable while it runs) and saved from here. The
 * server's own exports of such a form carry metadata only.
 */
import { defineComponent, Fragment, h, nextTick, onBeforeUnmount, ref } from 'vue';
import { attempt, errorNotice } from '../components/ui.js';
import { formatBytes, formatNumber, t } from '../i18n.js';
import { ExportCancelled, exportDecrypted } from './keys.js';
import { EncryptedBar } from './padlock.js';
import { isUnlocked } from './state.js';

export default defineComponent({
  props: {
    projectId: { type: Number, required: true },
    formId: { type: String, required: true },
  },
  setup(props) {
    const format = ref<'csv' | 'xlsx'>('csv');
    const running = ref<{ cancel: () => void } | null>(null);
    const progress = ref(0);
    const result = ref<{ url: string; name: string; size: number } | null>(null);
    const error = ref<unknown>(null);

    function release() {
      if (result.value !== null) URL.revokeObjectURL(result.value.url);
      result.value = null;
    }
    onBeforeUnmount(() => {
      running.value?.cancel();
      release();
    });

    async function start(event: Event) {
      event.preventDefault();
      release();
      progress.value = 0;
      const chosen = format.value;
      await attempt(error, async () => {
        const run = exportDecrypted(props.projectId, props.formId, chosen, (count) => (progress.value = count));
        running.value = run;
        try {
          const file = await run.file;
          const stamp = new Date().toISOString().slice(0, 10);
          result.value = { url: URL.createObjectURL(file), name: `${props.formId}-decrypted-${stamp}.${chosen}`, size: file.size };
        } catch (err) {
          if (!(err instanceof ExportCancelled)) throw err;
        } finally {
          running.value = null;
        }
      });
      if (result.value !== null) {
        await nextTick();
        const link = document.getElementById('decrypted-download');
        link?.focus();
        link?.click();
      }
    }

    return () => (
      <>
        <EncryptedBar projectId={props.projectId} encrypted lockedText={t('decryptedExport.locked')} />
        <section class="card decrypted-export" aria-labelledby="decrypted-export-title">
          <h2 id="decrypted-export-title">{t('decryptedExport.title')}</h2>
          <p>{t('decryptedExport.help')}</p>
          {errorNotice(error.value)}
          <form onSubmit={start}>
            <fieldset class="choices">
              <legend>{t('exports.format')}</legend>
              {(['csv', 'xlsx'] as const).map((value) => (
                <div class="check">
                  <input type="radio" id={`decrypted-${value}`} name="decrypted-format" checked={format.value === value} onChange={() => (format.value = value)} />
                  <label for={`decrypted-${value}`}>{t(`exports.format.${value}`)}</label>
                </div>
              ))}
            </fieldset>
            <div class="row">
              <button type="submit" disabled={!isUnlocked(props.projectId) || running.value !== null}>{t('decryptedExport.start')}</button>
              {running.value !== null ? <button type="button" class="secondary" onClick={() => running.value?.cancel()}>{t('common.cancel')}</button> : null}
            </div>
          </form>
          {running.value !== null ? (
            <div class="job" role="status">
              <progress aria-label={t('decryptedExport.title')} />
              <p>{t('decryptedExport.progress', { count: formatNumber(progress.value) })}</p>
            </div>
          ) : null}
          {result.value !== null ? (
            <p class="notice notice-ok" role="status">
              {t('decryptedExport.done')}{' '}
              <a id="decrypted-download" href={result.value.url} download={result.value.name}>{t('exports.download', { file: result.value.name })}</a> ({formatBytes(result.value.size)})
            </p>
          ) : null}
        </section>
      </>
    );
  },
});
