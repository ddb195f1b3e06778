/*
 * Queries compiled once and then run with each call's values. Kysely builds an operation tree and
 * compiles it to SQL for every statement; on the submission path (about a dozen statements per
 * submission) that showed in profiles as much as running the statements. A prepared query builds
 * and compiles its shape once per dialect, with placeholders where the values go, and afterwards
 * only puts the call's values in their places.
 *
 * The builder receives the values as placeholders: it may use each one only as a value (compared,
 * inserted, set), never look at it to decide the query's shape. A shape that depends on a value
 * (`is null` against `= ?`, how many rows an insert has) is a prepared query per shape. Every value
 * must be given: a missing one is an error, not a column silently left out.
 */
import type { Compilable, CompiledQuery, Kysely, QueryResult } from 'kysely';
import type { Tables } from './tables.js';

type Executor = Kysely<Tables>;

class Placeholder {
  constructor(readonly name: string) {}
}

/** The compiled shape: SQL, and for each parameter the value's name or a constant of the query. */
interface Shape {
  compiled: CompiledQuery;
  slots: unknown[];
}

export interface PreparedQuery<V, R> {
  /** Every row the statement returns (none for a statement without RETURNING). */
  rows(db: Executor, values: V): Promise<R[]>;
  /** The first row, or undefined. */
  first(db: Executor, values: V): Promise<R | undefined>;
  /** How many rows an UPDATE, INSERT or DELETE changed. */
  affected(db: Executor, values: V): Promise<number>;
}

export function prepared<V extends object, R>(build: (db: Executor, values: V) => Compilable<R>): PreparedQuery<V, R> {
  // One shape per dialect: the adapter object is the dialect's, shared by a database's transactions.
  const shapes = new WeakMap<object, Shape>();
  const placeholders = new Proxy({} as V, { get: (_target, name) => new Placeholder(String(name)) });
  const run = async (db: Executor, values: V): Promise<QueryResult<R>> => {
    const adapter = db.getExecutor().adapter;
    let shape = shapes.get(adapter);
    if (shape === undefined) {
      const compiled = build(db, placeholders).compile();
      shape = { compiled, slots: [...compiled.parameters] };
      shapes.set(adapter, shape);
    }
    const parameters = shape.slots.map((slot) => (slot instanceof Placeholder ? valueOf(values as Record<string, unknown>, slot.name) : slot));
    return db.executeQuery<R>({ ...shape.compiled, parameters });
  };
  return {
    rows: async (db, values) => (await run(db, values)).rows,
    first: async (db, values) => (await run(db, values)).rows[0],
    affected: async (db, values) => Number((await run(db, values)).numAffectedRows ?? 0),
  };
}

function valueOf(values: Record<string, unknown>, name: string): unknown {
  const value = values[name];
  if (value === undefined) throw new TypeError(`prepared query: no value for ${name}`);
  return value;
}

/**
 * The row an INSERT is built from: the placeholder of every column named (the placeholders have
 * no keys of their own to list). Naming every column of `V` is checked when compiling.
 */
export function insertRow<V>(values: V, columns: Record<keyof V & string, true>): V {
  return Object.fromEntries(Object.keys(columns).map((column) => [column, values[column as keyof V]])) as V;
}
