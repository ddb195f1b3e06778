/**
 * Accounts, for instance administrators: every account with its state, a new account (its owner
 * sets the password through a link the administrator hands over), disable and enable, the
 * administrator role, and a new password link. Administrators never see or choose a password.
 */
import { computed, defineComponent, Fragment, h, nextTick, onMounted, ref } from 'vue';
import { get, patch, post } from '../api.js';
import { crumbs } from '../components/nav.js';
import { attempt, badge, checkbox, errorNotice, okNotice, textField } from '../components/ui.js';
import { formatDateTime, t } from '../i18n.js';
import { session } from '../session.js';
import type { PasswordLink, User } from '../types.js';

export default defineComponent(() => {
  const users = ref<User[] | null>(null);
  const error = ref<unknown>(null);
  const createError = ref<unknown>(null);
  const notice = ref<string | null>(null);
  const search = ref('');
  const username = ref('');
  const email = ref('');
  const makeAdmin = ref(false);
  /** The last password link made, with whose it is: shown until another is made. */
  const link = ref<{ username: string; created: boolean; link: PasswordLink } | null>(null);
  const confirmingDisable = ref<number | null>(null);

  async function load() {
    await attempt(error, async () => {
      users.value = await get<User[]>('/api/v1/admin/users');
    });
  }
  onMounted(load);

  const shown = computed(() => {
    const text = search.value.trim().toLowerCase();
    return (users.value ?? []).filter((u) => text === '' || u.username.toLowerCase().includes(text) || (u.email ?? '').toLowerCase().includes(text));
  });

  async function showLink(value: { username: string; created: boolean; link: PasswordLink }) {
    link.value = value;
    await nextTick();
    document.getElementById('password-link')?.focus();
  }

  async function create(event: Event) {
    event.preventDefault();
    notice.value = null;
    await attempt(createError, async () => {
      const created = await post<{ user: User; passwordLink: PasswordLink }>('/api/v1/admin/users', { username: username.value.trim(), email: email.value.trim() === '' ? null : email.value.trim(), isAdmin: makeAdmin.value });
      username.value = '';
      email.value = '';
      makeAdmin.value = false;
      await load();
      await showLink({ username: created.user.username, created: true, link: created.passwordLink });
    });
  }

  async function change(user: User, changes: { disabled?: boolean; isAdmin?: boolean }, message: string) {
    confirmingDisable.value = null;
    notice.value = null;
    if (await attempt(error, () => patch(`/api/v1/admin/users/${user.id}`, changes))) {
      notice.value = message;
      await load();
    }
  }

  async function newLink(user: User) {
    notice.value = null;
    await attempt(error, async () => {
      await showLink({ username: user.username, created: false, link: await post<PasswordLink>(`/api/v1/admin/users/${user.id}/password-link`) });
    });
  }

  async function copyLink() {
    if (link.value === null) return;
    await navigator.clipboard.writeText(link.value.link.url).then(() => (notice.value = t('exports.copied')), () => undefined);
  }

  function actions(user: User) {
    const self = user.id === session.user?.id;
    if (confirmingDisable.value === user.id) {
      return (
        <div class="row" role="group" aria-label={t('users.disableConfirm', { name: user.username })}>
          <span>{t('users.disableConfirm', { name: user.username })}</span>
          <button type="button" class="small danger" onClick={() => change(user, { disabled: true }, t('users.disabledDone', { name: user.username }))}>{t('users.disable')}</button>
          <button type="button" class="small secondary" onClick={() => (confirmingDisable.value = null)}>{t('common.cancel')}</button>
        </div>
      );
    }
    const named = (text: string) => <>{text}<span class="visually-hidden"> {user.username}</span></>;
    return (
      <div class="row">
        {user.disabled ? (
          <button type="button" class="small secondary" onClick={() => change(user, { disabled: false }, t('users.enabledDone', { name: user.username }))}>{named(t('users.enable'))}</button>
        ) : (
          <>
            <button type="button" class="small secondary" onClick={() => newLink(user)}>{named(t('users.link'))}</button>
            {self ? null : <button type="button" class="small secondary" onClick={() => (confirmingDisable.value = user.id)}>{named(t('users.disable'))}</button>}
          </>
        )}
        {self ? null : user.isAdmin ? (
          <button type="button" class="small secondary" onClick={() => change(user, { isAdmin: false }, t('users.demotedDone', { name: user.username }))}>{named(t('users.demote'))}</button>
        ) : (
          <button type="button" class="small secondary" onClick={() => change(user, { isAdmin: true }, t('users.promotedDone', { name: user.username }))}>{named(t('users.promote'))}</button>
        )}
      </div>
    );
  }

  return () => (
    <section class="page">
      {crumbs([['/admin', t('nav.admin')]])}
      <h1>{t('users.title')}</h1>
      {errorNotice(error.value)}
      {okNotice(notice.value)}
      {link.value !== null ? (
        <section class="notice notice-warn" id="password-link" tabindex="-1" aria-labelledby="password-link-title">
          <h2 id="password-link-title">{link.value.created ? t('users.createdTitle', { name: link.value.username }) : t('users.linkTitle', { name: link.value.username })}</h2>
          <p>{t('users.linkHelp', { until: formatDateTime(link.value.link.expiresAt) })}</p>
          <div class="copy-row">
            <input type="text" readonly aria-label={t('users.linkLabel', { name: link.value.username })} value={link.value.link.url} onFocus={(e: FocusEvent) => (e.target as HTMLInputElement).select()} />
            <button type="button" class="small secondary" onClick={copyLink}>{t('exports.copy')}</button>
          </div>
        </section>
      ) : null}
      <form class="card" onSubmit={create} aria-labelledby="new-user-title">
        <h2 id="new-user-title">{t('users.new')}</h2>
        <p class="muted">{t('users.newHelp')}</p>
        {errorNotice(createError.value)}
        <div class="grid-2">
          {textField({ id: 'new-username', label: t('sharing.username'), value: username.value, onInput: (v) => (username.value = v), required: true, autocomplete: 'off', hint: t('users.usernameHint') })}
          {textField({ id: 'new-email', label: t('account.email'), type: 'email', value: email.value, onInput: (v) => (email.value = v) })}
        </div>
        {checkbox({ id: 'new-admin', label: t('users.makeAdmin'), checked: makeAdmin.value, onChange: (v) => (makeAdmin.value = v) })}
        <button type="submit">{t('users.create')}</button>
      </form>
      <section class="card" aria-labelledby="users-title">
        <div class="row spread">
          <h2 id="users-title">{t('users.list')}</h2>
          {textField({ id: 'user-search', label: t('users.search'), type: 'search', value: search.value, onInput: (v) => (search.value = v) })}
        </div>
        {users.value === null && error.value === null ? <p role="status">{t('app.loading')}</p> : null}
        {users.value !== null ? (
          <div class="table-scroll">
            <table class="stack">
              <caption class="visually-hidden">{t('users.list')}</caption>
              <thead>
                <tr><th scope="col">{t('sharing.username')}</th><th scope="col">{t('account.email')}</th><th scope="col">{t('common.state')}</th><th scope="col">{t('common.created')}</th><th scope="col"><span class="visually-hidden">{t('common.actions')}</span></th></tr>
              </thead>
              <tbody>
                {shown.value.length === 0 ? <tr><td colspan={5} class="muted">{t('users.none')}</td></tr> : null}
                {shown.value.map((user) => (
                  <tr>
                    <td><strong>{user.username}</strong> {user.id === session.user?.id ? badge(t('users.you')) : null}</td>
                    <td data-label={t('account.email')}>{user.email ?? '—'}</td>
                    <td data-label={t('common.state')}>
                      <span class="row">
                        {user.disabled ? badge(t('users.disabled'), 'bad') : badge(t('users.active'), 'good')}
                        {user.isAdmin ? badge(t('users.admin'), 'warn') : null}
                        {user.twoFactorEnabled ? badge(t('users.twoFactor')) : null}
                      </span>
                    </td>
                    <td data-label={t('common.created')}>{formatDateTime(user.createdAt)}</td>
                    <td>{actions(user)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ) : null}
      </section>
    </section>
  );
});
