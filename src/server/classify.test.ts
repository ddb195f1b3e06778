import type { FastifyError, FastifyRequest } from 'fastify';
import { describe, expect, it } from 'vitest';
import { classify } from './classify.js';
import { retryAfterSeconds } from './errors.js';

/** The request classify logs to; what it logged is kept to check the level. */
function fakeRequest(logged: string[]): FastifyRequest {
  return { log: { error: (_fields: unknown, message: string) => logged.push(message) } } as unknown as FastifyRequest;
}

function errorWith(message: string, fields: Record<string, unknown> = {}): FastifyError {
  return Object.assign(new Error(message), fields) as unknown as FastifyError;
}

const cases: Array<[string, FastifyError, string]> = [
  ['PostgreSQL shutting down (57P01)', errorWith('terminating connection due to administrator command', { code: '57P01' }), 'server.database_unavailable'],
  ['PostgreSQL starting (57P03)', errorWith('the database system is starting up', { code: '57P03' }), 'server.database_unavailable'],
  ['PostgreSQL read-only standby (25006)', errorWith('cannot execute UPDATE in a read-only transaction', { code: '25006' }), 'server.database_unavailable'],
  ['PostgreSQL out of disk (53100)', errorWith('could not extend file', { code: '53100' }), 'server.storage_full'],
  ['node-postgres, connection lost', errorWith('Connection terminated unexpectedly'), 'server.database_unavailable'],
  ['node-postgres, no connection in time', errorWith('timeout exceeded when trying to connect'), 'server.database_unavailable'],
  ['PostgreSQL unreachable', errorWith('connect ECONNREFUSED 127.0.0.1:5432', { code: 'ECONNREFUSED', syscall: 'connect' }), 'server.database_unavailable'],
  ['SQLite write error', errorWith('disk I/O error', { code: 'SQLITE_IOERR_WRITE' }), 'server.database_unavailable'],
  ['SQLite read-only', errorWith('attempt to write a readonly database', { code: 'SQLITE_READONLY' }), 'server.database_unavailable'],
  ['SQLite locked elsewhere', errorWith('database is locked', { code: 'SQLITE_BUSY' }), 'server.database_unavailable'],
  ['SQLite full', errorWith('database or disk is full', { code: 'SQLITE_FULL' }), 'server.storage_full'],
  ['disk full', errorWith('ENOSPC: no space left on device, write', { code: 'ENOSPC', syscall: 'write' }), 'server.storage_full'],
  ['read-only file system', errorWith('EROFS: read-only file system, fdatasync', { code: 'EROFS', syscall: 'fdatasync' }), 'server.storage_unavailable'],
  ['failing disk', errorWith('EIO: i/o error, write', { code: 'EIO', syscall: 'write' }), 'server.storage_unavailable'],
  // Not faults of the server's footing: a bug stays a 500, and a client hanging up is not the database.
  ['a constraint the code should have prevented', errorWith('UNIQUE constraint failed', { code: 'SQLITE_CONSTRAINT_UNIQUE' }), 'server.internal'],
  ['a client that hung up mid-upload', errorWith('aborted', { code: 'ECONNRESET' }), 'server.internal'],
  ['a plain bug', errorWith('undefined is not a function'), 'server.internal'],
];

describe('errors of what the server stands on', () => {
  it.each(cases)('%s is answered as %s', (_what, error, code) => {
    const logged: string[] = [];
    const answer = classify(error, fakeRequest(logged));
    expect(answer.code).toBe(code);
    expect(logged).toHaveLength(1);
  });

  it('asks clients to come back later for temporary faults only', () => {
    expect(classify(cases[0]![1], fakeRequest([])).status).toBe(503);
    expect(classify(cases[3]![1], fakeRequest([])).status).toBe(507);
    expect(retryAfterSeconds('server.database_unavailable')).toBe(30);
    expect(retryAfterSeconds('server.storage_full')).toBe(300);
    expect(retryAfterSeconds('server.internal')).toBeUndefined();
  });
});
