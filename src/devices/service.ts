/**
 * Devices: a named credential that makes one phone a collector in one project, so phones never
 * hold a person's password (and two-factor accounts can still collect). The token is shown once,
 * at creation, inside the server URL and the Collect settings QR code; only its SHA-256 is kept.
 * A device can expire and be revoked; its last use is recorded at most once a minute, so a busy
 * phone does not turn every read into a write.
 */
import type { Kysely } from 'kysely';
import type { Actor } from '../access/index.js';
import { generateToken, hashToken, isWellFormedToken, totpQrSvg } from '../accounts/index.js';
import { recordAudit, type AuditEvent, type Executor } from '../audit/index.js';
import type { Tables } from '../db/tables.js';
import { AppError } from '../server/errors.js';
import { collectSettings, collectSettingsPayload, deviceServerUrl } from './collect-settings.js';
import * as q from './queries.js';
import type { DeviceListing, DeviceRow } from './queries.js';

export type DeviceActor = Extract<Actor, { kind: 'device' }>;
export type DeviceSource = Pick<AuditEvent, 'actor' | 'actorLabel' | 'address' | 'userAgent'>;
export type DeviceState = 'active' | 'expired' | 'revoked';

export const MAX_DEVICE_LABEL = 100;
export const MAX_EXPIRY_DAYS = 3650;
const TOUCH_INTERVAL_MS = 60_000;
const DAY_MS = 86_400_000;

export interface DeviceView {
  id: number;
  label: string;
  state: DeviceState;
  createdAt: string;
  /** Who created it; null when made from the command line or the account is gone. */
  createdBy: string | null;
  expiresAt: string | null;
  revokedAt: string | null;
  lastUsedAt: string | null;
}

export interface NewDevice {
  device: DeviceView;
  /** The secret: shown this once, never stored. */
  token: string;
  /** What to type into Collect's "server URL" setting. */
  serverUrl: string;
  /** The text of the Collect settings QR code (base64 of zlib-compressed JSON). */
  collectSettings: string;
  /** That QR code as an SVG image. */
  qrSvg: string;
}

export interface DeviceRequest {
  label: string;
  expiresInDays?: number | undefined;
}

function stateOf(row: DeviceRow, now: Date): DeviceState {
  if (row.revoked_at !== null) return 'revoked';
  if (row.expires_at !== null && row.expires_at <= now.toISOString()) return 'expired';
  return 'active';
}

function present(row: DeviceRow, createdBy: string | null, now: Date): DeviceView {
  return {
    id: Number(row.id),
    label: row.label,
    state: stateOf(row, now),
    createdAt: row.created_at,
    createdBy,
    expiresAt: row.expires_at,
    revokedAt: row.revoked_at,
    lastUsedAt: row.last_used_at,
  };
}

function checkRequest(request: DeviceRequest): void {
  const label = request.label.trim();
  if (label.length === 0 || label.length > MAX_DEVICE_LABEL) {
    throw new AppError('request.invalid', `A device's name must be 1 to ${MAX_DEVICE_LABEL} characters.`);
  }
  const days = request.expiresInDays;
  if (days !== undefined && (!Number.isInteger(days) || days < 1 || days > MAX_EXPIRY_DAYS)) {
    throw new AppError('request.invalid', `A device may expire after 1 to ${MAX_EXPIRY_DAYS} whole days, or never.`);
  }
}

/** Creates a device in a project and returns its token, server URL and Collect QR code, once. */
export async function createDevice(
  db: Kysely<Tables>,
  publicUrl: string,
  projectId: number,
  request: DeviceRequest,
  source: DeviceSource,
  now: Date = new Date(),
): Promise<NewDevice> {
  checkRequest(request);
  const name = await q.projectName(db, projectId);
  if (name === undefined) throw new AppError('project.not_found');
  const token = generateToken('device');
  const row = {
    project_id: projectId,
    label: request.label.trim(),
    token_hash: hashToken(token),
    created_by: source.actor?.kind === 'user' ? source.actor.userId : null,
    created_at: now.toISOString(),
    expires_at: request.expiresInDays === undefined ? null : new Date(now.getTime() + request.expiresInDays * DAY_MS).toISOString(),
    revoked_at: null,
    last_used_at: null,
  };
  const id = await db.transaction().execute(async (trx) => {
    const inserted = await q.insertDevice(trx, row);
    await recordAudit(trx, { ...source, action: 'device.create', projectId, resource: { type: 'device', id: inserted }, details: { label: row.label, expiresAt: row.expires_at } });
    return inserted;
  });
  const serverUrl = deviceServerUrl(publicUrl, token, projectId);
  const payload = collectSettingsPayload(collectSettings(serverUrl, name));
  return {
    device: present({ ...row, id }, source.actor?.kind === 'user' ? source.actor.username : null, now),
    token,
    serverUrl,
    collectSettings: payload,
    // The settings payload is a few hundred characters, well inside the QR helper's limit.
    qrSvg: await totpQrSvg(payload),
  };
}

export async function listDevices(db: Executor, projectId: number, now: Date = new Date()): Promise<DeviceView[]> {
  return (await q.listDevices(db, projectId)).map((row: DeviceListing) => present(row, row.created_by_username, now));
}

/** Revokes a device at once; revoking one already revoked changes nothing. */
export async function revokeDevice(db: Kysely<Tables>, projectId: number, deviceId: number, source: DeviceSource, now: Date = new Date()): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const found = await q.findDevice(trx, projectId, deviceId);
    if (!found) throw new AppError('device.not_found', `Project ${projectId} has no device ${deviceId}.`);
    if (await q.markRevoked(trx, projectId, deviceId, now.toISOString())) {
      await recordAudit(trx, { ...source, action: 'device.revoke', projectId, resource: { type: 'device', id: deviceId }, details: { label: found.label } });
    }
  });
}

export type DeviceTokenCheck = { ok: true; actor: DeviceActor } | { ok: false; reason: 'malformed' | 'unknown' | 'revoked' | 'expired' };

/**
 * Who a device token is: its device as an actor, or why it is refused. A successful check
 * records the use, at most once a minute.
 */
export async function checkDeviceToken(db: Executor, token: string, now: Date = new Date()): Promise<DeviceTokenCheck> {
  if (!isWellFormedToken('device', token)) return { ok: false, reason: 'malformed' };
  const device = await q.findDeviceByTokenHash(db, hashToken(token));
  if (!device) return { ok: false, reason: 'unknown' };
  const state = stateOf(device, now);
  if (state !== 'active') return { ok: false, reason: state };
  const lastUsed = device.last_used_at;
  if (lastUsed === null || now.getTime() - Date.parse(lastUsed) >= TOUCH_INTERVAL_MS) await q.touchDevice(db, Number(device.id), now.toISOString());
  return { ok: true, actor: { kind: 'device', deviceId: Number(device.id), projectId: Number(device.project_id), label: device.label } };
}
