/**
 * The padlock every screen of an encrypted project shows: locked or unlocked in this tab, with the
 * way to unlock (the passphrase, or a recovery or private key file) or to lock again. Light: the
 * crypto code (keys.ts) is loaded when the bar appears, not by the screens that include it.
 */
import { defineComponent, Fragment, h, onMounted, ref, watchEffect, type PropType } from 'vue';
import { RouterLink } from 'vue-router';
import { attempt, errorNotice, padlockIcon, textField } from '../components/ui.js';
import { t } from '../i18n.js';
import { encryptionOf, isUnlocked, loadKeys, type EncryptionView } from './state.js';
import './encryption.css';

/** A badge: locked, or unlocked in this tab. */
export function padlockBadge(projectId: number) {
  const open = isUnlocked(projectId);
  return (
    <span class={`badge padlock-badge ${open ? 'badge-good' : 'badge-warn'}`}>
      {padlockIcon(open)} {open ? t('encryption.badgeUnlocked') : t('encryption.badgeLocked')}
    </span>
  );
}

/** Passphrase (or file) → keys in this tab. */
export const UnlockForm = defineComponent({
  props: {
    projectId: { type: Number, required: true },
    view: { type: Object as PropType<EncryptionView | null>, default: null },
    onUnlocked: { type: Function as PropType<() => void>, default: undefined },
  },
  setup(props) {
    const passphrase = ref('');
    const file = ref<{ name: string; text: string } | null>(null);
    const fileIsRecovery = ref(false);
    const recoveryPassphrase = ref('');
    const busy = ref(false);
    const error = ref<unknown>(null);
    const id = (name: string) => `unlock-${props.projectId}-${name}`;
    // Unlocking takes a moment (scrypt); the code it needs is fetched while the passphrase is typed.
    onMounted(() => void loadKeys());

    const owner = () => props.view?.keys.some((key) => key.wrappedPrivateKey !== null) ?? false;
    const member = () => (props.view?.yourCopies.length ?? 0) > 0;
    const hint = () => (owner() ? props.view?.keys.find((key) => key.state === 'active')?.hint ?? null : null);

    async function run(action: (keys: Awaited<ReturnType<typeof loadKeys>>) => Promise<void>) {
      busy.value = true;
      const ok = await attempt(error, async () => {
        const keys = await loadKeys();
        try {
          await action(keys);
        } catch (err) {
          throw keys.explain(err);
        }
      });
      busy.value = false;
      if (ok) {
        passphrase.value = '';
        recoveryPassphrase.value = '';
        file.value = null;
        props.onUnlocked?.();
      }
    }

    function withPassphrase(event: Event) {
      event.preventDefault();
      void run((keys) => keys.unlock(props.projectId, passphrase.value));
    }

    function withFile(event: Event) {
      event.preventDefault();
      const chosen = file.value;
      if (chosen !== null) void run((keys) => keys.unlockWithFile(props.projectId, chosen.text, recoveryPassphrase.value));
    }

    async function chooseFile(event: Event) {
      const picked = (event.target as HTMLInputElement).files?.[0];
      if (picked === undefined) return;
      const text = await picked.text();
      file.value = { name: picked.name, text };
      fileIsRecovery.value = (await loadKeys()).isRecoveryFile(text);
    }

    return () => (
      <div class="unlock">
        {errorNotice(error.value)}
        {owner() || member() ? (
          <form onSubmit={withPassphrase} aria-label={t('encryption.unlockTitle')}>
            {textField({
              id: id('passphrase'),
              label: member() && !owner() ? t('encryption.yourPassphrase') : t('encryption.passphrase'),
              type: 'password',
              autocomplete: 'current-password',
              value: passphrase.value,
              onInput: (v) => (passphrase.value = v),
              required: true,
              ...(hint() !== null ? { hint: t('encryption.hintShown', { hint: hint()! }) } : {}),
            })}
            <button type="submit" disabled={busy.value || passphrase.value === ''}>{t('encryption.unlock')}</button>
          </form>
        ) : props.view?.keys.some((key) => !key.managed) ? (
          <p>{t('encryption.selfManagedUnlock')}</p>
        ) : props.view?.enabled ? (
          <p>{t('encryption.noCopy')}</p>
        ) : null}
        <details class="unlock-file">
          <summary>{t('encryption.unlockWithFile')}</summary>
          <form onSubmit={withFile}>
            <div class="field">
              <label for={id('file')}>{t('encryption.keyFile')}</label>
              <input id={id('file')} type="file" accept=".json,.pem,.key,application/json,application/x-pem-file,text/plain" aria-describedby={id('file-hint')} onChange={chooseFile} />
              <p class="hint" id={id('file-hint')}>{t('encryption.keyFileHint')}</p>
            </div>
            {fileIsRecovery.value
              ? textField({ id: id('recovery'), label: t('encryption.recoveryPassphrase'), type: 'password', autocomplete: 'off', value: recoveryPassphrase.value, onInput: (v) => (recoveryPassphrase.value = v), required: true })
              : null}
            <button type="submit" class="secondary" disabled={busy.value || file.value === null || (fileIsRecovery.value && recoveryPassphrase.value === '')}>{t('encryption.unlockFile')}</button>
          </form>
        </details>
        {busy.value ? <p role="status" class="hint">{t('encryption.unlocking')}</p> : null}
      </div>
    );
  },
});

/**
 * The padlock bar of a project's screens: what the padlock means here, and unlock or lock. Shown
 * when the project is encrypted, or when `encrypted` says this form is (a form with its own key).
 */
export const EncryptedBar = defineComponent({
  props: {
    projectId: { type: Number, required: true },
    encrypted: { type: Boolean, default: false },
    /** What stays hidden while locked, in this screen's words. */
    lockedText: { type: String, default: '' },
  },
  setup(props) {
    const view = ref<EncryptionView | null>(null);
    const error = ref<unknown>(null);
    const loaded = ref(false);
    watchEffect(async () => {
      const projectId = props.projectId;
      await attempt(error, async () => {
        view.value = await encryptionOf(projectId);
      });
      loaded.value = true;
    });

    async function lock() {
      (await loadKeys()).lock(props.projectId);
      document.getElementById(`padlock-${props.projectId}`)?.focus();
    }

    function focusBar() {
      document.getElementById(`padlock-${props.projectId}`)?.focus();
    }

    return () => {
      if (!loaded.value) return null;
      if (error.value !== null) return errorNotice(error.value);
      if (!props.encrypted && view.value?.enabled !== true) return null;
      const open = isUnlocked(props.projectId);
      return (
        <section class={`padlock-bar ${open ? 'is-open' : 'is-locked'}`} aria-labelledby={`padlock-${props.projectId}`}>
          <div class="row spread section-head">
            <h2 id={`padlock-${props.projectId}`} tabindex="-1">
              {padlockIcon(open)} {open ? t('encryption.unlockedTitle') : t('encryption.lockedTitle')}
            </h2>
            <RouterLink to={`/p/${props.projectId}/encryption`}>{t('encryption.settingsLink')}</RouterLink>
          </div>
          {open ? (
            <>
              <p>{t('encryption.unlockedHelp')}</p>
              <button type="button" class="secondary small" onClick={lock}>{t('encryption.lock')}</button>
            </>
          ) : (
            <>
              <p>{props.lockedText || t('encryption.lockedHelp')}</p>
              <UnlockForm projectId={props.projectId} view={view.value} onUnlocked={focusBar} />
            </>
          )}
        </section>
      );
    };
  },
});
