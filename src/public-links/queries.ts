import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../audit/index.js';
import type { PublicLinksTable } from '../db/tables.js';

export type PublicLinkRow = Selectable<PublicLinksTable>;

/** A link with its form's id and the username of whoever created it (null for a deleted account). */
export type PublicLinkListing = PublicLinkRow & { xml_form_id: string; created_by_username: string | null };

/** A link found by its token, with what an actor needs of its form. */
export type PublicLinkWithForm = PublicLinkRow & { xml_form_id: string };

export async function insertPublicLink(db: Executor, row: Insertable<PublicLinksTable>): Promise<number> {
  const { id } = await db.insertInto('public_links').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

export function listPublicLinks(db: Executor, projectId: number, formId: number): Promise<PublicLinkListing[]> {
  return db
    .selectFrom('public_links')
    .innerJoin('forms', 'forms.id', 'public_links.form_id')
    .leftJoin('users', 'users.id', 'public_links.created_by')
    .selectAll('public_links')
    .select(['forms.xml_form_id', 'users.username as created_by_username'])
    .where('public_links.project_id', '=', projectId)
    .where('public_links.form_id', '=', formId)
    .orderBy('public_links.id')
    .execute();
}

export function findPublicLink(db: Executor, projectId: number, formId: number, linkId: number): Promise<PublicLinkRow | undefined> {
  return db.selectFrom('public_links').selectAll().where('project_id', '=', projectId).where('form_id', '=', formId).where('id', '=', linkId).executeTakeFirst();
}

/** The link a token belongs to, whatever its state: the caller tells revoked, expired and used apart. */
export function findPublicLinkByTokenHash(db: Executor, tokenHash: string): Promise<PublicLinkWithForm | undefined> {
  return db
    .selectFrom('public_links')
    .innerJoin('forms', 'forms.id', 'public_links.form_id')
    .selectAll('public_links')
    .select('forms.xml_form_id')
    .where('public_links.token_hash', '=', tokenHash)
    .executeTakeFirst();
}

/** Sets `revoked_at` once; revoking again leaves the first time in place. */
export async function markRevoked(db: Executor, linkId: number, at: string): Promise<boolean> {
  const result = await db.updateTable('public_links').set({ revoked_at: at }).where('id', '=', linkId).where('revoked_at', 'is', null).executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

/**
 * Spends a single-use link if it is still live. One conditional UPDATE: of two transactions
 * racing, PostgreSQL makes the second wait for the first's row lock and then re-checks
 * `used_at is null`, and SQLite runs write transactions one at a time, so exactly one succeeds.
 */
export async function markUsed(db: Executor, linkId: number, at: string): Promise<boolean> {
  const result = await db
    .updateTable('public_links')
    .set({ used_at: at })
    .where('id', '=', linkId)
    .where('once', '=', 1)
    .where('used_at', 'is', null)
    .where('revoked_at', 'is', null)
    .where((eb) => eb.or([eb('expires_at', 'is', null), eb('expires_at', '>', at)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function projectName(db: Executor, projectId: number): Promise<string | undefined> {
  const row = await db.selectFrom('projects').select('name').where('id', '=', projectId).where('deleted_at', 'is', null).executeTakeFirst();
  return row?.name;
}
