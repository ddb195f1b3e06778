/**
 * Public API of the accounts module. The pure building blocks (password hashing and policy, TOTP
 * and recovery codes, opaque tokens, the throttle policy) and the wiring the server and the command
 * line use: the authentication hook, the routes, the `user` and `token` commands, and the account
 * services other modules and tests may call.
 */
export { AccountsError } from './errors.js';
export {
  DEFAULT_PBKDF2_ITERATIONS,
  MAX_PBKDF2_ITERATIONS,
  MIN_PBKDF2_ITERATIONS,
  dummyVerify,
  hashPassword,
  inspectPasswordHash,
  passwordHashEvaluations,
  verifyPassword,
} from './passwords.js';
export type { PasswordAlgorithm, PasswordHashInfo, PasswordHashingOptions, PasswordVerification } from './passwords.js';
export { MAX_PASSWORD_BYTES, MIN_PASSWORD_CHARACTERS, MIN_PASSWORD_SCORE, checkPasswordPolicy } from './password-policy.js';
export type { PasswordIdentity, PasswordProblem, PasswordProblemCode } from './password-policy.js';
export {
  DEFAULT_TOTP_PARAMETERS,
  RECOVERY_CODE_COUNT,
  TOTP_ISSUER,
  generateRecoveryCodes,
  generateTotpSecret,
  hashRecoveryCode,
  matchRecoveryCode,
  totpCode,
  totpProvisioningUri,
  totpQrSvg,
  verifyTotp,
} from './totp.js';
export type { RecoveryCodes, TotpOptions, TotpParameters, TotpVerifyOptions } from './totp.js';
export { TOKEN_SECRET_LENGTH, constantTimeEqual, generateToken, hashToken, isWellFormedToken, keyedHash } from './tokens.js';
export type { TokenKind } from './tokens.js';
export { BASIC_CHALLENGE, accountsAuthentication, basicAllowed } from './authenticate.js';
export { identityKey } from './credentials.js';
export { createMailer } from './mail.js';
export { accountRoutes } from './routes.js';
export { tokenCommand, userCommand } from './commands.js';
export type { CommandIo } from './commands.js';
export { createAccountsContext } from './context.js';
export type { AccountsContext } from './context.js';
export { createUser, importUsers, listUsers, presentUser, setAdmin, setDisabled, setPassword } from './users.js';
export type { Changer, NewUser, UserView } from './users.js';
export { createApiToken } from './api-tokens.js';
export type { NewToken, TokenRequest, TokenScope, TokenView } from './api-tokens.js';
export { parseUserImport } from './import-file.js';
export type { ImportFormat, ImportProblem, ImportRow } from './import-file.js';
export { countAttempt, decideAttempt, delayAfterFailures } from './throttle.js';
export type { ThrottleDecision, ThrottleLimits, ThrottleState } from './throttle.js';
