/**
 * Every statement the backups module runs. Table and column names come from the database's own
 * catalogue (never from an archive unchecked: restore only writes to tables and columns the target
 * schema has), and go through `sql.id`/`sql.ref`; values are always parameters.
 */
import { sql, type Generated, type Kysely } from 'kysely';
import type { Dialect } from '../db/database.js';
import type { Tables } from '../db/tables.js';
import type { ColumnType, TableShape } from './manifest.js';

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyDb = Kysely<any>;
export type Row = Record<string, unknown>;

export async function tableNames(db: AnyDb, dialect: Dialect): Promise<string[]> {
  const rows =
    dialect === 'sqlite'
      ? (await sql<{ name: string }>`select name from sqlite_master where type = 'table' and name not like 'sqlite\\_%' escape '\\' order by name`.execute(db)).rows
      : (await sql<{ name: string }>`select table_name as name from information_schema.tables where table_schema = current_schema() and table_type = 'BASE TABLE' order by table_name`.execute(db)).rows;
  return rows.map((r) => r.name);
}

function portableType(declared: string): ColumnType {
  const t = declared.toLowerCase();
  if (t.includes('json')) return 'json';
  if (t.includes('int')) return 'integer';
  if (t.includes('real') || t.includes('floa') || t.includes('doub') || t.includes('numeric')) return 'real';
  if (t === 'blob' || t === 'bytea') return 'bytes';
  return 'text';
}

/** A table's columns (in order), primary key, the tables it references, and its id sequence if any. */
export async function describeTable(db: AnyDb, dialect: Dialect, table: string): Promise<TableShape> {
  if (dialect === 'sqlite') {
    const columns = (await sql<{ name: string; type: string; pk: number }>`select name, type, pk from pragma_table_info(${table}) order by cid`.execute(db)).rows;
    const references = (await sql<{ table: string }>`select distinct "table" from pragma_foreign_key_list(${table})`.execute(db)).rows.map((r) => r.table);
    const created = (await sql<{ sql: string }>`select sql from sqlite_master where type = 'table' and name = ${table}`.execute(db)).rows[0]?.sql ?? '';
    const primaryKey = columns.filter((c) => c.pk > 0).sort((a, b) => a.pk - b.pk).map((c) => c.name);
    const autoIncrement = /autoincrement/i.test(created) && primaryKey.length === 1;
    return {
      name: table,
      columns: columns.map((c) => ({ name: c.name, type: portableType(c.type) })),
      primaryKey,
      references,
      sequenceColumn: autoIncrement ? primaryKey[0]! : null,
    };
  }
  const columns = (
    await sql<{ name: string; type: string; identity: string }>`
      select column_name as name, data_type as type, is_identity as identity from information_schema.columns
      where table_schema = current_schema() and table_name = ${table} order by ordinal_position`.execute(db)
  ).rows;
  const primaryKey = (
    await sql<{ name: string }>`
      select a.attname as name from pg_index i
      join pg_attribute a on a.attrelid = i.indrelid and a.attnum = any(i.indkey)
      where i.indrelid = (quote_ident(current_schema()) || '.' || quote_ident(${table}))::regclass and i.indisprimary
      order by array_position(i.indkey, a.attnum)`.execute(db)
  ).rows.map((r) => r.name);
  const references = (
    await sql<{ table: string }>`
      select distinct c2.relname as table from pg_constraint k
      join pg_class c2 on c2.oid = k.confrelid
      where k.contype = 'f' and k.conrelid = (quote_ident(current_schema()) || '.' || quote_ident(${table}))::regclass`.execute(db)
  ).rows.map((r) => r.table);
  const identity = columns.find((c) => c.identity === 'YES');
  return {
    name: table,
    columns: columns.map((c) => ({ name: c.name, type: portableType(c.type) })),
    primaryKey,
    references,
    sequenceColumn: identity?.name ?? null,
  };
}

export async function countRows(db: AnyDb, table: string): Promise<number> {
  const row = (await sql<{ n: number | string }>`select count(*) as n from ${sql.id(table)}`.execute(db)).rows[0];
  return Number(row?.n ?? 0);
}

