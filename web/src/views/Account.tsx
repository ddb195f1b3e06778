/** Account settings: email and password, two-factor enrolment, sessions, API tokens. */
import { defineComponent, Fragment, h, onMounted, ref } from 'vue';
import { useRouter } from 'vue-router';
import { del, get, patch, post } from '../api.js';
import { attempt, badge, errorNotice, okNotice, selectField, svgImage, textField } from '../components/ui.js';
import { formatDateTime, t } from '../i18n.js';
import { session } from '../session.js';
import type { ApiToken, SessionInfo, User } from '../types.js';

export default defineComponent(() => {
  const router = useRouter();
  const email = ref(session.user?.email ?? '');
  const newPassword = ref('');
  const currentPassword = ref('');
  const totp = ref('');
  const profileError = ref<unknown>(null);
  const profileSaved = ref<string | null>(null);

  const enrolment = ref<{ secret: string; qrSvg: string } | null>(null);
  const enrolCode = ref('');
  const recoveryCodes = ref<string[]>([]);
  const twoFactorError = ref<unknown>(null);

  const sessions = ref<SessionInfo[]>([]);
  const sessionsError = ref<unknown>(null);

  const tokens = ref<ApiToken[]>([]);
  const tokenName = ref('');
  const tokenScope = ref('read');
  const newToken = ref<string | null>(null);
  const tokensError = ref<unknown>(null);

  const reauth = () => ({ currentPassword: currentPassword.value, ...(totp.value.trim() !== '' ? { totp: totp.value.trim() } : {}) });

  async function loadLists() {
    await attempt(sessionsError, async () => {
      sessions.value = await get<SessionInfo[]>('/api/v1/sessions');
    });
    await attempt(tokensError, async () => {
      tokens.value = await get<ApiToken[]>('/api/v1/tokens');
    });
  }
  onMounted(loadLists);

  async function saveProfile(event: Event) {
    event.preventDefault();
    profileSaved.value = null;
    const changes = { email: email.value.trim() === '' ? null : email.value.trim(), ...(newPassword.value !== '' ? { newPassword: newPassword.value } : {}), ...reauth() };
    const ok = await attempt(profileError, async () => {
      session.user = await patch<User>('/api/v1/users/me', changes);
    });
    if (ok) {
      profileSaved.value = newPassword.value !== '' ? t('account.passwordChanged') : t('common.saved');
      newPassword.value = '';
      await loadLists();
    }
  }

  async function startEnrolment() {
    await attempt(twoFactorError, async () => {
      enrolment.value = await post<{ secret: string; qrSvg: string }>('/api/v1/users/me/two-factor', reauth());
    });
  }

  async function confirmEnrolment(event: Event) {
    event.preventDefault();
    await attempt(twoFactorError, async () => {
      const confirmed = await post<{ recoveryCodes: string[] }>('/api/v1/users/me/two-factor/confirm', { code: enrolCode.value.trim() });
      recoveryCodes.value = confirmed.recoveryCodes;
      enrolment.value = null;
      enrolCode.value = '';
      if (session.user) session.user = { ...session.user, twoFactorEnabled: true };
    });
  }

  async function disableTwoFactor() {
    await attempt(twoFactorError, async () => {
      await del('/api/v1/users/me/two-factor', reauth());
      recoveryCodes.value = [];
      if (session.user) session.user = { ...session.user, twoFactorEnabled: false };
    });
  }

  async function replaceRecoveryCodes() {
    await attempt(twoFactorError, async () => {
      recoveryCodes.value = (await post<{ recoveryCodes: string[] }>('/api/v1/users/me/two-factor/recovery-codes', reauth())).recoveryCodes;
    });
  }

  async function endSession(id: number) {
    await attempt(sessionsError, () => del(`/api/v1/sessions/${id}`));
    await loadLists();
  }

  async function endAllSessions() {
    if (!window.confirm(t('sessions.endAllConfirm'))) return;
    if (await attempt(sessionsError, () => del('/api/v1/sessions'))) {
      await router.push({ name: 'sign-in' });
      session.user = null;
      session.csrfToken = '';
    }
  }

  async function createToken(event: Event) {
    event.preventDefault();
    await attempt(tokensError, async () => {
      const created = await post<{ token: string }>('/api/v1/tokens', { name: tokenName.value, scope: tokenScope.value });
      newToken.value = created.token;
      tokenName.value = '';
    });
    await loadLists();
  }

  async function revokeToken(id: number) {
    await attempt(tokensError, () => del(`/api/v1/tokens/${id}`));
    await loadLists();
  }

  const user = () => session.user!;

  return () => session.user === null ? null : (
    <section class="page">
      <h1>{t('account.title')}</h1>
      <div class="grid-2">
        <form class="card" onSubmit={saveProfile} aria-labelledby="profile-title">
          <h2 id="profile-title">{t('account.profile')}</h2>
          {errorNotice(profileError.value)}
          {okNotice(profileSaved.value)}
          {textField({ id: 'email', label: t('account.email'), type: 'email', value: email.value, onInput: (v) => (email.value = v), autocomplete: 'email' })}
          {textField({ id: 'new-password', label: t('account.newPassword'), type: 'password', value: newPassword.value, onInput: (v) => (newPassword.value = v), autocomplete: 'new-password', hint: t('password.hint') })}
          {textField({ id: 'current-password', label: t('account.currentPassword'), type: 'password', value: currentPassword.value, onInput: (v) => (currentPassword.value = v), autocomplete: 'current-password' })}
          {user().twoFactorEnabled ? textField({ id: 'account-totp', label: t('account.totp'), value: totp.value, onInput: (v) => (totp.value = v), autocomplete: 'one-time-code', inputmode: 'numeric' }) : null}
          <button type="submit">{t('common.save')}</button>
        </form>

        <section class="card" aria-labelledby="two-factor-title">
          <h2 id="two-factor-title">{t('twoFactor.title')}</h2>
          {errorNotice(twoFactorError.value)}
          <p>{user().twoFactorEnabled ? badge(t('twoFactor.on'), 'good') : t('twoFactor.off')}</p>
          {recoveryCodes.value.length > 0 ? (
            <div class="notice notice-warn" role="status">
              <h3>{t('twoFactor.recoveryTitle')}</h3>
              <p>{t('twoFactor.recoveryHelp')}</p>
              <ul class="codes" data-testid="recovery-codes">{recoveryCodes.value.map((code) => <li>{code}</li>)}</ul>
            </div>
          ) : null}
          {enrolment.value !== null ? (
            <form onSubmit={confirmEnrolment}>
              <p>{t('twoFactor.scan')}</p>
              {svgImage(enrolment.value.qrSvg, t('twoFactor.qrAlt'))}
              <p>{t('twoFactor.secret')}: <code data-testid="totp-secret">{enrolment.value.secret}</code></p>
              {textField({ id: 'enrol-code', label: t('signIn.totp'), value: enrolCode.value, onInput: (v) => (enrolCode.value = v), autocomplete: 'one-time-code', inputmode: 'numeric' })}
              <button type="submit">{t('twoFactor.confirm')}</button>
            </form>
          ) : (
            <>
              <p class="hint">{t('twoFactor.needsPassword')}</p>
              <div class="row">
                {user().twoFactorEnabled ? (
                  <>
                    <button type="button" class="secondary" onClick={replaceRecoveryCodes}>{t('twoFactor.newCodes')}</button>
                    <button type="button" class="danger" onClick={disableTwoFactor}>{t('twoFactor.disable')}</button>
                  </>
                ) : (
                  <button type="button" onClick={startEnrolment}>{t('twoFactor.start')}</button>
                )}
              </div>
            </>
          )}
        </section>
      </div>

      <section class="card" aria-labelledby="sessions-title">
        <div class="row spread">
          <h2 id="sessions-title">{t('sessions.title')}</h2>
          <button type="button" class="secondary" onClick={endAllSessions}>{t('sessions.endAll')}</button>
        </div>
        {errorNotice(sessionsError.value)}
        <div class="table-scroll">
          <table>
            <thead>
              <tr><th scope="col">{t('sessions.started')}</th><th scope="col">{t('sessions.lastSeen')}</th><th scope="col">{t('sessions.address')}</th><th scope="col">{t('sessions.browser')}</th><th scope="col"><span class="visually-hidden">{t('common.actions')}</span></th></tr>
            </thead>
            <tbody>
              {sessions.value.map((s) => (
                <tr>
                  <td>{formatDateTime(s.createdAt)}</td>
                  <td>{formatDateTime(s.lastSeenAt)}</td>
                  <td>{s.address ?? '—'}</td>
                  <td>{s.userAgent ?? '—'}</td>
                  <td>{s.current ? badge(t('sessions.current'), 'good') : <button type="button" class="small secondary" onClick={() => endSession(s.id)}>{t('sessions.end')}</button>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>

      <section class="card" aria-labelledby="tokens-title">
        <h2 id="tokens-title">{t('tokens.title')}</h2>
        <p class="muted">{t('tokens.help')}</p>
        {errorNotice(tokensError.value)}
        {newToken.value !== null ? (
          <div class="notice notice-warn" role="status"><p>{t('tokens.created')}</p><p><code data-testid="new-token">{newToken.value}</code></p></div>
        ) : null}
        <form class="toolbar" onSubmit={createToken}>
          {textField({ id: 'token-name', label: t('common.name'), value: tokenName.value, onInput: (v) => (tokenName.value = v), required: true })}
          {selectField({ id: 'token-scope', label: t('tokens.scope'), value: tokenScope.value, options: [['read', t('tokens.read')], ['write', t('tokens.write')]], onChange: (v) => (tokenScope.value = v) })}
          <button type="submit">{t('common.create')}</button>
        </form>
        <div class="table-scroll">
          <table>
            <thead><tr><th scope="col">{t('common.name')}</th><th scope="col">{t('tokens.scope')}</th><th scope="col">{t('common.created')}</th><th scope="col">{t('common.lastUsed')}</th><th scope="col">{t('common.expires')}</th><th scope="col"><span class="visually-hidden">{t('common.actions')}</span></th></tr></thead>
            <tbody>
              {tokens.value.length === 0 ? <tr><td colspan={6} class="muted">{t('common.none')}</td></tr> : null}
              {tokens.value.map((token) => (
                <tr>
                  <td>{token.name}</td>
                  <td>{token.scope === 'read' ? t('tokens.read') : t('tokens.write')}</td>
                  <td>{formatDateTime(token.createdAt)}</td>
                  <td>{token.lastUsedAt === null ? t('common.never') : formatDateTime(token.lastUsedAt)}</td>
                  <td>{formatDateTime(token.expiresAt)}</td>
                  <td><button type="button" class="small secondary" onClick={() => revokeToken(token.id)}>{t('common.revoke')}</button></td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </section>
    </section>
  );
});
