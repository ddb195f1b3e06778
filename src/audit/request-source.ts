import type { FastifyRequest } from 'fastify';
import type { AuditEvent } from './record.js';

/** Who made a request and from where, as every audit entry written for it records them. */
export function auditSource(request: FastifyRequest): Pick<AuditEvent, 'actor' | 'address' | 'userAgent'> {
  const userAgent = request.headers['user-agent'];
  return { actor: request.actor, address: request.ip, ...(userAgent ? { userAgent } : {}) };
}