/** One page of rows in primary-key order, after the key `after` (keyset paging: each page costs the same). */
export async function rowsAfter(
  db: AnyDb,
  page: { table: string; primaryKey: readonly string[]; columns: readonly string[]; after: readonly unknown[] | null; limit: number },
): Promise<Row[]> {
  const key = sql.join(page.primaryKey.map((c) => sql.ref(c)));
  const where = page.after === null ? sql`` : sql`where (${key}) > (${sql.join(page.after.map((v) => sql`${v}`))})`;
  const columns = sql.join(page.columns.map((c) => sql.ref(c)));
  return (await sql<Row>`select ${columns} from ${sql.id(page.table)} ${where} order by ${key} limit ${page.limit}`.execute(db)).rows;
}

export async function appliedMigrations(db: AnyDb): Promise<string[]> {
  return (await sql<{ name: string }>`select name from kysely_migration order by name`.execute(db)).rows.map((r) => r.name);
}

/** The largest value the table's id sequence has handed out (at least its largest id), or 0. */
export async function sequenceLast(db: AnyDb, dialect: Dialect, table: string, column: string): Promise<number> {
  const max = Number((await sql<{ n: number | null }>`select max(${sql.ref(column)}) as n from ${sql.id(table)}`.execute(db)).rows[0]?.n ?? 0);
  const issued =
    dialect === 'sqlite'
      ? (await sql<{ n: number }>`select seq as n from sqlite_sequence where name = ${table}`.execute(db)).rows[0]?.n
      : (await sql<{ n: number | string | null }>`select pg_sequence_last_value(pg_get_serial_sequence(${table}, ${column})::regclass) as n`.execute(db)).rows[0]?.n;
  return Math.max(max, Number(issued ?? 0));
}

export async function setSequence(db: AnyDb, dialect: Dialect, table: string, column: string, last: number): Promise<void> {
  if (dialect === 'postgres') {
    await sql`select setval(pg_get_serial_sequence(${table}, ${column}), ${Math.max(last, 1)}, ${last > 0})`.execute(db);
    return;
  }
  const updated = await sql`update sqlite_sequence set seq = ${last} where name = ${table}`.execute(db);
  if (Number(updated.numAffectedRows ?? 0) === 0) await sql`insert into sqlite_sequence (name, seq) values (${table}, ${last})`.execute(db);
}

export async function insertRows(db: AnyDb, dialect: Dialect, table: string, columns: readonly string[], rows: readonly unknown[][], overrideIdentity: boolean): Promise<void> {
  if (rows.length === 0) return;
  const override = dialect === 'postgres' && overrideIdentity ? sql`overriding system value` : sql``;
  const values = sql.join(rows.map((row) => sql`(${sql.join(row.map((v) => sql`${v}`))})`));
  await sql`insert into ${sql.id(table)} (${sql.join(columns.map((c) => sql.id(c)))}) ${override} values ${values}`.execute(db);
}

export async function deleteAllRows(db: AnyDb, table: string): Promise<void> {
  await sql`delete from ${sql.id(table)}`.execute(db);
}

export async function dropTable(db: AnyDb, table: string): Promise<void> {
  await sql`drop table ${sql.id(table)}`.execute(db);
}

/** PostgreSQL: holds off other writers to these tables until the transaction ends (readers go on). */
export async function lockTables(db: AnyDb, tables: readonly string[]): Promise<void> {
  if (tables.length > 0) await sql`lock table ${sql.join(tables.map((t) => sql.id(t)))} in exclusive mode`.execute(db);
}

export async function currentSchema(db: AnyDb): Promise<string | undefined> {
  return (await sql<{ schema: string }>`select current_schema() as schema`.execute(db)).rows[0]?.schema;
}

export async function savepoint(db: AnyDb, name: string): Promise<void> {
  await sql`savepoint ${sql.id(name)}`.execute(db);
}

export async function rollbackToSavepoint(db: AnyDb, name: string): Promise<void> {
  await sql`rollback to savepoint ${sql.id(name)}`.execute(db);
}

export async function releaseSavepoint(db: AnyDb, name: string): Promise<void> {
  await sql`release savepoint ${sql.id(name)}`.execute(db);
}

export async function hasRows(db: AnyDb, table: string): Promise<boolean> {
  return (await sql<{ one: number }>`select 1 as one from ${sql.id(table)} limit 1`.execute(db)).rows.length > 0;
}

