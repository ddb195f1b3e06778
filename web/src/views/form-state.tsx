import type { VNode } from 'vue';
import { badge } from '../components/ui.js';
import { t } from '../i18n.js';
import type { Form, ReviewStatus } from '../types.js';

export function formStateBadge(form: Form): VNode {
  if (form.published === null) return badge(t('forms.draftOnly'), 'warn');
  if (form.state === 'open') return badge(t('forms.state.open'), 'good');
  if (form.state === 'closing') return badge(t('forms.state.closing'), 'warn');
  return badge(form.state === 'closed' ? t('forms.state.closed') : form.state);
}

export function reviewBadge(status: ReviewStatus | null): VNode {
  if (status === null) return badge(t('review.none'));
  return badge(t(`review.${status}`), status === 'approved' ? 'good' : status === 'on_hold' ? 'warn' : 'bad');
}
