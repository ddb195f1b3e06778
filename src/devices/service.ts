/**
 * Devices: a named credential that makes one phone a collector in one project, so phones never
 * hold a person's password (and two-factor accounts can still collect). The token is found by its
 * SHA-256; besides that it is kept only sealed under the server secret (which the database does
 * not hold), so whoever may share the project can show the phone's server URL and Collect QR code
 * again while the device is active — each showing is audited. A device can expire and be revoked;
 * its last use is recorded at most once a minute, so a busy phone does not turn every read into a
 * write.
 */
import type { Kysely } from 'kysely';
import type { Actor } from '../access/index.js';
import { generateToken, hashToken, isWellFormedToken, totpQrSvg } from '../accounts/index.js';
import { sealSecret, unsealSecret } from '../accounts/sealed.js';
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
  /** Whether its server URL and QR code can be shown again (active, with its token sealed). */
  settingsAvailable: boolean;
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
    settingsAvailable: row.token_sealed !== null && stateOf(row, now) === 'active',
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

/**
 * Where a device's settings point and how its token is kept: the public URL phones reach, and the
 * server secret that seals the token. Given only a public URL (as the access matrix's set-up
 * does), the token is not kept and its code can be shown only at creation.
 */
export interface DeviceIssuer {
  publicUrl: string;
  secret?: string | undefined;
}

/** Creates a device in a project and returns its token, server URL and Collect QR code. */
export async function createDevice(
  db: Kysely<Tables>,
  issuer: DeviceIssuer | string,
  projectId: number,
  request: DeviceRequest,
  source: DeviceSource,
  now: Date = new Date(),
): Promise<NewDevice> {
  checkRequest(request);
  const { publicUrl, secret } = typeof issuer === 'string' ? { publicUrl: issuer, secret: undefined } : issuer;
  const name = await q.projectName(db, projectId);
  if (name === undefined) throw new AppError('project.not_found');
  const token = generateToken('device');
  const row = {
    project_id: projectId,
    label: request.label.trim(),
    token_hash: hashToken(token),
    token_sealed: secret === undefined ? null : sealSecret(secret, token),
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
  return settingsOf({ ...row, id }, source.actor?.kind === 'user' ? source.actor.username : null, publicUrl, token, name, now);
}

async function settingsOf(row: DeviceRow, createdBy: string | null, publicUrl: string, token: string, projectName: string, now: Date): Promise<NewDevice> {
  const serverUrl = deviceServerUrl(publicUrl, token, Number(row.project_id));
  const payload = collectSettingsPayload(collectSettings(serverUrl, projectName));
  return {
    device: present(row, createdBy, now),
    token,
    serverUrl,
    collectSettings: payload,
    // The settings payload is a few hundred characters, well inside the QR helper's limit.
    qrSvg: await totpQrSvg(payload),
  };
}

/**
 * An active device's server URL and Collect QR code, shown again (a phone reset, a second scan).
 * The token is a credential, so every showing is written to the audit log.
 */
export async function showDeviceSettings(db: Kysely<Tables>, issuer: DeviceIssuer, projectId: number, deviceId: number, source: DeviceSource, now: Date = new Date()): Promise<NewDevice> {
  const found = await q.findDeviceListing(db, projectId, deviceId);
  if (!found) throw new AppError('device.not_found', `Project ${projectId} has no device ${deviceId}.`);
  const state = stateOf(found, now);
  if (state !== 'active') throw new AppError('device.inactive', `The device "${found.label}" is ${state}: its code would not work. Create a new device for the phone.`);
  const token = found.token_sealed === null || issuer.secret === undefined ? null : unsealSecret(issuer.secret, found.token_sealed);
  if (token === null) throw new AppError('device.settings_unavailable');
  const name = await q.projectName(db, projectId);
  if (name === undefined) throw new AppError('project.not_found');
  await recordAudit(db, { ...source, action: 'device.settings_show', projectId, resource: { type: 'device', id: deviceId }, details: { label: found.label } });
  return settingsOf(found, found.created_by_username, issuer.publicUrl, token, name, now);
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
