import { randomBytes } from 'node:crypto';
import { createAccountsContext } from '../../src/accounts/context.js';
import { insertApiToken } from '../../src/accounts/queries.js';
import { generateToken, hashToken } from '../../src/accounts/tokens.js';
import { createUser } from '../../src/accounts/users.js';
import { ensureSecretKey } from '../../src/config/secret-key.js';
import { isoNow } from '../../src/db/columns.js';
import type { TestServer } from './server.js';

/** Settings that make test users cheap: fast password hashing, and admins without a second factor. */
export const testUserSettings = { FIELDKEEP_PASSWORD_ITERATIONS: '1000', FIELDKEEP_ADMIN_TWO_FACTOR: 'false' };

export interface TestUser {
  id: number;
  username: string;
  /** Headers that sign this person in (a read-write personal API token). */
  headers: Record<string, string>;
}

/**
 * Creates an account through the accounts service and gives it a personal API token, as a person
 * would have after signing in and creating one.
 */
export async function createTestUser(server: TestServer, username: string, options: { admin?: boolean; email?: string; password?: string } = {}): Promise<TestUser> {
  const database = server.server.database;
  const accounts = createAccountsContext(database, ensureSecretKey(server.config), { info: () => {} });
  const password = options.password ?? `${randomBytes(12).toString('base64url')} Tx-9`;
  const user = await createUser(accounts, { username, email: options.email ?? null, password, isAdmin: options.admin ?? false }, { actorLabel: 'cli' });
  const token = generateToken('api');
  await insertApiToken(database.db, { user_id: user.id, name: 'tests', token_hash: hashToken(token), scope: 'write', created_at: isoNow() });
  return { id: user.id, username: user.username, headers: { authorization: `Bearer ${token}` } };
}
