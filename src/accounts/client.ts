import { isIPv6 } from 'node:net';
import type { FastifyRequest } from 'fastify';

/** Where a request came from, as audit entries and the throttle record it. */
export interface ClientInfo {
  address: string;
  userAgent: string | null;
  /** Arrived over TLS (directly, or through a trusted proxy that says so). */
  secure: boolean;
}

const MAX_USER_AGENT = 512;

export function clientInfo(request: FastifyRequest): ClientInfo {
  const userAgent = request.headers['user-agent'];
  return {
    address: request.ip,
    userAgent: typeof userAgent === 'string' ? userAgent.slice(0, MAX_USER_AGENT) : null,
    secure: request.protocol === 'https',
  };
}

/** Whether the address is this machine (IPv4 127/8, ::1, or IPv4-mapped loopback). */
export function isLoopback(address: string): boolean {
  const bare = address.replace(/^::ffff:/i, '');
  return bare === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(bare);
}

/**
 * The throttle's unit of "one client": an IPv4 address, or an IPv6 /64 — one subscriber usually
 * holds a whole /64, so counting single IPv6 addresses would give an attacker 2^64 fresh starts.
 */
export function addressThrottleUnit(address: string): string {
  const bare = address.replace(/^::ffff:(?=\d+\.\d+\.\d+\.\d+$)/i, '');
  if (!isIPv6(bare)) return bare;
  const [head = '', tail = ''] = bare.toLowerCase().split('::');
  const left = head ? head.split(':') : [];
  const right = tail ? tail.split(':') : [];
  const groups = bare.includes('::') ? [...left, ...Array<string>(8 - left.length - right.length).fill('0'), ...right] : left;
  return `${groups.slice(0, 4).map((g) => g.replace(/^0+(?=.)/, '')).join(':')}::/64`;
}
