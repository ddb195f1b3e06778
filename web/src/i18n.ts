/**
 * Translation: every string the application shows comes from a message file (messages/en.ts is
 * the reference; others may leave keys out and fall back to English). `{name}` placeholders are
 * filled from the parameters. No runtime template compilation, so the strict policy holds.
 */
import { ref } from 'vue';
import { en, type MessageKey } from './messages/en.js';

type Catalogue = Partial<Record<MessageKey, string>>;

const catalogues: Record<string, Catalogue> = { en };

export const locale = ref(pickLocale());

function pickLocale(): string {
  const stored = localStorage.getItem('fieldkeep.locale');
  if (stored !== null && stored in catalogues) return stored;
  const preferred = navigator.languages.map((tag) => tag.split('-')[0]!).find((tag) => tag in catalogues);
  return preferred ?? 'en';
}

export const availableLocales = Object.keys(catalogues);

export function t(key: MessageKey, params: Record<string, string | number> = {}): string {
  const text = catalogues[locale.value]?.[key] ?? en[key];
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => (name in params ? String(params[name]) : whole));
}

export function formatDateTime(iso: string | null | undefined): string {
  if (iso === null || iso === undefined || iso === '') return '—';
  const date = new Date(iso);
  return Number.isNaN(date.getTime()) ? iso : date.toLocaleString(locale.value, { dateStyle: 'medium', timeStyle: 'short' });
}

export function formatNumber(value: number): string {
  return value.toLocaleString(locale.value);
}

export function formatBytes(bytes: number | null | undefined): string {
  if (bytes === null || bytes === undefined) return '—';
  const units = ['B', 'KB', 'MB', 'GB'];
  let size = bytes;
  let unit = 0;
  while (size >= 1024 && unit < units.length - 1) {
    size /= 1024;
    unit++;
  }
  return `${size.toLocaleString(locale.value, { maximumFractionDigits: unit === 0 ? 0 : 1 })} ${units[unit]}`;
}
