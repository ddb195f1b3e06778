/** Uploading a form definition (new form or new draft): the file picker, and the warnings or errors by sheet and row. */
import { defineComponent, h, ref, type PropType } from 'vue';
import { api, type Issue } from '../api.js';
import { t } from '../i18n.js';
import type { Form } from '../types.js';
import { attempt, errorNotice, issuesTable, okNotice } from './ui.js';

export const FormUpload = defineComponent({
  props: {
    /** POST target: the project's forms, or one form's draft. */
    path: { type: String, required: true },
    heading: { type: String, required: true },
    onUploaded: { type: Function as PropType<(form: Form) => void>, required: true },
  },
  setup(props) {
    const file = ref<File | null>(null);
    const error = ref<unknown>(null);
    const warnings = ref<Issue[] | null>(null);
    const busy = ref(false);

    async function upload(event: Event) {
      event.preventDefault();
      if (file.value === null) return;
      const chosen = file.value;
      busy.value = true;
      warnings.value = null;
      await attempt(error, async () => {
        const answer = await api<{ form: Form; warnings: Issue[] } | Form>('POST', props.path, { body: chosen, query: { fileName: chosen.name } });
        const form = 'form' in answer ? answer.form : answer;
        warnings.value = 'warnings' in answer ? answer.warnings : (form.draft?.warnings ?? []);
        props.onUploaded(form);
      });
      busy.value = false;
    }

    return () => (
      <form class="card" onSubmit={upload} aria-labelledby="upload-title">
        <h2 id="upload-title">{props.heading}</h2>
        <p class="muted">{t('forms.uploadHelp')}</p>
        {errorNotice(error.value)}
        {warnings.value !== null ? okNotice(t('forms.uploaded')) : null}
        {warnings.value !== null && warnings.value.length > 0 ? <div class="notice notice-warn">{issuesTable(warnings.value, t('forms.warnings'))}</div> : null}
        <div class="field">
          <label for="form-file">{t('forms.file')}</label>
          <input id="form-file" type="file" accept=".xlsx,.xls,.xml,application/vnd.openxmlformats-officedocument.spreadsheetml.sheet,text/xml,application/xml" onChange={(e: Event) => (file.value = (e.target as HTMLInputElement).files?.[0] ?? null)} />
        </div>
        <button type="submit" disabled={busy.value || file.value === null}>{t('common.upload')}</button>
      </form>
    );
  },
});
