import { migrationStatus, ping, type Database } from '../db/database.js';

export type Readiness = { ready: true } | { ready: false; reason: string };

export async function checkReadiness(database: Database): Promise<Readiness> {
  try {
    await ping(database);
  } catch {
    return { ready: false, reason: 'The database does not answer.' };
  }
  const status = await migrationStatus(database);
  if (status.pending.length > 0) {
    return { ready: false, reason: `Migrations are pending: ${status.pending.join(', ')}. Run \`fieldkeep migrate\`.` };
  }
  return { ready: true };
}
