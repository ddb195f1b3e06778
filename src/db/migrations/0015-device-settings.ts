import type { Kysely } from 'kysely';
import type { MigrationFactory } from './index.js';

/**
 * Devices keep their token sealed (AES-256-GCM under a key derived from the server secret, which
 * the database does not hold), so a project manager can show a phone's Collect QR code again at
 * any time. Devices made before this have none: their code can be shown only when they were made.
 */
export const deviceSettings: MigrationFactory = () => ({
  async up(db: Kysely<any>) {
    await db.schema.alterTable('devices').addColumn('token_sealed', 'text').execute();
  },
});
