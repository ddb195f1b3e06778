/** Sign in: username and password, then the two-factor code when the account asks for one. */
import { defineComponent, Fragment, h, nextTick, ref } from 'vue';
import { RouterLink, useRoute, useRouter } from 'vue-router';
import { ApiError, post } from '../api.js';
import { attempt, errorNotice, textField } from '../components/ui.js';
import { t } from '../i18n.js';
import { session } from '../session.js';
import type { User } from '../types.js';

export default defineComponent(() => {
  const route = useRoute();
  const router = useRouter();
  const username = ref('');
  const password = ref('');
  const totp = ref('');
  const needsCode = ref(false);
  const error = ref<unknown>(null);
  const busy = ref(false);

  async function submit(event: Event) {
    event.preventDefault();
    busy.value = true;
    await attempt(error, async () => {
      try {
        const body = { username: username.value, password: password.value, ...(needsCode.value ? { totp: totp.value.trim() } : {}) };
        const signedIn = await post<{ csrfToken: string; user: User }>('/api/v1/sessions', body);
        session.user = signedIn.user;
        session.csrfToken = signedIn.csrfToken;
        const next = typeof route.query.next === 'string' && route.query.next.startsWith('/') ? route.query.next : '/';
        await router.replace(next);
      } catch (err) {
        if (err instanceof ApiError && err.code === 'auth.totp_required' && !needsCode.value) {
          needsCode.value = true;
          await nextTick();
          document.getElementById('totp')?.focus();
          return;
        }
        throw err;
      }
    });
    busy.value = false;
  }

  function restart() {
    needsCode.value = false;
    totp.value = '';
    password.value = '';
    error.value = null;
  }

  return () => (
    <section class="page narrow">
      <form class="card" onSubmit={submit} aria-labelledby="sign-in-title" novalidate>
        <h1 id="sign-in-title">{needsCode.value ? t('signIn.totpTitle') : t('signIn.title')}</h1>
        {errorNotice(error.value)}
        {needsCode.value ? (
          <>
            <p>{t('signIn.totpHelp')}</p>
            {textField({ id: 'totp', label: t('signIn.totp'), value: totp.value, onInput: (v) => (totp.value = v), autocomplete: 'one-time-code', inputmode: 'numeric', required: true })}
            <div class="row spread">
              <button type="submit" disabled={busy.value}>{t('signIn.verify')}</button>
              <button type="button" class="link-button" onClick={restart}>{t('signIn.back')}</button>
            </div>
          </>
        ) : (
          <>
            {textField({ id: 'username', label: t('signIn.username'), value: username.value, onInput: (v) => (username.value = v), autocomplete: 'username', required: true })}
            {textField({ id: 'password', label: t('signIn.password'), type: 'password', value: password.value, onInput: (v) => (password.value = v), autocomplete: 'current-password', required: true })}
            <div class="row spread">
              <button type="submit" disabled={busy.value}>{t('signIn.submit')}</button>
              <RouterLink to="/reset-password">{t('signIn.forgot')}</RouterLink>
            </div>
          </>
        )}
      </form>
    </section>
  );
});