/** Opens the consistent snapshot a backup reads: everything after it sees the database as of its first read. */
export async function beginSnapshot(db: AnyDb, dialect: Dialect): Promise<void> {
  if (dialect === 'postgres') {
    await sql`begin isolation level repeatable read read only`.execute(db);
  } else {
    await sql`begin`.execute(db);
  }
  // SQLite (WAL) fixes a read transaction's snapshot at its first read, not at BEGIN.
  await sql`select count(*) from ${sql.id(dialect === 'sqlite' ? 'sqlite_master' : 'pg_class')}`.execute(db);
}

export async function endSnapshot(db: AnyDb): Promise<void> {
  await sql`rollback`.execute(db);
}

export async function sqliteIntegrity(db: AnyDb): Promise<string[]> {
  const integrity = (await sql<{ integrity_check: string }>`pragma integrity_check`.execute(db)).rows.map((r) => r.integrity_check).filter((m) => m !== 'ok');
  const foreign = (await sql<{ table: string; rowid: number; parent: string }>`pragma foreign_key_check`.execute(db)).rows.map(
    (r) => `${r.table} row ${r.rowid} refers to a missing ${r.parent} row`,
  );
  return [...integrity, ...foreign];
}

/** The database's own instance id (made by the first migration). */
export async function instanceId(db: AnyDb): Promise<string | undefined> {
  return (await sql<{ id: string }>`select id from instance limit 1`.execute(db)).rows[0]?.id;
}

// --- backup runs (what the admin API and `doctor` show) ---

export interface NewRun {
  trigger: 'schedule' | 'api' | 'cli';
  started_at: string;
}

export async function startRun(db: Kysely<Tables>, run: NewRun): Promise<number> {
  const row = await db
    .insertInto('backup_runs')
    .values({ trigger: run.trigger, state: 'running', started_at: run.started_at })
    .returning('id')
    .executeTakeFirstOrThrow();
  return Number(row.id);
}

export async function finishRun(
  db: Kysely<Tables>,
  id: number,
  outcome: { state: 'succeeded' | 'failed'; finished_at: string; file?: string | null; bytes?: number | null; archive_sha256?: string | null; rows?: number | null; blobs?: number | null; error_message?: string | null },
): Promise<void> {
  await db.updateTable('backup_runs').set(outcome).where('id', '=', id).execute();
}

/** Records a verification on the run that wrote `file`; false when no run of this instance did. */
export async function recordVerification(db: Kysely<Tables>, file: string, verification: { verified_at: string; verify_ok: number; verify_message: string }): Promise<boolean> {
  const updated = await db.updateTable('backup_runs').set(verification).where('file', '=', file).executeTakeFirst();
  return Number(updated.numUpdatedRows) > 0;
}

/** The latest verification recorded on a run. */
export async function lastVerification(db: Kysely<Tables>) {
  return db
    .selectFrom('backup_runs')
    .select(['file', 'verified_at', 'verify_ok', 'verify_message'])
    .where('verified_at', 'is not', null)
    .where('file', 'is not', null)
    .orderBy('verified_at', 'desc')
    .orderBy('id', 'desc')
    .limit(1)
    .executeTakeFirst();
}

/** Jobs of one kind waiting to be claimed (or, with `running`, also under way), newest first (the backups' own kinds only). */
export async function queuedJobs(db: Kysely<Tables>, kind: string, options: { running?: boolean } = {}) {
  return db
    .selectFrom('job')
    .select(['id', 'payload_json', 'created_at'])
    .where('kind', '=', kind)
    .where('state', 'in', options.running ? ['queued', 'running'] : ['queued'])
    .orderBy('id', 'desc')
    .execute();
}

export async function latestRuns(db: Kysely<Tables>, limit: number) {
  return db.selectFrom('backup_runs').selectAll().orderBy('id', 'desc').limit(limit).execute();
}

export async function lastSuccess(db: Kysely<Tables>) {
  return db.selectFrom('backup_runs').selectAll().where('state', '=', 'succeeded').orderBy('id', 'desc').limit(1).executeTakeFirst();
}

