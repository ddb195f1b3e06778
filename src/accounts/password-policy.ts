/**
 * The rules a new password must meet (OWASP ASVS 5.0 §6.2): length, guessability and distance from
 * the account's own identity, and nothing else — no composition rules, no rotation.
 *
 * Guessability is zxcvbn's score (0–4, at least 3 required) over its common-password, English and
 * keyboard-pattern data. zxcvbn's matchers are super-linear in the password length and explode on
 * repetitive l33t-like inputs (measured here: 3 s for 300 × '1' with the defaults), so only the first
 * 64 characters are analysed and l33t substitutions are capped: a hostile password is judged in
 * about a tenth of a second, and anything whose first 64 characters are guessable is weak anyway.
 * The check is CPU work, so callers run it only on authenticated, throttled requests.
 *
 * zxcvbn and its word lists are loaded on the first check, not with the module: they hold about
 * 65 MB of a server's resident memory, which a server that never sets a password (most of the
 * time, most of them) should not carry, and in the browser they become a chunk of their own.
 */
import type { FeedbackType, ZxcvbnFactory } from '@zxcvbn-ts/core';

export const MIN_PASSWORD_CHARACTERS = 10;
export const MAX_PASSWORD_BYTES = 1024;
export const MIN_PASSWORD_SCORE = 3;
/** How many leading characters zxcvbn analyses (see the note above). */
const ANALYSED_CHARACTERS = 64;
const MAX_L33T_SUBSTITUTIONS = 16;
/** Django's UserAttributeSimilarityValidator threshold; here on a Levenshtein ratio. */
const MAX_IDENTITY_SIMILARITY = 0.7;
const MIN_IDENTITY_TERM_LENGTH = 3;

export type PasswordProblemCode =
  | 'password.too_short'
  | 'password.too_long'
  | 'password.too_weak'
  | 'password.contains_identity';

export interface PasswordProblem {
  code: PasswordProblemCode;
  message: string;
  /** For `password.too_weak`: zxcvbn's English warning and suggestions, to show beside the field. */
  feedback?: FeedbackType;
}

/** Who the password is for: it must not contain or resemble these. */
export interface PasswordIdentity {
  username?: string;
  email?: string;
}

let strengthEstimator: Promise<ZxcvbnFactory> | undefined;

/** Every rule the password breaks; an empty list means it may be used. */
export async function checkPasswordPolicy(password: string, identity: PasswordIdentity = {}): Promise<PasswordProblem[]> {
  // TextEncoder rather than Buffer: the browser checks passphrases with this same policy (src/crypto/browser).
  const bytes = new TextEncoder().encode(password).length;
  if (bytes > MAX_PASSWORD_BYTES) {
    // Nothing else is analysed: the password cannot be used whatever it contains.
    return [{ code: 'password.too_long', message: `Use at most ${MAX_PASSWORD_BYTES} bytes; this password has ${bytes} bytes in UTF-8.` }];
  }
  const problems: PasswordProblem[] = [];
  const characters = [...password].length;
  if (characters < MIN_PASSWORD_CHARACTERS) {
    problems.push({ code: 'password.too_short', message: `Use at least ${MIN_PASSWORD_CHARACTERS} characters; this password has ${characters}.` });
  }
  const terms = identityTerms(identity);
  if (resemblesIdentity(password, identity, terms)) {
    problems.push({ code: 'password.contains_identity', message: 'The password must not contain or resemble your username or email address.' });
  }
  const { score, feedback } = (await estimator()).check(password, terms);
  if (score < MIN_PASSWORD_SCORE) {
    const warning = feedback.warning ? ` ${feedback.warning}` : '';
    problems.push({
      code: 'password.too_weak',
      message: `This password is too easy to guess (strength ${score} of 4, at least ${MIN_PASSWORD_SCORE} needed).${warning} A few uncommon words together make a strong one.`,
      feedback,
    });
  }
  return problems;
}

function estimator(): Promise<ZxcvbnFactory> {
  strengthEstimator ??= loadEstimator();
  strengthEstimator.catch(() => (strengthEstimator = undefined));
  return strengthEstimator;
}

async function loadEstimator(): Promise<ZxcvbnFactory> {
  const [{ ZxcvbnFactory }, common, english] = await Promise.all([import('@zxcvbn-ts/core'), import('@zxcvbn-ts/language-common'), import('@zxcvbn-ts/language-en')]);
  return new ZxcvbnFactory({
    translations: english.translations,
    graphs: common.adjacencyGraphs,
    dictionary: { ...common.dictionary, ...english.dictionary },
    maxLength: ANALYSED_CHARACTERS,
    l33tMaxSubstitutions: MAX_L33T_SUBSTITUTIONS,
  });
}

/** The username, the email, its local part and the words in both, normalised for comparison. */
function identityTerms(identity: PasswordIdentity): string[] {
  const whole = [identity.username, identity.email, identity.email?.split('@')[0]];
  const words = whole.flatMap((term) => term?.split(/[^\p{L}\p{N}]+/u) ?? []);
  const terms = [...whole, ...words].filter((term): term is string => term !== undefined).map(normalise);
  return [...new Set(terms.filter((term) => [...term].length >= MIN_IDENTITY_TERM_LENGTH))];
}

/** Contains the username or the email's local part, or is too similar to any identity term. */
function resemblesIdentity(password: string, identity: PasswordIdentity, terms: readonly string[]): boolean {
  const candidate = normalise(password);
  const contained = [identity.username, identity.email?.split('@')[0]]
    .map((term) => normalise(term ?? ''))
    .filter((term) => [...term].length >= MIN_IDENTITY_TERM_LENGTH);
  return contained.some((term) => candidate.includes(term)) || terms.some((term) => similarity(candidate, term) >= MAX_IDENTITY_SIMILARITY);
}

function normalise(text: string): string {
  return text.normalize('NFKC').toLowerCase();
}

/** 1 − Levenshtein distance / longer length, over code points. */
function similarity(a: string, b: string): number {
  const left = [...a];
  const right = [...b];
  const longer = Math.max(left.length, right.length);
  if (longer === 0) return 1;
  // The distance is at least the difference in length, so such pairs cannot reach the threshold.
  if (Math.min(left.length, right.length) / longer < MAX_IDENTITY_SIMILARITY) return 0;
  return 1 - levenshtein(left, right) / longer;
}

function levenshtein(a: readonly string[], b: readonly string[]): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i += 1) {
    const current = [i];
    for (let j = 1; j <= b.length; j += 1) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current.push(Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}
