/** Both databases report a unique-constraint violation, each in its own words. */
export function isUniqueViolation(err: unknown): boolean {
  const e = err as { code?: string; message?: string };
  return e.code === '23505' || e.code === 'SQLITE_CONSTRAINT_UNIQUE' || e.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

export type DatabaseFault = 'unavailable' | 'full';

/** SQLSTATEs of a database that is down, starting, shutting down, read-only or out of resources. */
const UNAVAILABLE_SQLSTATES = new Set(['57P01', '57P02', '57P03', '57P04', '57P05', '53000', '53200', '53300', '53400', '25006', '58000', '58030']);
/** What node-postgres says, without a code, when the server went away under a connection. */
const PG_CONNECTION_MESSAGES = /^(Connection terminated|timeout exceeded when trying to connect|Client has encountered a connection error|Client was closed and is not queryable)/;
/** Socket errors of the connection to the database server (they carry the failed syscall; a client's own disconnect does not). */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'EAI_AGAIN', 'ENOTFOUND']);

/**
 * A failure of the database itself rather than of the statement: unreachable, shut down, locked by
 * another process, refusing writes, or out of space. The same statement succeeds once the fault
 * clears, so the caller is told to try again (503, or 507 when the disk is full), never a 500.
 */
export function databaseFault(err: unknown): DatabaseFault | undefined {
  const e = err as { code?: unknown; message?: unknown; syscall?: unknown };
  const code = typeof e.code === 'string' ? e.code : '';
  if (code === '53100' || code === 'SQLITE_FULL') return 'full';
  if (/^08[0-9A-Z]{3}$/.test(code) || UNAVAILABLE_SQLSTATES.has(code)) return 'unavailable';
  if (/^SQLITE_(IOERR|READONLY|CANTOPEN|BUSY|LOCKED|PROTOCOL)/.test(code)) return 'unavailable';
  if (NETWORK_CODES.has(code) && typeof e.syscall === 'string') return 'unavailable';
  if (code === '' && typeof e.message === 'string' && PG_CONNECTION_MESSAGES.test(e.message)) return 'unavailable';
  return undefined;
}
