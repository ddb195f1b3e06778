/** Request and response shapes of the accounts routes: validation, types and OpenAPI from one place. */
import { Type } from 'typebox';
import { MAX_PASSWORD_BYTES } from './password-policy.js';

/** Sign-in accepts longer passwords than the policy allows new ones (imported hashes), but not unbounded. */
const MAX_SIGN_IN_PASSWORD = 4096;

const Password = Type.String({ minLength: 1, maxLength: MAX_SIGN_IN_PASSWORD });
/** The policy limit is in bytes and is checked by the policy; this bounds the characters first. */
const NewPassword = Type.String({ minLength: 1, maxLength: MAX_PASSWORD_BYTES, description: 'At least 10 characters and at most 1024 bytes; not guessable.' });
const SecondFactorCode = Type.String({ minLength: 1, maxLength: 64, description: 'A code from the authenticator app, or a recovery code.' });

export const SignInBody = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 254, description: 'Username or email address.' }),
    password: Password,
    totp: Type.Optional(SecondFactorCode),
  },
  { additionalProperties: false },
);

export const User = Type.Object({
  id: Type.Integer(),
  username: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  isAdmin: Type.Boolean(),
  twoFactorEnabled: Type.Boolean(),
  disabled: Type.Boolean(),
  createdAt: Type.String({ format: 'date-time' }),
});

export const SignedIn = Type.Object({
  csrfToken: Type.String({ description: 'Send it as X-CSRF-Token with every state-changing request.' }),
  expiresAt: Type.String({ format: 'date-time' }),
  user: User,
});

export const CurrentSession = Type.Object({ id: Type.Integer(), csrfToken: Type.String(), user: User });

export const Session = Type.Object({
  id: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  lastSeenAt: Type.String({ format: 'date-time' }),
  expiresAt: Type.String({ format: 'date-time' }),
  address: Type.Union([Type.String(), Type.Null()]),
  userAgent: Type.Union([Type.String(), Type.Null()]),
  current: Type.Boolean(),
});

export const IdParams = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const EndedSessions = Type.Object({ ended: Type.Integer() });

export const Reauthentication = Type.Object(
  { currentPassword: Password, totp: Type.Optional(SecondFactorCode) },
  { additionalProperties: false },
);

export const MeChanges = Type.Object(
  {
    email: Type.Optional(Type.Union([Type.String({ maxLength: 254 }), Type.Null()])),
    newPassword: Type.Optional(NewPassword),
    currentPassword: Type.Optional(Password),
    totp: Type.Optional(SecondFactorCode),
  },
  { additionalProperties: false },
);

export const Enrolment = Type.Object({
  secret: Type.String({ description: 'Base32 secret, for apps that cannot scan the QR code.' }),
  otpauthUri: Type.String(),
  qrSvg: Type.String(),
});

export const ConfirmTwoFactor = Type.Object({ code: Type.String({ minLength: 1, maxLength: 16 }) }, { additionalProperties: false });

export const RecoveryCodes = Type.Object({ recoveryCodes: Type.Array(Type.String(), { description: 'Shown once; each works once.' }) });

export const ResetRequest = Type.Object({ email: Type.String({ minLength: 1, maxLength: 254 }) }, { additionalProperties: false });

export const ResetAccepted = Type.Object({ message: Type.String() });

export const ResetCompletion = Type.Object(
  { token: Type.String({ minLength: 1, maxLength: 128 }), newPassword: NewPassword, totp: Type.Optional(SecondFactorCode) },
  { additionalProperties: false },
);

export const TokenRequest = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 100 }),
    scope: Type.Optional(Type.Union([Type.Literal('read'), Type.Literal('write')], { description: 'read (the default) or write.' })),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 3650 })),
  },
  { additionalProperties: false },
);

export const Token = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  scope: Type.Union([Type.Literal('read'), Type.Literal('write')]),
  expiresAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  lastUsedAt: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  createdAt: Type.String({ format: 'date-time' }),
});

export const NewToken = Type.Object({ ...Token.properties, token: Type.String({ description: 'Shown once.' }) });

export const UserIdParams = Type.Object({ userId: Type.Integer({ minimum: 1 }) });

export const PasswordLink = Type.Object({
  url: Type.String({ description: 'Where the person sets their own password; give it to them (it is a credential until used). Valid for three days, once.' }),
  expiresAt: Type.String({ format: 'date-time' }),
});

export const AdminNewUser = Type.Object(
  {
    username: Type.String({ minLength: 1, maxLength: 150, description: 'Letters, digits and @ . + - _.' }),
    email: Type.Optional(Type.Union([Type.String({ maxLength: 254 }), Type.Null()])),
    isAdmin: Type.Optional(Type.Boolean({ description: 'An instance administrator (accounts and server settings; never project data without a role).' })),
  },
  { additionalProperties: false },
);

export const AdminCreatedUser = Type.Object({ user: User, passwordLink: PasswordLink });

export const AccountChanges = Type.Object(
  {
    disabled: Type.Optional(Type.Boolean({ description: 'Disabling ends the account\'s sessions and revokes its API tokens at once.' })),
    isAdmin: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, minProperties: 1 },
);
