import { sql, type Transaction } from 'kysely';
import { describe, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { useMigratedDatabase } from '../../test/support/migrated-database.js';
import { useTestServer } from '../../test/support/server.js';
import { openDatabase } from '../db/database.js';
import type { Tables } from '../db/tables.js';
import type { Actor } from '../access/actor.js';
import { entryHash, recordAudit, recordDataRead, verifyAuditChain, type ChainReport } from './index.js';

const alice: Actor = { kind: 'user', userId: 7, username: 'alice', isAdmin: false, credential: 'session', scope: 'write' };

class Rollback extends Error {}

describeEachDatabase('the audit log', (kind) => {
  const env = useMigratedDatabase(kind);
  const db = () => env().database.db;

  /** Tampers inside a transaction, verifies what the tampering left, then undoes it. */
  async function verifyAfter(tamper: (trx: Transaction<Tables>) => Promise<void>): Promise<ChainReport> {
    let report: ChainReport | undefined;
    await db()
      .transaction()
      .execute(async (trx) => {
        await tamper(trx);
        report = await verifyAuditChain(trx);
        throw new Rollback();
      })
      .catch((err: unknown) => {
        if (!(err instanceof Rollback)) throw err;
      });
    return report!;
  }

  it('appends entries that chain from the genesis hash and verify as intact', async () => {
    for (let i = 0; i < 5; i++) {
      await recordAudit(db(), {
        actor: alice,
        action: 'project.share',
        resource: { type: 'project', id: 3 },
        projectId: 3,
        details: { role: 'viewer', n: i, nested: { list: [1, 'two', null] } },
        address: '192.0.2.7',
        userAgent: 'vitest',
      });
    }
    const rows = await db().selectFrom('audit_log').selectAll().orderBy('id').execute();
    expect(rows.map((r) => r.id)).toEqual([1, 2, 3, 4, 5]);
    expect(rows[0]).toMatchObject({ prev_hash: '0'.repeat(64), actor_kind: 'user', actor_id: 7, actor_label: 'alice', project_id: 3 });
    expect(rows[1]!.prev_hash).toBe(rows[0]!.hash);
    expect(rows[0]!.at).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(await verifyAuditChain(db())).toEqual({ intact: true, entries: 5, head: { id: 5, hash: rows[4]!.hash } });
  });

  it('records command-line actions as the system actor', async () => {
    const { id } = await recordAudit(db(), { action: 'access.emergency_grant', actorLabel: 'cli' });
    const row = await db().selectFrom('audit_log').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ actor_kind: 'system', actor_id: null, actor_label: 'cli', details: '{}' });
  });

  it('refuses details that carry a secret, and malformed action names', async () => {
    await expect(recordAudit(db(), { action: 'user.login', details: { username: 'a', password: 'hunter2' } })).rejects.toThrow(/secrets/);
    await expect(recordAudit(db(), { action: 'user.login', details: { nested: { token: 'x' } } })).rejects.toThrow(/secrets/);
    await expect(recordAudit(db(), { action: 'Login' })).rejects.toThrow(/dotted/);
  });

  it('commits or rolls back with the caller’s transaction', async () => {
    const before = await verifyAuditChain(db());
    await db()
      .transaction()
      .execute(async (trx) => {
        await recordAudit(trx, { action: 'project.delete' });
        throw new Rollback();
      })
      .catch(() => {});
    expect(await verifyAuditChain(db())).toEqual(before);
  });

  it('groups repeated reads of the same data by the same actor', async () => {
    const read = { actor: alice, action: 'submission.read', resource: { type: 'form', id: 'f1' }, projectId: 3 };
    expect(await recordDataRead(db(), read, 60_000)).not.toBeNull();
    expect(await recordDataRead(db(), read, 60_000)).toBeNull();
    expect(await recordDataRead(db(), { ...read, resource: { type: 'form', id: 'f2' } }, 60_000)).not.toBeNull();
    expect(await recordDataRead(db(), read, 60_000, new Date(Date.now() + 120_000))).not.toBeNull();
  });

  it('stays one unbroken chain under many concurrent appends', async () => {
    const before = await verifyAuditChain(db());
    const handles = kind === 'postgres' ? [env().database, ...[1, 2].map(() => openDatabase({ database: env().storage.target, sqliteSynchronous: 'NORMAL', dbPoolSize: 6 }))] : [env().database];
    try {
      await Promise.all(
        Array.from({ length: 60 }, (_, i) => recordAudit(handles[i % handles.length]!.db, { actor: alice, action: 'submission.create', details: { i } })),
      );
    } finally {
      await Promise.all(handles.slice(1).map((h) => h.close()));
    }
    const report = await verifyAuditChain(db());
    expect(report).toMatchObject({ intact: true, entries: before.entries + 60 });
  });

  describe('verification catches tampering', () => {
    it('an edited entry', async () => {
      const report = await verifyAfter((trx) => trx.updateTable('audit_log').set({ actor_label: 'mallory' }).where('id', '=', 3).execute().then(() => {}));
      expect(report).toMatchObject({ intact: false, entries: 2, problem: { kind: 'changed', id: 3 } });
    });

    it('edited details', async () => {
      const report = await verifyAfter((trx) => trx.updateTable('audit_log').set({ details: '{"role":"owner"}' }).where('id', '=', 2).execute().then(() => {}));
      expect(report).toMatchObject({ intact: false, problem: { kind: 'changed', id: 2 } });
    });

    it('an edited entry whose hash was recomputed to match', async () => {
      const report = await verifyAfter(async (trx) => {
        const row = await trx.selectFrom('audit_log').selectAll().where('id', '=', 3).executeTakeFirstOrThrow();
        const forged = { ...row, action: 'project.read' };
        const hash = entryHash(row.prev_hash, {
          id: row.id, at: row.at, actorKind: row.actor_kind, actorId: row.actor_id, actorLabel: row.actor_label,
          address: row.address, userAgent: row.user_agent, action: forged.action, resourceType: row.resource_type,
          resourceId: row.resource_id, projectId: row.project_id, details: JSON.parse(row.details) as Record<string, unknown>,
        });
        await trx.updateTable('audit_log').set({ action: forged.action, hash }).where('id', '=', 3).execute();
      });
      expect(report).toMatchObject({ intact: false, problem: { kind: 'changed', id: 4 } });
    });

    it('a deleted entry', async () => {
      const report = await verifyAfter((trx) => trx.deleteFrom('audit_log').where('id', '=', 4).execute().then(() => {}));
      expect(report).toMatchObject({ intact: false, entries: 3, problem: { kind: 'removed', id: 4 } });
    });

    it('deleted entries at the end of the log', async () => {
      const head = await verifyAuditChain(db());
      if (!head.intact) throw new Error('the chain should be intact before tampering');
      const report = await verifyAfter((trx) => trx.deleteFrom('audit_log').where('id', '>', head.entries - 2).execute().then(() => {}));
      expect(report).toMatchObject({ intact: false, problem: { kind: 'removed', id: head.entries - 1 } });
    });

    it('an inserted entry', async () => {
      const report = await verifyAfter(async (trx) => {
        const last = await trx.selectFrom('audit_log').selectAll().orderBy('id', 'desc').limit(1).executeTakeFirstOrThrow();
        const fields = { id: last.id + 1, at: last.at, actorKind: 'user', actorId: 1, actorLabel: 'mallory', address: null, userAgent: null,
          action: 'project.share', resourceType: null, resourceId: null, projectId: null, details: {} };
        // Correctly chained: only the head row shows the log never wrote it.
        await trx.insertInto('audit_log').values({ id: fields.id, at: fields.at, actor_kind: 'user', actor_id: 1, actor_label: 'mallory',
          address: null, user_agent: null, action: fields.action, resource_type: null, resource_id: null, project_id: null,
          details: '{}', prev_hash: last.hash, hash: entryHash(last.hash, fields) }).execute();
      });
      expect(report).toMatchObject({ intact: false, problem: { kind: 'inserted' } });
    });

    it('a rewrite of the whole log, when an anchor kept outside is given', async () => {
      const before = await verifyAuditChain(db());
      if (!before.intact) throw new Error('the chain should be intact before tampering');
      const anchor = before.head;
      let report: ChainReport | undefined;
      await db().transaction().execute(async (trx) => {
        await trx.deleteFrom('audit_log').execute();
        await trx.updateTable('audit_head').set({ last_id: 0, last_hash: '0'.repeat(64) }).execute();
        await recordAudit(trx, { action: 'user.login' });
        expect(await verifyAuditChain(trx)).toMatchObject({ intact: true });
        report = await verifyAuditChain(trx, [anchor]);
        throw new Rollback();
      }).catch((err: unknown) => {
        if (!(err instanceof Rollback)) throw err;
      });
      expect(report).toMatchObject({ intact: false, problem: { id: anchor.id } });
      expect(await verifyAuditChain(db(), [anchor])).toMatchObject({ intact: true });
    });
  });

  it('fieldkeep audit verify exits 0 when intact and 1 naming the first tampered entry', async () => {
    const settings = env().storage.env;
    const good = await runFieldkeep(['audit', 'verify'], settings);
    expect(good.stdout).toMatch(/audit log intact: \d+ entries/);
    expect(good.code).toBe(0);
    await sql`update audit_log set action = 'user.logout' where id = 2`.execute(db());
    const bad = await runFieldkeep(['audit', 'verify'], settings);
    expect(bad.code).toBe(1);
    expect(bad.stdout).toContain('changed at entry 2');
    const badAnchor = await runFieldkeep(['audit', 'verify', '--anchor', 'nope'], settings);
    expect(badAnchor.code).not.toBe(0);
    expect(badAnchor.stderr).toContain('ID:HASH');
  });
});

describeEachDatabase('the audit head anchor', (kind) => {
  const env = useTestServer(kind, { FIELDKEEP_AUDIT_ANCHOR_INTERVAL_MS: '100' });

  it('writes the head to the log at start and then every interval, and verify accepts it as an anchor', async () => {
    await recordAudit(env().server.database.db, { action: 'backup.create' });
    await new Promise((resolve) => setTimeout(resolve, 350));
    const heads = env().logs.filter((line) => line.msg === 'audit head').map((line) => line.auditHead as { id: number; hash: string });
    expect(heads.length).toBeGreaterThanOrEqual(3);
    const last = heads[heads.length - 1]!;
    expect(last.id).toBeGreaterThan(0);
    expect(last.hash).toMatch(/^[0-9a-f]{64}$/);
    const run = await runFieldkeep(['audit', 'verify', '--anchor', `${last.id}:${last.hash}`], env().storage.env);
    expect(run.stdout).toContain('audit log intact');
    expect(run.code).toBe(0);
  });
});
