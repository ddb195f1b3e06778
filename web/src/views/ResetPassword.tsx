/** Password reset: ask for a link by email, or (arriving from the link, token in the fragment) set the new password. */
import { defineComponent, h, ref } from 'vue';
import { RouterLink } from 'vue-router';
import { post } from '../api.js';
import { attempt, errorNotice, okNotice, textField } from '../components/ui.js';
import { t } from '../i18n.js';

export default defineComponent(() => {
  const token = new URLSearchParams(location.hash.slice(1)).get('token');
  const email = ref('');
  const newPassword = ref('');
  const totp = ref('');
  const done = ref<string | null>(null);
  const error = ref<unknown>(null);

  async function requestLink(event: Event) {
    event.preventDefault();
    if (await attempt(error, () => post('/api/v1/password-resets', { email: email.value }))) done.value = t('reset.sent');
  }

  async function setPassword(event: Event) {
    event.preventDefault();
    const body = { token, newPassword: newPassword.value, ...(totp.value.trim() !== '' ? { totp: totp.value.trim() } : {}) };
    if (await attempt(error, () => post('/api/v1/password-resets/confirm', body))) done.value = t('reset.done');
  }

  return () => (
    <section class="page narrow">
      {token === null ? (
        <form class="card" onSubmit={requestLink} aria-labelledby="reset-title" novalidate>
          <h1 id="reset-title">{t('reset.title')}</h1>
          <p>{t('reset.help')}</p>
          {errorNotice(error.value)}
          {okNotice(done.value)}
          {textField({ id: 'email', label: t('reset.email'), type: 'email', value: email.value, onInput: (v) => (email.value = v), autocomplete: 'email', required: true })}
          <div class="row spread">
            <button type="submit">{t('reset.send')}</button>
            <RouterLink to="/sign-in">{t('signIn.title')}</RouterLink>
          </div>
        </form>
      ) : (
        <form class="card" onSubmit={setPassword} aria-labelledby="reset-title" novalidate>
          <h1 id="reset-title">{t('reset.newTitle')}</h1>
          {errorNotice(error.value)}
          {okNotice(done.value)}
          {textField({ id: 'new-password', label: t('reset.newPassword'), type: 'password', value: newPassword.value, onInput: (v) => (newPassword.value = v), autocomplete: 'new-password', required: true, hint: t('password.hint') })}
          {textField({ id: 'totp', label: t('reset.totpOptional'), value: totp.value, onInput: (v) => (totp.value = v), autocomplete: 'one-time-code', inputmode: 'numeric' })}
          <div class="row spread">
            <button type="submit">{t('reset.set')}</button>
            <RouterLink to="/sign-in">{t('signIn.title')}</RouterLink>
          </div>
        </form>
      )}
    </section>
  );
});
