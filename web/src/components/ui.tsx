/** Small building blocks every screen uses: labelled fields, error notices, state badges. */
import { h, type VNode } from 'vue';
import { ApiError } from '../api.js';
import { t } from '../i18n.js';

interface FieldOptions {
  id: string;
  label: string;
  value: string;
  onInput: (value: string) => void;
  type?: string;
  autocomplete?: string;
  required?: boolean;
  hint?: string;
  inputmode?: 'numeric' | 'text' | 'email';
  placeholder?: string;
}

export function textField(o: FieldOptions): VNode {
  const hintId = o.hint === undefined ? undefined : `${o.id}-hint`;
  return (
    <div class="field">
      <label for={o.id}>{o.label}</label>
      <input
        id={o.id}
        type={o.type ?? 'text'}
        value={o.value}
        autocomplete={o.autocomplete ?? 'off'}
        required={o.required ?? false}
        inputmode={o.inputmode}
        placeholder={o.placeholder}
        aria-describedby={hintId}
        onInput={(event: Event) => o.onInput((event.target as HTMLInputElement).value)}
      />
      {o.hint !== undefined ? <p class="hint" id={hintId}>{o.hint}</p> : null}
    </div>
  );
}

export function selectField(o: { id: string; label: string; value: string; options: Array<[string, string]>; onChange: (value: string) => void }): VNode {
  return (
    <div class="field">
      <label for={o.id}>{o.label}</label>
      <select id={o.id} value={o.value} onChange={(event: Event) => o.onChange((event.target as HTMLSelectElement).value)}>
        {o.options.map(([value, label]) => (
          <option value={value} selected={value === o.value}>{label}</option>
        ))}
      </select>
    </div>
  );
}

export function checkbox(o: { id: string; label: string; checked: boolean; onChange: (checked: boolean) => void }): VNode {
  return (
    <div class="check">
      <input id={o.id} type="checkbox" checked={o.checked} onChange={(event: Event) => o.onChange((event.target as HTMLInputElement).checked)} />
      <label for={o.id}>{o.label}</label>
    </div>
  );
}

/** An error from the server, with the issues it lists (sheet and row for a form) as a table. */
export function errorNotice(error: unknown): VNode | null {
  if (error === null || error === undefined) return null;
  const apiError = error instanceof ApiError ? error : null;
  const message = apiError ? apiError.title : error instanceof Error ? error.message : String(error);
  return (
    <div class="notice notice-error" role="alert">
      <p><strong>{message}</strong></p>
      {apiError?.detail !== undefined && apiError.issues.length === 0 ? <p>{apiError.detail}</p> : null}
      {apiError && apiError.issues.length > 0 ? issuesTable(apiError.issues, t('error.issues')) : null}
    </div>
  );
}

export function issuesTable(issues: ReadonlyArray<{ code: string; message: string; sheet?: string; row?: number }>, caption: string): VNode {
  return (
    <div class="table-scroll">
      <table class="issues">
        <caption>{caption}</caption>
        <thead>
          <tr><th scope="col">{t('error.sheet')}</th><th scope="col">{t('error.row')}</th><th scope="col">{t('error.message')}</th></tr>
        </thead>
        <tbody>
          {issues.map((issue) => (
            <tr><td>{issue.sheet ?? '—'}</td><td>{issue.row ?? '—'}</td><td>{issue.message}</td></tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}

export function okNotice(text: string | null): VNode | null {
  return text === null ? null : <p class="notice notice-ok" role="status">{text}</p>;
}

export function badge(text: string, tone: 'good' | 'warn' | 'bad' | 'plain' = 'plain'): VNode {
  return <span class={`badge badge-${tone}`}>{text}</span>;
}

/** An SVG from the server (a QR code) shown as an image: never inserted as markup. */
export function svgImage(svg: string, alt: string, className = 'qr'): VNode {
  return <img class={className} alt={alt} src={`data:image/svg+xml;charset=utf-8,${encodeURIComponent(svg)}`} />;
}

/** Runs an action, recording its error for display; returns whether it succeeded. */
export async function attempt(errorRef: { value: unknown }, action: () => Promise<void>): Promise<boolean> {
  errorRef.value = null;
  try {
    await action();
    return true;
  } catch (error) {
    errorRef.value = error;
    return false;
  }
}

/**
 * A padlock drawn in SVG, closed or open, beside words that say the same (it is hidden from
 * screen readers): an emoji would need an emoji font, which an offline machine may not have.
 */
export function padlockIcon(open: boolean) {
  return (
    <svg class="padlock-icon" viewBox="0 0 16 16" width="16" height="16" aria-hidden="true" focusable="false">
      <path d={open ? 'M4.5 7V4.5a3.5 3.5 0 0 1 6.8-1.2' : 'M4.5 7V4.5a3.5 3.5 0 0 1 7 0V7'} fill="none" stroke="currentColor" stroke-width="1.8" stroke-linecap="round" />
      <rect x="2" y="7" width="12" height="8" rx="1.5" fill="currentColor" />
    </svg>
  );
}
