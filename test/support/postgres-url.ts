/**
 * The PostgreSQL database tests may create scratch schemas in: FIELDKEEP_TEST_POSTGRES_URL, else
 * DATABASE_URL when it is a PostgreSQL URL (CI sets it to a throwaway database), else the local
 * default of this machine kind.
 */
export function postgresAdminUrl(env: Record<string, string | undefined>): string {
  const explicit = env.FIELDKEEP_TEST_POSTGRES_URL;
  if (explicit) return explicit;
  const databaseUrl = env.DATABASE_URL;
  if (databaseUrl && /^postgres(ql)?:/.test(databaseUrl)) return databaseUrl;
  return 'postgres://postgres@127.0.0.1:5432/test';
}
