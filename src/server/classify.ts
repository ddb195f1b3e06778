import type { FastifyError, FastifyRequest } from 'fastify';
import { AppError, type ErrorCode } from './errors.js';

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
  request.log.error({ err: error }, 'unhandled error');
  return new AppError('server.internal');
}
