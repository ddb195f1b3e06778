/*
 * End-to-end encrypted projects: the project's key pairs, each person's own key pair, the copies
 * of project keys sealed for members, and the project's public key in every form. The server
 * checks the shape of what it stores (the wrapped or sealed key must belong to the public key it
 * comes with) but only ever receives public keys and passphrase-wrapped or member-sealed private
 * keys; the passphrase and the unwrapped key stay in the browser (src/crypto/browser).
 */
import { buffer } from 'node:stream/consumers';
import type { ProjectAccess } from '../access/index.js';
import { can } from '../access/index.js';
import { recordAudit, type AuditEvent, type Executor } from '../audit/index.js';
import { CryptoError, loadPublicKey, publicKeyToBase64Spki, readSealedPrivateKey, readWrappedPrivateKey } from '../crypto/index.js';
import type { SealedPrivateKey, WrappedPrivateKey } from '../crypto/index.js';
import { isoNow } from '../db/columns.js';
import { prepareFormDefinition, type FormDefinition } from '../forms/definition.js';
import * as forms from '../forms/queries.js';
import type { FormRow, FormVersionRow } from '../forms/queries.js';
import type { AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import type { FormSchema } from '../xform/index.js';
import { FormKeyError, injectPublicKey, suffixedVersion, versionSuffix } from './form-key.js';
import * as q from './queries.js';
import type { ProjectKeyRow } from './queries.js';

export interface KeyScope {
  ctx: AppContext;
  access: ProjectAccess;
  source: Pick<AuditEvent, 'actor' | 'address' | 'userAgent'>;
}

export interface KeySetup {
  /** PEM or one-line base64 SubjectPublicKeyInfo. */
  publicKey: string;
  /** A `fieldkeep.wrapped-private-key` object; absent for a self-managed key (public key only). */
  wrappedPrivateKey?: unknown;
  hint?: string;
}

const MIN_RSA_BITS = 2048;

function userIdOf(scope: Pick<KeyScope, 'source'>): number | null {
  return scope.source.actor?.kind === 'user' ? scope.source.actor.userId : null;
}

function audit(scope: KeyScope, db: Executor, action: string, details: Record<string, unknown>, resource?: AuditEvent['resource']) {
  return recordAudit(db, { ...scope.source, action, projectId: scope.access.projectId, ...(resource ? { resource } : {}), details });
}

/** A public key as stored and injected: RSA of at least 2048 bits, one-line base64 SPKI. */
async function normalisedPublicKey(text: string): Promise<string> {
  try {
    const key = await loadPublicKey(text);
    if (key.modulusBits < MIN_RSA_BITS) throw new AppError('key.weak_public_key', `The key has ${key.modulusBits} bits; use at least ${MIN_RSA_BITS} (3072 is stronger).`);
    return publicKeyToBase64Spki(key);
  } catch (err) {
    if (err instanceof CryptoError) throw new AppError('key.bad_public_key', err.message);
    throw err;
  }
}

/** The stored JSON of a wrapped private key, after checking it wraps the key whose public half is `publicKey`. */
function checkedWrappedKey(wrapped: unknown, publicKey: string): string {
  let blob;
  try {
    blob = readWrappedPrivateKey(wrapped);
  } catch (err) {
    if (err instanceof CryptoError) throw new AppError('key.bad_wrapped_key', err.message);
    throw err;
  }
  if (blob.publicKey !== publicKey) throw new AppError('key.bad_wrapped_key', 'The wrapped private key belongs to a different public key.');
  return JSON.stringify(blob);
}

async function checkedSetup(setup: KeySetup): Promise<{ publicKey: string; wrapped: string | null; hint: string | null }> {
  const publicKey = await normalisedPublicKey(setup.publicKey);
  const wrapped = setup.wrappedPrivateKey === undefined ? null : checkedWrappedKey(setup.wrappedPrivateKey, publicKey);
  return { publicKey, wrapped, hint: setup.hint?.trim() || null };
}

export async function encryptionStatus(scope: KeyScope) {
  const db = scope.ctx.database.db;
  const settings = await q.findEncryption(db, scope.access);
  const keys = settings ? await q.listKeys(db, scope.access) : [];
  // The passphrase-wrapped keys go only to whoever may manage them: a viewer guessing offline gains nothing.
  const manager = scope.source.actor !== undefined && can(scope.source.actor, 'project.transfer', { project: scope.access });
  const userId = userIdOf(scope);
  return {
    enabled: settings !== undefined,
    allowServerDecryption: settings?.allow_server_decryption === 1,
    keys: keys.map((key) => ({
      id: key.id,
      state: key.state as 'active' | 'retired',
      publicKey: key.public_key,
      managed: key.wrapped_private_key !== null,
      hint: key.hint,
      wrappedPrivateKey: manager && key.wrapped_private_key !== null ? (JSON.parse(key.wrapped_private_key) as WrappedPrivateKey) : null,
      createdAt: key.created_at,
      retiredAt: key.retired_at,
    })),
    yourCopies: userId === null ? [] : (await q.grantsOfUser(db, scope.access, userId)).map((g) => ({ keyId: g.project_key_id, sealedPrivateKey: JSON.parse(g.sealed_private_key) as SealedPrivateKey, grantedAt: g.created_at })),
  };
}

/**
 * Turns encryption on: the key becomes active and every form is given it (new versions, published
 * at once). Decryption on the server is allowed unless the owner says otherwise: the issue keeps it
 * available, as ODK Central has it, with a project setting to forbid it.
 */
export async function enableEncryption(scope: KeyScope, setup: KeySetup & { allowServerDecryption?: boolean }): Promise<{ keyId: number; rekeyedForms: string[] }> {
  const db = scope.ctx.database.db;
  const allowServerDecryption = setup.allowServerDecryption ?? true;
  if (await q.findEncryption(db, scope.access)) throw new AppError('key.already_enabled');
  const checked = await checkedSetup(setup);
  const now = new Date();
  const suffix = versionSuffix(now);
  const plans = await planRekey(scope, checked.publicKey, suffix, new Set());
  return db.transaction().execute(async (trx) => {
    if (await q.findEncryption(trx, scope.access)) throw new AppError('key.already_enabled');
    await q.insertEncryption(trx, scope.access, { allow_server_decryption: allowServerDecryption ? 1 : 0, enabled_by: userIdOf(scope), enabled_at: now.toISOString() });
    const keyId = await insertKey(trx, scope, checked, suffix, now);
    await applyRekey(scope, trx, plans);
    await audit(scope, trx, 'key.enable', { keyId, selfManaged: checked.wrapped === null, allowServerDecryption, forms: plans.map((p) => p.form.xml_form_id) });
    return { keyId, rekeyedForms: plans.map((p) => p.form.xml_form_id) };
  });
}

/**
 * A new key pair for new data: the active key is retired (kept, with its members' copies, since
 * data already sent was encrypted to it) and forms are given the new public key.
 */
export async function rotateKey(scope: KeyScope, setup: KeySetup): Promise<{ keyId: number; rekeyedForms: string[] }> {
  const db = scope.ctx.database.db;
  if (!(await q.findEncryption(db, scope.access))) throw new AppError('key.not_enabled');
  const checked = await checkedSetup(setup);
  const now = new Date();
  const suffix = versionSuffix(now);
  const previous = new Set((await q.listKeys(db, scope.access)).map((k) => k.public_key));
  const plans = await planRekey(scope, checked.publicKey, suffix, previous);
  return db.transaction().execute(async (trx) => {
    await q.retireActiveKey(trx, scope.access, now.toISOString());
    const keyId = await insertKey(trx, scope, checked, suffix, now);
    await applyRekey(scope, trx, plans);
    await audit(scope, trx, 'key.rotate', { keyId, selfManaged: checked.wrapped === null, forms: plans.map((p) => p.form.xml_form_id) });
    return { keyId, rekeyedForms: plans.map((p) => p.form.xml_form_id) };
  });
}

function insertKey(trx: Executor, scope: KeyScope, checked: { publicKey: string; wrapped: string | null; hint: string | null }, suffix: string, now: Date) {
  return q.insertKey(trx, scope.access, {
    state: 'active',
    public_key: checked.publicKey,
    wrapped_private_key: checked.wrapped,
    hint: checked.hint,
    version_suffix: suffix,
    created_by: userIdOf(scope),
    created_at: now.toISOString(),
    retired_at: null,
  });
}

export async function setServerDecryption(scope: KeyScope, allow: boolean): Promise<void> {
  const db = scope.ctx.database.db;
  await db.transaction().execute(async (trx) => {
    if (!(await q.findEncryption(trx, scope.access))) throw new AppError('key.not_enabled');
    await q.setServerDecryption(trx, scope.access, allow);
    await audit(scope, trx, 'key.server_decryption_setting', { allowServerDecryption: allow });
  });
}

// ---- each person's own key pair, and the copies of project keys sealed for them -------------

export async function ownKey(ctx: AppContext, userId: number) {
  const row = await q.findUserKey(ctx.database.db, userId);
  return row ? { publicKey: row.public_key, wrappedPrivateKey: JSON.parse(row.wrapped_private_key) as WrappedPrivateKey, updatedAt: row.updated_at } : null;
}

/** Setting a new own key voids every copy sealed to the old one: owners share again. */
export async function setOwnKey(ctx: AppContext, source: KeyScope['source'], userId: number, setup: { publicKey: string; wrappedPrivateKey: unknown }): Promise<{ voidedCopies: number }> {
  const publicKey = await normalisedPublicKey(setup.publicKey);
  const wrapped = checkedWrappedKey(setup.wrappedPrivateKey, publicKey);
  return ctx.database.db.transaction().execute(async (trx) => {
    const previous = await q.findUserKey(trx, userId);
    const voidedCopies = previous && previous.public_key !== publicKey ? await q.deleteGrantsOfUser(trx, userId) : 0;
    await q.upsertUserKey(trx, { user_id: userId, public_key: publicKey, wrapped_private_key: wrapped, updated_at: isoNow() });
    await recordAudit(trx, { ...source, action: 'key.own_key_set', resource: { type: 'user', id: userId }, details: { voidedCopies } });
    return { voidedCopies };
  });
}

/** The project's people, their own public keys, and which project keys each holds a copy of. */
export async function sharingState(scope: KeyScope) {
  const db = scope.ctx.database.db;
  if (!(await q.findEncryption(db, scope.access))) throw new AppError('key.not_enabled');
  const [people, grants] = await Promise.all([q.peopleWithKeys(db, scope.access), q.grantsOfProject(db, scope.access)]);
  return people.map((person) => ({
    userId: person.user_id,
    username: person.username,
    role: person.role,
    publicKey: person.public_key,
    keyIds: grants.filter((g) => g.user_id === person.user_id).map((g) => g.project_key_id),
  }));
}

/** Stores a project key sealed (in the owner's browser) to a member's own public key. */
export async function shareKey(scope: KeyScope, userId: number, keyId: number, sealed: unknown): Promise<void> {
  const db = scope.ctx.database.db;
  const key = await q.findKey(db, scope.access, keyId);
  if (!key) throw new AppError('key.not_found');
  const person = (await q.peopleWithKeys(db, scope.access)).find((p) => p.user_id === userId);
  if (!person) throw new AppError('key.not_member');
  if (person.public_key === null) throw new AppError('key.no_member_key');
  let copy;
  try {
    copy = readSealedPrivateKey(sealed);
  } catch (err) {
    if (err instanceof CryptoError) throw new AppError('key.bad_sealed_key', err.message);
    throw err;
  }
  if (copy.recipient !== person.public_key) throw new AppError('key.bad_sealed_key', `The copy was sealed to a key that is not ${person.username}'s current one.`);
  if (copy.publicKey !== key.public_key) throw new AppError('key.bad_sealed_key', `The copy holds a different key than project key ${keyId}.`);
  await db.transaction().execute(async (trx) => {
    await q.upsertGrant(trx, { project_key_id: key.id, user_id: userId, sealed_private_key: JSON.stringify(copy), granted_by: userIdOf(scope), created_at: isoNow() });
    await audit(scope, trx, 'key.share', { keyId, userId }, { type: 'user', id: userId });
  });
}

/** Removes every copy the member holds; what they already decrypted cannot be taken back. */
export async function revokeKeys(scope: KeyScope, userId: number): Promise<{ removed: number }> {
  return scope.ctx.database.db.transaction().execute(async (trx) => {
    const removed = await q.deleteGrantsInProject(trx, scope.access, userId);
    await audit(scope, trx, 'key.revoke', { userId, removed }, { type: 'user', id: userId });
    return { removed };
  });
}

// ---- the public key in every form ------------------------------------------------------------

/**
 * Called on every form upload: in an encrypted project the new definition is given the active
 * key, unless it brings a key of its own (self-managed), which it keeps.
 */
export async function withProjectKey(db: Executor, access: ProjectAccess, definition: FormDefinition): Promise<FormDefinition> {
  const active = await q.activeKey(db, access);
  if (!active) return definition;
  const own = definition.schema.base64RsaPublicKey;
  const projectKeys = new Set((await q.listKeys(db, access)).map((k) => k.public_key));
  if (own && !projectKeys.has(own)) return definition;
  const keyed = await keyedDefinition(definition.xform, definition.schema, active);
  return { ...definition, xform: keyed.xform, schema: keyed.schema };
}

async function keyedDefinition(xform: Buffer, schema: FormSchema, key: Pick<ProjectKeyRow, 'public_key' | 'version_suffix'>): Promise<Pick<FormDefinition, 'xform' | 'schema'>> {
  const version = suffixedVersion(schema.version, key.version_suffix);
  let keyed: FormDefinition;
  try {
    keyed = await prepareFormDefinition(Buffer.from(injectPublicKey(xform.toString('utf8'), key.public_key, version), 'utf8'), 'form.xml');
  } catch (err) {
    if (err instanceof FormKeyError) throw new AppError('key.form_not_keyable', `Form ${JSON.stringify(schema.formId)}: ${err.message}.`);
    throw err;
  }
  if (keyed.schema.base64RsaPublicKey !== key.public_key || keyed.schema.version !== version || keyed.schema.formId !== schema.formId) {
    throw new AppError('key.form_not_keyable', `Form ${JSON.stringify(schema.formId)}: its XML could not be given the key without changing its meaning.`);
  }
  return keyed;
}

interface RekeyPlan {
  form: FormRow;
  which: 'published' | 'draft';
  replaced: FormVersionRow;
  keyed: Pick<FormDefinition, 'xform' | 'schema'>;
  blob: { id: string; md5: string; size: number };
}

/** New versions of the project's forms carrying `publicKey`; forms with their own key are left alone. */
async function planRekey(scope: KeyScope, publicKey: string, suffix: string, projectKeys: ReadonlySet<string>): Promise<RekeyPlan[]> {
  const db = scope.ctx.database.db;
  const plans: RekeyPlan[] = [];
  for (const form of await forms.listForms(db, scope.access)) {
    for (const which of ['published', 'draft'] as const) {
      const versionId = which === 'published' ? form.published_version_id : form.draft_version_id;
      const version = versionId === null ? undefined : await forms.findVersion(db, form, versionId);
      if (!version) continue;
      const schema = JSON.parse(version.schema_json) as FormSchema;
      const own = schema.base64RsaPublicKey;
      if (own === publicKey || (own && !projectKeys.has(own))) continue;
      const xform = await buffer(await scope.ctx.blobs.get(version.xform_blob));
      const keyed = await keyedDefinition(xform, schema, { public_key: publicKey, version_suffix: suffix });
      const blob = await scope.ctx.blobs.put(keyed.xform);
      plans.push({ form, which, replaced: version, keyed, blob });
    }
  }
  return plans;
}

async function applyRekey(scope: KeyScope, trx: Executor, plans: readonly RekeyPlan[]): Promise<void> {
  const now = isoNow();
  for (const plan of plans) {
    const { id: _id, published_at: _published, ...kept } = plan.replaced;
    const versionId = await forms.insertVersion(trx, {
      ...kept,
      version: plan.keyed.schema.version ?? '',
      xform_blob: plan.blob.id,
      xform_md5: plan.blob.md5,
      xform_size: plan.blob.size,
      schema_json: JSON.stringify(plan.keyed.schema),
      encrypted: 1,
      created_by: userIdOf(scope),
      created_at: now,
    });
    if (plan.which === 'published') {
      const inserted = await forms.findVersion(trx, plan.form, versionId);
      if (inserted) await forms.markPublished(trx, inserted, now);
      await forms.updateForm(trx, plan.form, { published_version_id: versionId, updated_at: now });
    } else {
      await forms.updateForm(trx, plan.form, { draft_version_id: versionId, updated_at: now });
      await forms.deleteDraftVersion(trx, plan.form, plan.replaced.id);
    }
    await recordAudit(trx, {
      ...scope.source,
      action: 'form.rekey',
      projectId: scope.access.projectId,
      resource: { type: 'form', id: plan.form.xml_form_id },
      details: { which: plan.which, version: plan.keyed.schema.version },
    });
  }
}
