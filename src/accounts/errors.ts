/**
 * The one error type of the accounts building blocks. It is thrown only for programming or
 * configuration mistakes (a bad iteration setting, a short server key); input that comes from users
 * (passwords, encoded hashes, TOTP and recovery codes, tokens) never throws, it simply fails to verify.
 */
export class AccountsError extends Error {
  override readonly name = 'AccountsError';

  constructor(
    /** Stable dotted code, e.g. `password.bad_iterations`. */
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}
