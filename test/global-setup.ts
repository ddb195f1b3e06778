import pg from 'pg';
import type { TestProject } from 'vitest/node';
import { postgresAdminUrl } from './support/postgres-url.js';

/**
 * Finds out once whether PostgreSQL is reachable. Every integration suite runs on SQLite and on
 * PostgreSQL; on a developer machine without PostgreSQL the PostgreSQL half is skipped with the
 * reason in its title, but under CI (CI=true) an unreachable PostgreSQL fails the run.
 */
export default async function setup(project: TestProject): Promise<void> {
  const url = postgresAdminUrl(process.env);
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  try {
    await client.connect();
    await client.query('select 1');
    project.provide('postgres', { url });
  } catch (err) {
    const reason = `PostgreSQL at ${new URL(url).host} is unreachable (${(err as Error).message})`;
    if (process.env.CI) throw new Error(`${reason}; CI must run every suite on PostgreSQL too`);
    console.warn(`\n*** ${reason}: the PostgreSQL half of every integration suite is SKIPPED ***\n`);
    project.provide('postgres', { skipReason: reason });
  } finally {
    await client.end().catch(() => {});
  }
}

declare module 'vitest' {
  export interface ProvidedContext {
    postgres: { url: string } | { skipReason: string };
  }
}
