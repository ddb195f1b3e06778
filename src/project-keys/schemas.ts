import { Type } from 'typebox';
import { SEALED_KEY_FORMAT, WRAPPED_KEY_FORMAT } from '../crypto/index.js';

const Base64 = (maxLength: number) => Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$', maxLength });

export const WrappedKey = Type.Object(
  {
    format: Type.Literal(WRAPPED_KEY_FORMAT),
    version: Type.Literal(1),
    kdf: Type.Object({ name: Type.Literal('scrypt'), N: Type.Integer(), r: Type.Integer(), p: Type.Integer(), salt: Base64(100) }, { additionalProperties: false }),
    cipher: Type.Object({ name: Type.Literal('AES-256-GCM'), iv: Base64(100) }, { additionalProperties: false }),
    publicKey: Base64(8192),
    ciphertext: Base64(32768),
  },
  { additionalProperties: false, description: 'A private key wrapped in the browser by a passphrase-derived key (scrypt, AES-256-GCM); see docs/encryption.md.' },
);

export const SealedKey = Type.Object(
  {
    format: Type.Literal(SEALED_KEY_FORMAT),
    version: Type.Literal(1),
    recipient: Base64(8192),
    encryptedKey: Base64(2048),
    cipher: Type.Object({ name: Type.Literal('AES-256-GCM'), iv: Base64(100) }, { additionalProperties: false }),
    publicKey: Base64(8192),
    ciphertext: Base64(32768),
  },
  { additionalProperties: false, description: "A project private key sealed in the owner's browser to a member's own public key." },
);

const PublicKeyText = Type.String({ minLength: 1, maxLength: 10_000, description: 'RSA public key (2048 bits or more): PEM, or one-line base64 SubjectPublicKeyInfo as in <submission base64RsaPublicKey>.' });

export const KeySetupBody = Type.Object(
  {
    publicKey: PublicKeyText,
    wrappedPrivateKey: Type.Optional(WrappedKey),
    hint: Type.Optional(Type.String({ maxLength: 500, description: 'A reminder of the passphrase, shown to whoever unlocks the key. Never the passphrase itself.' })),
  },
  { additionalProperties: false },
);

export const EnableBody = Type.Object(
  {
    ...KeySetupBody.properties,
    allowServerDecryption: Type.Optional(Type.Boolean({ description: 'Allow exports to carry the passphrase for decryption on the server (ODK Central\'s way); true unless given as false.' })),
  },
  { additionalProperties: false },
);

export const SettingsBody = Type.Object({ allowServerDecryption: Type.Boolean() }, { additionalProperties: false });

export const OwnKeyBody = Type.Object({ publicKey: PublicKeyText, wrappedPrivateKey: WrappedKey }, { additionalProperties: false });

export const ShareBody = Type.Object({ sealedPrivateKey: SealedKey }, { additionalProperties: false });

export const KeyChange = Type.Object({ keyId: Type.Integer(), rekeyedForms: Type.Array(Type.String()) });

export const EncryptionView = Type.Object({
  enabled: Type.Boolean(),
  allowServerDecryption: Type.Boolean(),
  keys: Type.Array(
    Type.Object({
      id: Type.Integer(),
      state: Type.Union([Type.Literal('active'), Type.Literal('retired')]),
      publicKey: Type.String(),
      managed: Type.Boolean({ description: 'false for a self-managed key: only its public key is on the server.' }),
      hint: Type.Union([Type.String(), Type.Null()]),
      wrappedPrivateKey: Type.Union([WrappedKey, Type.Null()], { description: 'Given only to the owner.' }),
      createdAt: Type.String(),
      retiredAt: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  yourCopies: Type.Array(Type.Object({ keyId: Type.Integer(), sealedPrivateKey: SealedKey, grantedAt: Type.String() })),
});

export const SharingView = Type.Array(
  Type.Object({
    userId: Type.Integer(),
    username: Type.String(),
    role: Type.String(),
    publicKey: Type.Union([Type.String(), Type.Null()], { description: "The member's own public key; null until they set one up." }),
    keyIds: Type.Array(Type.Integer(), { description: 'Project keys this member holds a copy of.' }),
  }),
);

export const OwnKeyView = Type.Object({
  key: Type.Union([Type.Object({ publicKey: Type.String(), wrappedPrivateKey: WrappedKey, updatedAt: Type.String() }), Type.Null()]),
});
