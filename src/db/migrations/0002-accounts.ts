import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';
import { withIdColumn } from '../columns.js';

/**
 * People and how they prove who they are: users, browser sessions, personal API tokens, password
 * reset tokens, two-factor recovery codes and the sign-in throttle. Every secret is stored only as
 * its SHA-256 (tokens, recovery codes) or a password hash; TOTP secrets are sealed with the server
 * secret. Usernames and emails are unique case-insensitively through their lower-cased `_key` twins.
 */
export const accounts: MigrationFactory = (dialect) => ({
  async up(db: Kysely<any>) {
    const idType = dialect === 'postgres' ? 'bigint' : 'integer';
    await withIdColumn(db.schema.createTable('users'), dialect)
      .addColumn('username', 'text', (c) => c.notNull())
      .addColumn('username_key', 'text', (c) => c.notNull().unique())
      .addColumn('email', 'text')
      .addColumn('email_key', 'text', (c) => c.unique())
      .addColumn('password_hash', 'text', (c) => c.notNull())
      .addColumn('is_admin', 'integer', (c) => c.notNull().defaultTo(0))
      .addColumn('disabled_at', 'text')
      .addColumn('totp_secret', 'text')
      .addColumn('totp_pending_secret', 'text')
      .addColumn('totp_last_step', 'integer')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('updated_at', 'text', (c) => c.notNull())
      .execute();

    const userReference = (table: string) =>
      withIdColumn(db.schema.createTable(table), dialect).addColumn('user_id', idType, (c) =>
        c.notNull().references('users.id').onDelete('cascade'),
      );

    await userReference('sessions')
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .addColumn('last_seen_at', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('address', 'text')
      .addColumn('user_agent', 'text')
      .execute();
    await db.schema.createIndex('sessions_user_id').on('sessions').column('user_id').execute();

    await userReference('api_tokens')
      .addColumn('name', 'text', (c) => c.notNull())
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('scope', 'text', (c) => c.notNull())
      .addColumn('expires_at', 'text')
      .addColumn('last_used_at', 'text')
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('api_tokens_user_id').on('api_tokens').column('user_id').execute();

    await userReference('password_resets')
      .addColumn('token_hash', 'text', (c) => c.notNull().unique())
      .addColumn('expires_at', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('password_resets_user_id').on('password_resets').column('user_id').execute();

    await userReference('recovery_codes')
      .addColumn('code_hash', 'text', (c) => c.notNull())
      .addColumn('created_at', 'text', (c) => c.notNull())
      .execute();
    await db.schema.createIndex('recovery_codes_user_id').on('recovery_codes').column('user_id').execute();

    await db.schema
      .createTable('login_throttle')
      .addColumn('key', 'text', (c) => c.primaryKey())
      .addColumn('failures', 'integer', (c) => c.notNull())
      .addColumn('last_failure_at', 'text', (c) => c.notNull())
      .execute();
  },
});
