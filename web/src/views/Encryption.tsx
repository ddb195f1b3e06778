/**
 * A project's end-to-end encryption: turn it on (a key pair made in this browser, wrapped by a
 * passphrase that never leaves the page), unlock and lock in this tab, the project's keys, a
 * recovery file, who can decrypt (share by sealing the key to a member's own key, revoke), the
 * setting for decryption on the server, key rotation, and one's own key. The server receives
 * public keys and wrapped or sealed private keys only (src/crypto/browser).
 */
import { computed, defineComponent, Fragment, h, nextTick, ref, watchEffect, type VNode } from 'vue';
import { useRoute } from 'vue-router';
import { ApiError, get, patch } from '../api.js';
import { crumbs, projectTabs } from '../components/nav.js';
import { attempt, badge, checkbox, errorNotice, okNotice, padlockIcon, selectField, textField } from '../components/ui.js';
import * as keys from '../encryption/keys.js';
import { PassphraseFields, clearPassphrase, passphraseReady, usePassphrase, type PassphraseState } from '../encryption/passphrase.js';
import { UnlockForm, padlockBadge } from '../encryption/padlock.js';
import { isUnlocked, keyCount, type EncryptionView } from '../encryption/state.js';
import { formatDateTime, t } from '../i18n.js';
import { hasRole, projectPath, useProject } from '../project.js';

type Member = Awaited<ReturnType<typeof keys.members>>[number];
type OwnKey = Awaited<ReturnType<typeof keys.ownKey>>;

/** Moves the focus to a section that just changed, so keyboard and screen-reader users land on its news. */
async function focusOn(id: string) {
  await nextTick();
  document.getElementById(id)?.focus();
}

function download(blob: Blob, fileName: string) {
  const url = URL.createObjectURL(blob);
  const link = document.createElement('a');
  link.href = url;
  link.download = fileName;
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000);
}

