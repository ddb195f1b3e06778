import type { Insertable, Selectable } from 'kysely';
import type { Executor } from '../audit/index.js';
import { prepared } from '../db/prepared.js';
import type { DevicesTable } from '../db/tables.js';

export type DeviceRow = Selectable<DevicesTable>;

/** A device with the username of whoever created it (null for the command line or a deleted account). */
export type DeviceListing = DeviceRow & { created_by_username: string | null };

export async function insertDevice(db: Executor, row: Insertable<DevicesTable>): Promise<number> {
  const { id } = await db.insertInto('devices').values(row).returning('id').executeTakeFirstOrThrow();
  return Number(id);
}

/** A project's devices, each with the username of who made it. */
function deviceListings(db: Executor, projectId: number) {
  return db
    .selectFrom('devices')
    .leftJoin('users', 'users.id', 'devices.created_by')
    .selectAll('devices')
    .select('users.username as created_by_username')
    .where('devices.project_id', '=', projectId);
}

export function listDevices(db: Executor, projectId: number): Promise<DeviceListing[]> {
  return deviceListings(db, projectId).orderBy('devices.id').execute();
}

export function findDeviceListing(db: Executor, projectId: number, deviceId: number): Promise<DeviceListing | undefined> {
  return deviceListings(db, projectId).where('devices.id', '=', deviceId).executeTakeFirst();
}

export function findDevice(db: Executor, projectId: number, deviceId: number): Promise<DeviceRow | undefined> {
  return db.selectFrom('devices').selectAll().where('project_id', '=', projectId).where('id', '=', deviceId).executeTakeFirst();
}

/** Prepared (src/db/prepared.ts): every request of a phone looks its token up. */
const deviceByTokenHash = prepared((db, v: { tokenHash: string }) => db.selectFrom('devices').selectAll().where('token_hash', '=', v.tokenHash));

/** The device a token belongs to, whatever its state: the caller tells revoked and expired apart. */
export function findDeviceByTokenHash(db: Executor, tokenHash: string): Promise<DeviceRow | undefined> {
  return deviceByTokenHash.first(db, { tokenHash });
}

/** Sets `revoked_at` once; revoking again leaves the first time in place. */
export async function markRevoked(db: Executor, projectId: number, deviceId: number, at: string): Promise<boolean> {
  const result = await db
    .updateTable('devices')
    .set({ revoked_at: at })
    .where('project_id', '=', projectId)
    .where('id', '=', deviceId)
    .where('revoked_at', 'is', null)
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

export async function touchDevice(db: Executor, deviceId: number, at: string): Promise<void> {
  await db.updateTable('devices').set({ last_used_at: at }).where('id', '=', deviceId).execute();
}

export async function projectName(db: Executor, projectId: number): Promise<string | undefined> {
  const row = await db.selectFrom('projects').select('name').where('id', '=', projectId).where('deleted_at', 'is', null).executeTakeFirst();
  return row?.name;
}
