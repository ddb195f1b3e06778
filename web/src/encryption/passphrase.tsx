/**
 * Choosing a new passphrase: the field, live strength feedback (the rules of account passwords,
 * checked here in the browser: the passphrase is never sent anywhere) and the repeat.
 */
import { defineComponent, h, reactive, watch, type PropType } from 'vue';
import { t } from '../i18n.js';
import { passphraseProblems, type PasswordProblem } from './keys.js';

export interface PassphraseState {
  passphrase: string;
  repeat: string;
  /** The rules the passphrase breaks, as last checked… */
  problems: PasswordProblem[];
  /** …for this passphrase (the check runs after each change; an answer to an older one is dropped). */
  checked: string;
}

export function usePassphrase(): PassphraseState {
  const state = reactive<PassphraseState>({ passphrase: '', repeat: '', problems: [], checked: '' });
  watch(
    () => state.passphrase,
    async (value) => {
      const problems = value === '' ? [] : await passphraseProblems(value);
      if (state.passphrase !== value) return;
      state.problems = problems;
      state.checked = value;
    },
  );
  return state;
}

/** Whether the passphrase may be used and the repeat matches it. */
export function passphraseReady(state: PassphraseState): boolean {
  return state.passphrase !== '' && state.checked === state.passphrase && state.problems.length === 0 && state.repeat === state.passphrase;
}

export function clearPassphrase(state: PassphraseState): void {
  state.passphrase = '';
  state.repeat = '';
}

function problemText(problem: PasswordProblem, passphrase: string): string {
  switch (problem.code) {
    case 'password.too_short':
      return t('passphrase.tooShort', { count: [...passphrase].length });
    case 'password.too_long':
      return t('passphrase.tooLong');
    case 'password.contains_identity':
      return t('passphrase.identity');
    case 'password.too_weak':
      return t('passphrase.tooWeak');
  }
}

/** 0 nothing typed, 1 weak, 2 only too short, 3 may be used: a meter's low, middle and optimum ranges. */
function level(state: PassphraseState): 0 | 1 | 2 | 3 {
  if (state.passphrase === '' || state.checked === '') return 0;
  if (state.problems.length === 0) return 3;
  return state.problems.every((p) => p.code === 'password.too_short') ? 2 : 1;
}

export const PassphraseFields = defineComponent({
  props: {
    id: { type: String, required: true },
    label: { type: String, required: true },
    help: { type: String, required: true },
    state: { type: Object as PropType<PassphraseState>, required: true },
  },
  setup(props) {
    return () => {
      const state = props.state;
      const shown = level(state);
      const feedback = state.problems.find((p) => p.code === 'password.too_weak')?.feedback;
      const mismatch = state.repeat !== '' && state.repeat !== state.passphrase;
      return (
        <div class="passphrase">
          <div class="field">
            <label for={props.id}>{props.label}</label>
            <input
              id={props.id}
              type="password"
              autocomplete="new-password"
              spellcheck={false}
              value={state.passphrase}
              aria-describedby={`${props.id}-help ${props.id}-strength`}
              aria-invalid={shown === 1 || shown === 2 ? 'true' : undefined}
              onInput={(e: Event) => (state.passphrase = (e.target as HTMLInputElement).value)}
            />
            <p class="hint" id={`${props.id}-help`}>{props.help}</p>
            <div class="strength" id={`${props.id}-strength`}>
              <meter min="0" max="3" low="1.5" high="2.5" optimum="3" value={shown} aria-label={t('passphrase.strength')} />
              <span aria-live="polite">{t(`passphrase.level${shown}`)}</span>
            </div>
            {state.passphrase !== '' && state.problems.length > 0 ? (
              <ul class="strength-problems">
                {state.problems.map((problem) => <li>{problemText(problem, state.checked)}</li>)}
                {feedback?.warning ? <li>{feedback.warning}</li> : null}
                {(feedback?.suggestions ?? []).map((suggestion) => <li>{suggestion}</li>)}
              </ul>
            ) : null}
          </div>
          <div class="field">
            <label for={`${props.id}-repeat`}>{t('passphrase.repeat')}</label>
            <input
              id={`${props.id}-repeat`}
              type="password"
              autocomplete="new-password"
              spellcheck={false}
              value={state.repeat}
              aria-invalid={mismatch ? 'true' : undefined}
              aria-describedby={mismatch ? `${props.id}-mismatch` : undefined}
              onInput={(e: Event) => (state.repeat = (e.target as HTMLInputElement).value)}
            />
            {mismatch ? <p class="hint field-error" id={`${props.id}-mismatch`}>{t('passphrase.mismatch')}</p> : null}
          </div>
        </div>
      );
    };
  },
});