export default defineComponent(() => {
  const route = useRoute();
  const { project, error: projectError, projectId } = useProject();
  const id = () => Number(projectId());
  const view = ref<EncryptionView | null>(null);
  const loadError = ref<unknown>(null);
  const ownKeyError = ref<unknown>(null);
  const members = ref<Member[] | null>(null);
  const ownKey = ref<OwnKey | undefined>(undefined);
  const notice = ref<string | null>(null);

  const isOwner = () => hasRole(project.value, ['owner']);
  const canShare = () => hasRole(project.value, ['owner', 'manager']);
  const unlocked = () => isUnlocked(id());
  // The key ring is not reactive; its count of keys is, and changes whenever the ring does.
  const heldKeys = computed(() => (keyCount(id()) > 0 ? keys.unlockedPublicKeys(id()) : new Set<string>()));
  const activeKey = () => view.value?.keys.find((key) => key.state === 'active') ?? null;

  async function load() {
    await attempt(loadError, async () => {
      view.value = await get<EncryptionView>(`${projectPath(projectId())}/encryption`);
    });
    if (view.value?.enabled === true && canShare()) await loadMembers();
    await attempt(ownKeyError, async () => {
      ownKey.value = await keys.ownKey();
    });
  }
  watchEffect(() => {
    if (project.value !== null) void load();
  });

  // Turning on.
  const newKey = usePassphrase();
  const hint = ref('');
  const modulusBits = ref<'2048' | '3072'>('2048');
  const allowServer = ref(true);
  const publicKeyPem = ref('');
  const turnOnError = ref<unknown>(null);
  const busy = ref<string | null>(null);

  async function turnOn(event: Event) {
    event.preventDefault();
    if (!passphraseReady(newKey)) return;
    busy.value = 'turnOn';
    const ok = await attempt(turnOnError, () =>
      keys.turnOn(id(), newKey.passphrase, { hint: hint.value.trim(), modulusBits: Number(modulusBits.value) as 2048 | 3072, allowServerDecryption: allowServer.value }).catch((err) => Promise.reject(keys.explain(err))),
    );
    busy.value = null;
    if (!ok) return;
    clearPassphrase(newKey);
    notice.value = t('encryption.turnedOn');
    await load();
    await focusOn('recovery-title');
  }

  async function turnOnWithPublicKey(event: Event) {
    event.preventDefault();
    busy.value = 'turnOn';
    const ok = await attempt(turnOnError, () => keys.turnOnWithPublicKey(id(), publicKeyPem.value).catch((err) => Promise.reject(keys.explain(err))));
    busy.value = null;
    if (!ok) return;
    publicKeyPem.value = '';
    notice.value = t('encryption.turnedOnSelfManaged');
    await load();
    await focusOn('state-title');
  }

  // Recovery file.
  const recovery = usePassphrase();
  const recoveryError = ref<unknown>(null);
  async function makeRecoveryFile(event: Event) {
    event.preventDefault();
    const key = activeKey();
    if (key === null || !passphraseReady(recovery)) return;
    busy.value = 'recovery';
    await attempt(recoveryError, async () => {
      try {
        const label = `${project.value?.name ?? ''} · ${t('encryption.keyNumber', { id: key.id })} · ${location.host}`;
        download(await keys.recoveryFile(id(), recovery.passphrase, label), `fieldkeep-recovery-project-${id()}-key-${key.id}.json`);
      } catch (err) {
        throw keys.explain(err);
      }
      clearPassphrase(recovery);
      notice.value = t('encryption.recoveryDone');
    });
    busy.value = null;
  }

  // Who can decrypt.
  const shareError = ref<unknown>(null);
  const revoking = ref<Member | null>(null);
  async function loadMembers() {
    await attempt(shareError, async () => {
      members.value = (await keys.members(id())).filter((member) => member.role !== 'owner');
    });
  }
  async function share(member: Member) {
    busy.value = `share-${member.userId}`;
    const ok = await attempt(shareError, async () => {
      await keys.share(id(), member.userId).catch((err) => Promise.reject(keys.explain(err)));
    });
    busy.value = null;
    if (ok) {
      notice.value = t('encryption.shared', { name: member.username });
      await loadMembers();
    }
  }
  async function revoke() {
    const member = revoking.value;
    if (member === null) return;
    revoking.value = null;
    if (await attempt(shareError, async () => void (await keys.revoke(id(), member.userId)))) {
      notice.value = t('encryption.revoked', { name: member.username });
      await loadMembers();
    }
    await focusOn('members-title');
  }
  async function askRevoke(member: Member) {
    revoking.value = member;
    await focusOn('revoke-confirm');
  }
  async function cancelRevoke() {
    const member = revoking.value;
    revoking.value = null;
    await focusOn(`revoke-${member?.userId}`);
  }

  // Decryption on the server.
  const settingError = ref<unknown>(null);
  async function setServerDecryption(allow: boolean) {
    if (await attempt(settingError, () => patch(`${projectPath(projectId())}/encryption`, { allowServerDecryption: allow }))) {
      notice.value = allow ? t('encryption.serverAllowed') : t('encryption.serverForbidden');
      await load();
    }
  }

  // Rotation.
  const rotation = usePassphrase();
  const rotateHint = ref('');
  const rotateError = ref<unknown>(null);
  async function rotate(event: Event) {
    event.preventDefault();
    if (!passphraseReady(rotation)) return;
    busy.value = 'rotate';
    const ok = await attempt(rotateError, () => keys.rotate(id(), rotation.passphrase, { hint: rotateHint.value.trim(), modulusBits: 2048 }).catch((err) => Promise.reject(keys.explain(err))));
    busy.value = null;
    if (!ok) return;
    clearPassphrase(rotation);
    rotateHint.value = '';
    notice.value = t('encryption.rotated');
    await load();
    await focusOn('keys-title');
  }

  // One's own key.
  const own = usePassphrase();
  const replacingOwnKey = ref(false);
  async function setOwnKey(event: Event) {
    event.preventDefault();
    if (!passphraseReady(own)) return;
    busy.value = 'ownKey';
    const ok = await attempt(ownKeyError, () => keys.setOwnKey(own.passphrase).catch((err) => Promise.reject(keys.explain(err))));
    busy.value = null;
    if (!ok) return;
    clearPassphrase(own);
    replacingOwnKey.value = false;
    notice.value = t('encryption.ownKeySet');
    await load();
    await focusOn('own-key-title');
  }

  const working = (what: string, text: string) => (busy.value === what ? <p role="status" class="hint">{text}</p> : null);

  /** A form that takes a new passphrase (twice, checked against the policy), with any fields of its own after it. */
  function passphraseForm(spec: {
    labelledBy: string;
    onSubmit: (event: Event) => void;
    field: { id: string; label: string; help: string; state: PassphraseState };
    extra?: VNode | VNode[] | null;
    submit: string;
    work: [string, string];
  }) {
    return (
      <form class="key-form" onSubmit={spec.onSubmit} aria-labelledby={spec.labelledBy}>
        <PassphraseFields id={spec.field.id} label={spec.field.label} help={spec.field.help} state={spec.field.state} />
        {spec.extra ?? null}
        <button type="submit" disabled={!passphraseReady(spec.field.state) || busy.value !== null}>{spec.submit}</button>
        {working(...spec.work)}
      </form>
    );
  }

  function turnOnSection() {
    if (!isOwner()) return <p class="card">{t('encryption.ownerOnly')}</p>;
    return (
      <section class="card" aria-labelledby="turn-on-title">
        <h2 id="turn-on-title">{t('encryption.turnOnTitle')}</h2>
        <p>{t('encryption.turnOnHelp')}</p>
        <div class="notice notice-warn">
          <p><strong>{t('encryption.warningTitle')}</strong></p>
          <ul>
            <li>{t('encryption.warningIrreversible')}</li>
            <li>{t('encryption.warningServer')}</li>
            <li>{t('encryption.warningLoss')}</li>
          </ul>
        </div>
        {errorNotice(turnOnError.value)}
        {passphraseForm({
          labelledBy: 'turn-on-title',
          onSubmit: turnOn,
          field: { id: 'new-passphrase', label: t('encryption.newPassphrase'), help: t('encryption.newPassphraseHelp'), state: newKey },
          extra: [
            textField({ id: 'new-hint', label: t('encryption.hint'), value: hint.value, onInput: (v) => (hint.value = v), hint: t('encryption.hintHelp') }),
            selectField({ id: 'key-size', label: t('encryption.keySize'), value: modulusBits.value, options: [['2048', t('encryption.keySize2048')], ['3072', t('encryption.keySize3072')]], onChange: (v) => (modulusBits.value = v as '2048' | '3072') }),
            <div class="field">
              {checkbox({ id: 'allow-server', label: t('encryption.allowServer'), checked: allowServer.value, onChange: (v) => (allowServer.value = v) })}
              <p class="hint">{t('encryption.allowServerHelp')}</p>
            </div>,
          ],
          submit: t('encryption.turnOn'),
          work: ['turnOn', t('encryption.making')],
        })}
        <details class="self-managed">
          <summary>{t('encryption.selfManagedTitle')}</summary>
          <p>{t('encryption.selfManagedHelp')}</p>
          <pre class="mono">openssl genrsa -out private.pem 3072{'\n'}openssl rsa -in private.pem -pubout</pre>
          <form onSubmit={turnOnWithPublicKey}>
            <div class="field">
              <label for="public-key">{t('encryption.publicKey')}</label>
              <textarea id="public-key" class="mono" spellcheck={false} value={publicKeyPem.value} onInput={(e: Event) => (publicKeyPem.value = (e.target as HTMLTextAreaElement).value)} />
            </div>
            <button type="submit" class="secondary" disabled={publicKeyPem.value.trim() === '' || busy.value !== null}>{t('encryption.turnOnSelfManaged')}</button>
          </form>
        </details>
      </section>
    );
  }

  function stateSection(current: EncryptionView) {
    return (
      <section class="card" aria-labelledby="state-title">
        <div class="row spread section-head">
          <h2 id="state-title" tabindex="-1">{t('encryption.title')}</h2>
          {padlockBadge(id())}
        </div>
        <p>{t('encryption.onHelp')}</p>
        {unlocked() ? (
          <>
            <p>{t('encryption.unlockedHelp')}</p>
            <button type="button" class="secondary" onClick={() => { keys.lock(id()); void focusOn('state-title'); }}>{t('encryption.lock')}</button>
          </>
        ) : (
          <UnlockForm projectId={id()} view={current} onUnlocked={() => void focusOn('state-title')} />
        )}
      </section>
    );
  }

  function keysSection(current: EncryptionView) {
    return (
      <section class="card" aria-labelledby="keys-title">
        <h2 id="keys-title" tabindex="-1">{t('encryption.keysTitle')}</h2>
        <div class="table-scroll">
          <table class="stack">
            <thead>
              <tr><th scope="col">{t('encryption.key')}</th><th scope="col">{t('common.state')}</th><th scope="col">{t('common.created')}</th><th scope="col">{t('encryption.kind')}</th>{isOwner() ? <th scope="col">{t('encryption.hintColumn')}</th> : null}<th scope="col">{t('encryption.inThisTab')}</th></tr>
            </thead>
            <tbody>
              {current.keys.map((key) => (
                <tr>
                  <td><strong>{t('encryption.keyNumber', { id: key.id })}</strong></td>
                  <td data-label={t('common.state')}>{key.state === 'active' ? badge(t('encryption.active'), 'good') : badge(t('encryption.retired'))}</td>
                  <td data-label={t('common.created')}>{formatDateTime(key.createdAt)}</td>
                  <td data-label={t('encryption.kind')}>{key.managed ? t('encryption.managed') : t('encryption.selfManaged')}</td>
                  {isOwner() ? <td data-label={t('encryption.hintColumn')}>{key.hint ?? '—'}</td> : null}
                  <td data-label={t('encryption.inThisTab')}>{heldKeys.value.has(key.publicKey) ? <span>{padlockIcon(true)} {t('encryption.keyUnlocked')}</span> : <span>{padlockIcon(false)} {t('encryption.keyLocked')}</span>}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
        {unlocked() && current.keys.some((key) => !heldKeys.value.has(key.publicKey)) ? <p class="hint">{t('encryption.someLocked')}</p> : null}
      </section>
    );
  }

  function recoverySection() {
    const key = activeKey();
    if (!isOwner() || key === null || !key.managed) return null;
    return (
      <section class="card" aria-labelledby="recovery-title">
        <h2 id="recovery-title" tabindex="-1">{t('encryption.recoveryTitle')}</h2>
        <p>{t('encryption.recoveryHelp')}</p>
        <p class="notice notice-warn">{t('encryption.warningLoss')}</p>
        {errorNotice(recoveryError.value)}
        {unlocked() && heldKeys.value.has(key.publicKey) ? (
          passphraseForm({
            labelledBy: 'recovery-title',
            onSubmit: makeRecoveryFile,
            field: { id: 'recovery-passphrase', label: t('encryption.recoveryPassphrase'), help: t('encryption.recoveryPassphraseHelp'), state: recovery },
            submit: t('encryption.recoveryDownload'),
            work: ['recovery', t('encryption.wrapping')],
          })
        ) : (
          <p class="muted">{t('encryption.recoveryLocked')}</p>
        )}
      </section>
    );
  }

  function membersSection() {
    if (!canShare()) return null;
    return (
      <section class="card" aria-labelledby="members-title">
        <h2 id="members-title" tabindex="-1">{t('encryption.membersTitle')}</h2>
        <p>{t('encryption.membersHelp')}</p>
        {errorNotice(shareError.value)}
        {revoking.value !== null ? (
          <div class="notice notice-warn" role="alertdialog" id="revoke-confirm" tabindex="-1" aria-labelledby="revoke-confirm-text">
            <p id="revoke-confirm-text">{t('encryption.revokeConfirm', { name: revoking.value.username })}</p>
            <div class="row">
              <button type="button" class="danger" onClick={revoke}>{t('encryption.revoke')}<span class="visually-hidden"> {revoking.value.username}</span></button>
              <button type="button" class="secondary" onClick={cancelRevoke}>{t('common.cancel')}</button>
            </div>
          </div>
        ) : null}
        {!unlocked() ? <p class="hint">{t('encryption.shareNeedsUnlock')}</p> : null}
        <div class="table-scroll">
          <table class="stack">
            <thead>
              <tr><th scope="col">{t('sharing.username')}</th><th scope="col">{t('sharing.role')}</th><th scope="col">{t('encryption.ownKeyColumn')}</th><th scope="col">{t('encryption.access')}</th><th scope="col"><span class="visually-hidden">{t('common.actions')}</span></th></tr>
            </thead>
            <tbody>
              {members.value === null ? <tr><td colspan={5} role="status">{t('app.loading')}</td></tr> : null}
              {members.value !== null && members.value.length === 0 ? <tr><td colspan={5} class="muted">{t('encryption.noMembers')}</td></tr> : null}
              {(members.value ?? []).map((member) => {
                const held = (view.value?.keys ?? []).filter((key) => member.keyIds.includes(key.id));
                const current = activeKey();
                const hasActive = current !== null && member.keyIds.includes(current.id);
                return (
                  <tr>
                    <td><strong>{member.username}</strong></td>
                    <td data-label={t('sharing.role')}>{t(`role.${member.role as 'viewer'}`)}</td>
                    <td data-label={t('encryption.ownKeyColumn')}>{member.publicKey !== null ? t('encryption.ownKeyReady') : t('encryption.ownKeyMissing')}</td>
                    <td data-label={t('encryption.access')}>
                      {held.length === 0 ? badge(t('encryption.noAccess')) : badge(hasActive ? t('encryption.hasAccess') : t('encryption.oldKeysOnly'), hasActive ? 'good' : 'warn')}
                    </td>
                    <td>
                      <div class="row">
                        {member.publicKey !== null && !hasActive ? (
                          <button type="button" class="small" disabled={!unlocked() || busy.value !== null} onClick={() => share(member)}>
                            {t('encryption.share')}<span class="visually-hidden"> {member.username}</span>
                          </button>
                        ) : null}
                        {held.length > 0 ? (
                          <button type="button" class="small secondary" id={`revoke-${member.userId}`} onClick={() => askRevoke(member)}>
                            {t('encryption.revoke')}<span class="visually-hidden"> {member.username}</span>
                          </button>
                        ) : null}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
        <p class="hint">{t('encryption.membersOwnKeyHelp')}</p>
      </section>
    );
  }

  function serverSection(current: EncryptionView) {
    if (!isOwner()) return null;
    return (
      <section class="card" aria-labelledby="server-title">
        <h2 id="server-title">{t('encryption.serverTitle')}</h2>
        <p>{current.allowServerDecryption ? t('encryption.serverAllowedState') : t('encryption.serverForbiddenState')}</p>
        {errorNotice(settingError.value)}
        <button type="button" class="secondary" onClick={() => setServerDecryption(!current.allowServerDecryption)}>
          {current.allowServerDecryption ? t('encryption.serverForbid') : t('encryption.serverAllow')}
        </button>
      </section>
    );
  }

  function rotateSection() {
    if (!isOwner() || activeKey()?.managed !== true) return null;
    return (
      <section class="card" aria-labelledby="rotate-title">
        <h2 id="rotate-title">{t('encryption.rotateTitle')}</h2>
        <p>{t('encryption.rotateHelp')}</p>
        {errorNotice(rotateError.value)}
        <details>
          <summary>{t('encryption.rotateOpen')}</summary>
          {passphraseForm({
            labelledBy: 'rotate-title',
            onSubmit: rotate,
            field: { id: 'rotate-passphrase', label: t('encryption.newPassphrase'), help: t('encryption.rotatePassphraseHelp'), state: rotation },
            extra: textField({ id: 'rotate-hint', label: t('encryption.hint'), value: rotateHint.value, onInput: (v) => (rotateHint.value = v), hint: t('encryption.hintHelp') }),
            submit: t('encryption.rotate'),
            work: ['rotate', t('encryption.making')],
          })}
        </details>
      </section>
    );
  }

  function ownKeySection() {
    // The owner opens the project with its own passphrase; their own key matters in other people's projects.
    if (isOwner()) return null;
    const form = passphraseForm({
      labelledBy: 'own-key-title',
      onSubmit: setOwnKey,
      field: { id: 'own-passphrase', label: t('encryption.ownPassphrase'), help: t('encryption.ownPassphraseHelp'), state: own },
      submit: t('encryption.ownKeySetUp'),
      work: ['ownKey', t('encryption.making')],
    });
    return (
      <section class="card" aria-labelledby="own-key-title">
        <h2 id="own-key-title" tabindex="-1">{t('encryption.ownKeyTitle')}</h2>
        <p>{t('encryption.ownKeyHelp')}</p>
        {errorNotice(ownKeyError.value)}
        {ownKey.value === undefined ? <p role="status">{t('app.loading')}</p> : ownKey.value === null ? form : (
          <>
            <p>{t('encryption.ownKeySince', { when: formatDateTime(ownKey.value.updatedAt) })}</p>
            {replacingOwnKey.value ? (
              <>
                <p class="notice notice-warn">{t('encryption.ownKeyReplaceWarning')}</p>
                {form}
              </>
            ) : (
              <button type="button" class="secondary" onClick={() => (replacingOwnKey.value = true)}>{t('encryption.ownKeyReplace')}</button>
            )}
          </>
        )}
      </section>
    );
  }

  return () => {
    const current = view.value;
    const denied = loadError.value instanceof ApiError && loadError.value.status === 403;
    return (
      <section class="page">
        {crumbs([['/', t('nav.projects')], [`/p/${projectId()}`, project.value?.name ?? '…']])}
        <h1>{project.value?.name ?? ''}</h1>
        {projectTabs(projectId(), route.path)}
        {errorNotice(projectError.value)}
        {denied ? <p class="card">{t('encryption.denied')}</p> : errorNotice(loadError.value)}
        {okNotice(notice.value)}
        {current === null && loadError.value === null ? <p class="card" role="status">{t('app.loading')}</p> : null}
        {current !== null && !current.enabled ? (
          <>
            <section class="card" aria-labelledby="state-title">
              <h2 id="state-title" tabindex="-1">{t('encryption.title')}</h2>
              <p>{padlockIcon(true)} {t('encryption.off')}</p>
            </section>
            {turnOnSection()}
          </>
        ) : null}
        {current !== null && current.enabled ? (
          <>
            {stateSection(current)}
            {recoverySection()}
            {membersSection()}
            {keysSection(current)}
            {rotateSection()}
            {serverSection(current)}
          </>
        ) : null}
        {current !== null ? ownKeySection() : null}
      </section>
    );
  };
});
