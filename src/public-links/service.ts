/**
 * Public links: anonymous submission to one form, as ODK Central's public links and KoBoToolbox's
 * anonymous submissions offer. A link is a token in a server URL
 * (`{publicUrl}/key/fk_pub_…/projects/{id}`), the same shape as a device's, so Collect and
 * Enketo-style clients use it unchanged; whoever holds it becomes a `public_link` actor that may
 * list, download and submit to that one form and nothing else.
 *
 * The token is shown once, at creation; only its SHA-256 is kept. A link can expire and be
 * revoked; a single-use link is spent by its first submission, marked in the submission's own
 * transaction (`consumePublicLinkUse`), so two phones racing with the same link cannot both get in.
 */
import type { Kysely } from 'kysely';
import type { Actor, ProjectAccess } from '../access/index.js';
import { generateToken, hashToken, isWellFormedToken } from '../accounts/index.js';
import { recordAudit, type AuditEvent, type Executor } from '../audit/index.js';
import type { Tables } from '../db/tables.js';
import { findForm, type FormRow } from '../forms/queries.js';
import { openRosaBase } from '../openrosa/discovery.js';
import { AppError } from '../server/errors.js';
import { fillUrl } from '../web/fill-url.js';
import * as q from './queries.js';
import type { PublicLinkRow } from './queries.js';

export type PublicLinkActor = Extract<Actor, { kind: 'public_link' }>;
export type PublicLinkSource = Pick<AuditEvent, 'actor' | 'actorLabel' | 'address' | 'userAgent'>;
export type PublicLinkState = 'active' | 'expired' | 'revoked' | 'used';
/** The project (and, for the caller, the forms) a request was authorised for. */
export type PublicLinkScope = Pick<ProjectAccess, 'projectId' | 'onlyForm'>;

export const MAX_PUBLIC_LINK_LABEL = 100;
export const MAX_PUBLIC_LINK_DAYS = 3650;
const DAY_MS = 86_400_000;

export interface PublicLinkView {
  id: number;
  label: string;
  /** The form's xmlFormId. */
  formId: string;
  /** Single-use: spent by its first submission. */
  once: boolean;
  state: PublicLinkState;
  createdAt: string;
  /** Who created it; null when that account is gone. */
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  /** When a single-use link made its submission. */
  usedAt: string | null;
}

export interface NewPublicLink {
  link: PublicLinkView;
  /** The secret: shown this once, never stored. */
  token: string;
  /** The OpenRosa server URL to give Collect or a web-form client; it contains the token. */
  serverUrl: string;
  /** The web page where anyone holding the link fills in the form in a browser (token in the fragment). */
  fillUrl: string;
}

export interface PublicLinkRequest {
  label: string;
  expiresInDays?: number | undefined;
  once?: boolean | undefined;
}

function stateOf(row: PublicLinkRow, now: Date): PublicLinkState {
  if (row.revoked_at !== null) return 'revoked';
  if (row.used_at !== null) return 'used';
  if (row.expires_at !== null && row.expires_at <= now.toISOString()) return 'expired';
  return 'active';
}

function present(row: PublicLinkRow, formId: string, createdBy: string | null, now: Date): PublicLinkView {
  return {
    id: Number(row.id),
    label: row.label,
    formId,
    once: row.once === 1,
    state: stateOf(row, now),
    createdAt: row.created_at,
    createdBy,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    usedAt: row.used_at,
  };
}

function checkRequest(request: PublicLinkRequest): void {
  const label = request.label.trim();
  if (label.length === 0 || label.length > MAX_PUBLIC_LINK_LABEL) {
    throw new AppError('request.invalid', `A public link's label must be 1 to ${MAX_PUBLIC_LINK_LABEL} characters.`);
  }
  const days = request.expiresInDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > MAX_PUBLIC_LINK_DAYS)) {
    throw new AppError('request.invalid', `A public link may expire after 1 to ${MAX_PUBLIC_LINK_DAYS} whole days, or never.`);
  }
}

async function formOf(db: Executor, scope: PublicLinkScope, xmlFormId: string): Promise<FormRow> {
  const form = await findForm(db, scope, xmlFormId);
  if (!form) throw new AppError('form.not_found', `This project has no form ${JSON.stringify(xmlFormId)}.`);
  return form;
}

const username = (source: PublicLinkSource) => (source.actor?.kind === 'user' ? source.actor.username : null);

