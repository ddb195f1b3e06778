import { expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { useMigratedDatabase } from '../../test/support/migrated-database.js';
import { insertRow, prepared } from './prepared.js';

describeEachDatabase('prepared queries', (kind) => {
  const migrated = useMigratedDatabase(kind, 2);

  const insertDevice = prepared((db, v: { project_id: number; label: string; token_hash: string; created_at: string }) =>
    db.insertInto('devices').values(insertRow(v, { project_id: true, label: true, token_hash: true, created_at: true })).returning(['id', 'label']),
  );
  const deviceByHash = prepared((db, v: { tokenHash: string }) => db.selectFrom('devices').select(['label', 'revoked_at']).where('token_hash', '=', v.tokenHash).where('revoked_at', 'is', null));
  const revoke = prepared((db, v: { id: number; at: string }) => db.updateTable('devices').set({ revoked_at: v.at }).where('id', '=', v.id).where('revoked_at', 'is', null));

  it('runs one compiled shape with each call’s values, constants of the query kept, inside and outside transactions', async () => {
    const { db } = migrated().database;
    const now = new Date().toISOString();
    const owner = await db
      .insertInto('users')
      .values({ username: 'p', username_key: 'p', email: null, email_key: null, password_hash: 'x', is_admin: 0, created_at: now, updated_at: now })
      .returning('id')
      .executeTakeFirstOrThrow();
    const project = await db.insertInto('projects').values({ name: 'p', description: '', owner_id: Number(owner.id), archived: 0, created_at: now, updated_at: now }).returning('id').executeTakeFirstOrThrow();
    const projectId = Number(project.id);

    const a = await insertDevice.first(db, { project_id: projectId, label: 'a', token_hash: 'ha', created_at: now });
    const b = await db.transaction().execute((trx) => insertDevice.first(trx, { project_id: projectId, label: 'b', token_hash: 'hb', created_at: now }));
    expect([a?.label, b?.label]).toEqual(['a', 'b']);
    expect(await deviceByHash.rows(db, { tokenHash: 'hb' })).toEqual([{ label: 'b', revoked_at: null }]);

    expect(await revoke.affected(db, { id: Number(a!.id), at: now })).toBe(1);
    expect(await revoke.affected(db, { id: Number(a!.id), at: now })).toBe(0);
    expect(await deviceByHash.first(db, { tokenHash: 'ha' })).toBeUndefined();
    await expect(deviceByHash.first(db, {} as { tokenHash: string })).rejects.toThrow(/no value for tokenHash/);
  });
});
