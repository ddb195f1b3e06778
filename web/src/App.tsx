/** The frame around every screen: a skip link, the header with navigation, and the screen itself. */
import { defineComponent, Fragment, h, nextTick, watch } from 'vue';
import { RouterLink, RouterView, useRouter } from 'vue-router';
import { del } from './api.js';
import { availableLocales, locale, t } from './i18n.js';
import { instanceLinks } from './instance.js';
import { session } from './session.js';

export const App = defineComponent(() => {
  const router = useRouter();
  // After moving to another screen, keyboard and screen-reader users start at its content.
  router.afterEach((_to, from) => {
    if (from.matched.length > 0) void nextTick(() => document.getElementById('main')?.focus());
  });

  // A session that ended elsewhere (expiry, "sign out everywhere") leads back to sign-in.
  watch(
    () => session.user,
    (user) => {
      const current = router.currentRoute.value;
      if (user === null && current.meta.public !== true) void router.push({ name: 'sign-in', query: { next: current.fullPath } });
    },
  );

  async function signOut() {
    try {
      await del('/api/v1/sessions/current');
    } finally {
      await router.push({ name: 'sign-in' });
      session.user = null;
      session.csrfToken = '';
    }
  }

  function setLocale(value: string) {
    locale.value = value;
    localStorage.setItem('fieldkeep.locale', value);
    document.documentElement.lang = value;
  }

  return () => (
    <>
      <a class="skip" href="#main">{t('app.skip')}</a>
      <header class="topbar">
        <RouterLink to="/" class="brand">
          <img src="/favicon.svg" alt="" width="24" height="24" />
          <span>{t('app.name')}</span>
        </RouterLink>
        {session.user !== null ? (
          <nav aria-label={t('nav.main')} class="mainnav">
            <RouterLink to="/">{t('nav.projects')}</RouterLink>
            {session.user.isAdmin ? <RouterLink to="/admin">{t('nav.admin')}</RouterLink> : null}
            <RouterLink to="/where-is-my-data">{t('nav.whereData')}</RouterLink>
            <RouterLink to="/account">{session.user.username}</RouterLink>
            <button type="button" class="link-button" onClick={signOut}>{t('nav.signOut')}</button>
          </nav>
        ) : null}
        {availableLocales.length > 1 ? (
          <label class="locale">
            <span class="visually-hidden">{t('app.language')}</span>
            <select value={locale.value} onChange={(e: Event) => setLocale((e.target as HTMLSelectElement).value)}>
              {availableLocales.map((code) => <option value={code}>{code}</option>)}
            </select>
          </label>
        ) : null}
      </header>
      <main id="main" tabindex="-1">
        <RouterView />
      </main>
      {instanceLinks.privacyUrl !== null || instanceLinks.termsUrl !== null ? (
        <footer class="footer">
          <nav aria-label={t('footer.label')} class="row">
            {instanceLinks.privacyUrl !== null ? <a href={instanceLinks.privacyUrl} rel="noopener">{t('footer.privacy')}</a> : null}
            {instanceLinks.termsUrl !== null ? <a href={instanceLinks.termsUrl} rel="noopener">{t('footer.terms')}</a> : null}
          </nav>
        </footer>
      ) : null}
    </>
  );
});
