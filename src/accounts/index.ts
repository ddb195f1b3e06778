/**
 * Public API of the accounts building blocks: password hashing and policy, TOTP and recovery
 * codes, and opaque tokens. All pure (no database or network); the services and routes use these.
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