/** Creates a public link to one form and returns its token and server URL, once. */
export async function createPublicLink(
  db: Kysely<Tables>,
  publicUrl: string,
  scope: PublicLinkScope,
  xmlFormId: string,
  request: PublicLinkRequest,
  source: PublicLinkSource,
  now: Date = new Date(),
): Promise<NewPublicLink> {
  checkRequest(request);
  const form = await formOf(db, scope, xmlFormId);
  const token = generateToken('public');
  const row = {
    project_id: scope.projectId,
    form_id: form.id,
    label: request.label.trim(),
    token_hash: hashToken(token),
    once: request.once === true ? 1 : 0,
    created_by: source.actor?.kind === 'user' ? source.actor.userId : null,
    created_at: now.toISOString(),
    expires_at: request.expiresInDays === undefined ? null : new Date(now.getTime() + request.expiresInDays * DAY_MS).toISOString(),
    revoked_at: null,
    used_at: null,
  };
  const id = await db.transaction().execute(async (trx) => {
    const inserted = await q.insertPublicLink(trx, row);
    await recordAudit(trx, {
      ...source,
      action: 'public_link.create',
      projectId: scope.projectId,
      resource: { type: 'public_link', id: inserted },
      details: { formId: form.xml_form_id, label: row.label, once: row.once === 1, expiresAt: row.expires_at },
    });
    return inserted;
  });
  return {
    link: present({ ...row, id }, form.xml_form_id, username(source), now),
    token,
    serverUrl: openRosaBase(publicUrl, scope.projectId, token),
    fillUrl: fillUrl(publicUrl, scope.projectId, form.xml_form_id, token),
  };
}

/** A form's public links, revoked, expired and used ones included (never their tokens). */
export async function listPublicLinks(db: Executor, scope: PublicLinkScope, xmlFormId: string, now: Date = new Date()): Promise<PublicLinkView[]> {
  const form = await formOf(db, scope, xmlFormId);
  return (await q.listPublicLinks(db, scope.projectId, form.id)).map((row) => present(row, row.xml_form_id, row.created_by_username, now));
}

/** Revokes a link at once; revoking one already revoked changes nothing. */
export async function revokePublicLink(db: Kysely<Tables>, scope: PublicLinkScope, xmlFormId: string, linkId: number, source: PublicLinkSource, now: Date = new Date()): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const form = await formOf(trx, scope, xmlFormId);
    const found = await q.findPublicLink(trx, scope.projectId, form.id, linkId);
    if (!found) throw new AppError('public_link.not_found', `Form ${JSON.stringify(xmlFormId)} has no public link ${linkId}.`);
    if (await q.markRevoked(trx, linkId, now.toISOString())) {
      await recordAudit(trx, { ...source, action: 'public_link.revoke', projectId: scope.projectId, resource: { type: 'public_link', id: linkId }, details: { formId: form.xml_form_id, label: found.label } });
    }
  });
}

export type PublicLinkRefusalReason = 'malformed' | 'unknown' | Exclude<PublicLinkState, 'active'>;
export type PublicLinkTokenCheck = { ok: true; actor: PublicLinkActor } | { ok: false; reason: PublicLinkRefusalReason };

const REFUSAL_MESSAGES: Readonly<Record<PublicLinkRefusalReason, string>> = {
  malformed: 'This public link is not known to this server; check that the whole address was copied.',
  unknown: 'This public link is not known to this server; check that the whole address was copied.',
  revoked: 'This public link has been withdrawn; ask whoever shared it for a new one.',
  expired: 'This public link has expired; ask whoever shared it for a new one.',
  used: 'This single-use link has already been used to send a submission.',
};

/** Who a public-link token is: its link as an actor, or why it is refused. Reads only. */
export async function checkPublicLinkToken(db: Executor, token: string, now: Date = new Date()): Promise<PublicLinkTokenCheck> {
  if (!isWellFormedToken('public', token)) return { ok: false, reason: 'malformed' };
  const link = await q.findPublicLinkByTokenHash(db, hashToken(token));
  if (!link) return { ok: false, reason: 'unknown' };
  const state = stateOf(link, now);
  if (state !== 'active') return { ok: false, reason: state };
  return {
    ok: true,
    actor: { kind: 'public_link', linkId: Number(link.id), projectId: Number(link.project_id), xmlFormId: link.xml_form_id, once: link.once === 1, label: link.label },
  };
}

/**
 * Spends a single-use link: call inside the transaction that records a new submission, so the
 * link is used if and only if the submission commits. Does nothing for any other actor. If the
 * link was spent (or revoked, or expired) since the request was authenticated, it throws
 * `public_link.refused` and the transaction, submission and all, rolls back.
 */
export async function consumePublicLinkUse(trx: Executor, source: PublicLinkSource, now: Date = new Date()): Promise<void> {
  const actor = source.actor;
  if (actor?.kind !== 'public_link' || !actor.once) return;
  if (!(await q.markUsed(trx, actor.linkId, now.toISOString()))) {
    throw new AppError('public_link.refused', `${REFUSAL_MESSAGES.used} (Or it was revoked or expired meanwhile.)`);
  }
  await recordAudit(trx, { ...source, actorLabel: actor.label, action: 'public_link.use', projectId: actor.projectId, resource: { type: 'public_link', id: actor.linkId }, details: { formId: actor.xmlFormId } });
}

/** What a phone is told when its public-link token is refused: 403, with the reason in words. */
export function publicLinkRefusal(reason: PublicLinkRefusalReason): AppError {
  return new AppError('public_link.refused', REFUSAL_MESSAGES[reason]);
}
