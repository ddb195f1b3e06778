import type { FastifyError, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from './errors.js';
import { databaseFault } from '../db/errors.js';

/** Any error thrown while serving a request, as the catalogued error a client is shown. */
export function classify(error: FastifyError, request: FastifyRequest): AppError {
  if (error instanceof AppError) return error;
  if (error.validation) {
    const errors = error.validation.map((v) => ({
      where: error.validationContext ?? 'body',
      path: v.instancePath || '/',
      message: v.message ?? 'is invalid',
    }));
    return new AppError('request.invalid', error.message, { errors });
  }
  const byFastifyCode: Partial<Record<string, ErrorCode>> = {
    FST_ERR_CTP_BODY_TOO_LARGE: 'request.body_too_large',
    FST_ERR_CTP_INVALID_MEDIA_TYPE: 'request.unsupported_media_type',
  };
  const mapped = error.code ? byFastifyCode[error.code] : undefined;
  if (mapped) return new AppError(mapped);
  if (error.statusCode !== undefined && error.statusCode >= 400 && error.statusCode < 500) {
    return new AppError('request.invalid', error.message);
  }
  const fault = faultOf(error);
  if (fault !== undefined) {
    request.log.error({ err: error, code: fault }, 'request refused: the database or storage is failing');
    return new AppError(fault);
  }
  request.log.error({ err: error }, 'unhandled error');
  return new AppError('server.internal');
}

/** File system errors of a disk that is full, read-only or failing (they carry the failed syscall). */
const STORAGE_FULL = new Set(['ENOSPC', 'EDQUOT']);
const STORAGE_FAILING = new Set(['EROFS', 'EIO', 'EACCES', 'EPERM']);

/**
 * What the server stands on failing, rather than the request: the client is told to try again
 * (503, or 507 for a full disk, as WebDAV defines it) with a stable code, and nothing it was
 * promised is lost, because nothing is acknowledged before it is durable.
 */
function faultOf(error: unknown): ErrorCode | undefined {
  switch (databaseFault(error)) {
    case 'full':
      return 'server.storage_full';
    case 'unavailable':
      return 'server.database_unavailable';
  }
  const { code, syscall } = error as { code?: unknown; syscall?: unknown };
  if (typeof code !== 'string' || typeof syscall !== 'string') return undefined;
  if (STORAGE_FULL.has(code)) return 'server.storage_full';
  if (STORAGE_FAILING.has(code)) return 'server.storage_unavailable';
  return undefined;
}
