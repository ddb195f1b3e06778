import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * End-to-end encrypted projects (src/project-keys). The server holds public keys and private keys
 * only wrapped by a passphrase-derived key (`wrapped_private_key`, src/crypto/key-wrap.ts) or
 * sealed to a member's own key (`sealed_private_key`, src/crypto/sealed-key.ts); never a
 * passphrase or an unwrapped key.
 *
 * - `project_encryption`: one row per encrypted project, with whether an export may carry the
 *   passphrase for decryption on the server.
 * - `project_keys`: the project's key pairs; one `active` (injected into every form), older ones
 *   `retired` after a rotation but kept, since data already sent was encrypted to them. A key
 *   uploaded by its owner as a bare public key (self-managed) has no wrapped private key.
 * - `user_keys`: each person's own key pair, wrapped by their own passphrase.
 * - `project_key_grants`: a project key sealed for one member; revoking deletes the row.
 */
export const projectKeys: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await db.schema
      .createTable('project_encryption')
      .addColumn('project_id', idType, (c) => c.primaryKey().references('projects.id').onDelete('cascade'))
      .addColumn('allow_server_decryption', 'integer', (c) => c.notNull())
      .addColumn('enabled_by', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('enabled_at', 'text', (c) => c.notNull())
      .execute();

    await withIdColumn(db.schema.createTable('project_keys'), dialect)
      .addColumn('project_id', idType, (c) => c.notNull().references('projects.id').onDelete('cascade'))
      .addColumn('state', 'text', (c) => c.notNull())
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('wrapped_private_key', 'text')
      .addColumn('hint', 'text')
      .addColumn('version_suffix', 'text', (c) => c.notNull())
      .addColumn('created_by', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('retired_at', 'text')
      .execute();
    await db.schema.createIndex('project_keys_project').on('project_keys').columns(['project_id', 'state']).execute();

    await db.schema
      .createTable('user_keys')
      .addColumn('user_id', idType, (c) => c.primaryKey().references('users.id').onDelete('cascade'))
      .addColumn('public_key', 'text', (c) => c.notNull())
      .addColumn('wrapped_private_key', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    await withIdColumn(db.schema.createTable('project_key_grants'), dialect)
      .addColumn('project_key_id', idType, (c) => c.notNull().references('project_keys.id').onDelete('cascade'))
      .addColumn('user_id', idType, (c) => c.notNull().references('users.id').onDelete('cascade'))
      .addColumn('sealed_private_key', 'text', (c) => c.notNull())
      .addColumn('granted_by', idType, (c) => c.references('users.id').onDelete('set null'))
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('project_key_grants_key_user').on('project_key_grants').columns(['project_key_id', 'user_id']).unique().execute();
    await db.schema.createIndex('project_key_grants_user').on('project_key_grants').column('user_id').execute();
  },
});