// --- the scratch index: a temporary SQLite file that keeps per-blob and per-entry facts on disk,
// so memory stays flat however many blobs an archive holds ---

export interface ScratchTables {
  blob_index: { old_id: string; new_id: string | null; sha256: string | null; size: number | null };
  entry_digest: { seq: Generated<number>; name: string; size: number; sha256: string };
}

export async function createScratchTables(db: Kysely<ScratchTables>): Promise<void> {
  await db.schema.createTable('blob_index').addColumn('old_id', 'text', (c) => c.primaryKey()).addColumn('new_id', 'text').addColumn('sha256', 'text').addColumn('size', 'integer').execute();
  await db.schema.createTable('entry_digest').addColumn('seq', 'integer', (c) => c.primaryKey().autoIncrement()).addColumn('name', 'text', (c) => c.notNull().unique()).addColumn('size', 'integer', (c) => c.notNull()).addColumn('sha256', 'text', (c) => c.notNull()).execute();
}

/** Adds ids not seen before; returns how many were new. */
export async function addBlobIds(db: Kysely<ScratchTables>, ids: readonly string[]): Promise<number> {
  if (ids.length === 0) return 0;
  const added = await db.insertInto('blob_index').values(ids.map((old_id) => ({ old_id }))).onConflict((c) => c.doNothing()).executeTakeFirst();
  return Number(added.numInsertedOrUpdatedRows ?? 0);
}

export async function blobIdsAfter(db: Kysely<ScratchTables>, after: string, limit: number): Promise<string[]> {
  return (await db.selectFrom('blob_index').select('old_id').where('old_id', '>', after).orderBy('old_id').limit(limit).execute()).map((r) => r.old_id);
}

export async function recordBlob(db: Kysely<ScratchTables>, blob: { old_id: string; new_id: string; sha256: string; size: number }): Promise<boolean> {
  const added = await db.insertInto('blob_index').values(blob).onConflict((c) => c.doNothing()).executeTakeFirst();
  return Number(added.numInsertedOrUpdatedRows ?? 0) === 1;
}

export async function newBlobIds(db: Kysely<ScratchTables>, oldIds: readonly string[]): Promise<Map<string, string>> {
  if (oldIds.length === 0) return new Map();
  const rows = await db.selectFrom('blob_index').select(['old_id', 'new_id']).where('old_id', 'in', [...new Set(oldIds)]).execute();
  return new Map(rows.map((r) => [r.old_id, r.new_id ?? r.old_id]));
}

export async function allNewBlobIdsAfter(db: Kysely<ScratchTables>, after: string, limit: number): Promise<Array<{ old_id: string; new_id: string | null }>> {
  return db.selectFrom('blob_index').select(['old_id', 'new_id']).where('old_id', '>', after).orderBy('old_id').limit(limit).execute();
}

export async function recordDigests(db: Kysely<ScratchTables>, digests: ReadonlyArray<{ name: string; size: number; sha256: string }>): Promise<void> {
  if (digests.length > 0) await db.insertInto('entry_digest').values([...digests]).execute();
}

export async function digestsAfter(db: Kysely<ScratchTables>, afterSeq: number, limit: number) {
  return db.selectFrom('entry_digest').selectAll().where('seq', '>', afterSeq).orderBy('seq').limit(limit).execute();
}

export async function digestOf(db: Kysely<ScratchTables>, name: string) {
  return db.selectFrom('entry_digest').select(['size', 'sha256']).where('name', '=', name).executeTakeFirst();
}

export async function countDigests(db: Kysely<ScratchTables>): Promise<number> {
  return Number((await db.selectFrom('entry_digest').select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirstOrThrow()).n);
}

export async function createSchema(db: AnyDb, schema: string): Promise<void> {
  await sql`create schema ${sql.id(schema)}`.execute(db);
}

export async function dropSchema(db: AnyDb, schema: string): Promise<void> {
  await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(db);
}

/** Instance administrators who can be emailed (enabled, with an address). */
export async function adminEmails(db: Kysely<Tables>): Promise<string[]> {
  const rows = await db.selectFrom('users').select('email').where('is_admin', '=', 1).where('disabled_at', 'is', null).where('email', 'is not', null).execute();
  return rows.map((r) => r.email!).filter((e) => e !== '');
}
