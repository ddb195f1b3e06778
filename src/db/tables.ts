/**
 * The database's tables as Kysely sees them. Times are ISO-8601 UTC text (`isoNow()`), booleans are
 * 0/1 integers, and JSON is text: the one representation both SQLite and PostgreSQL store and sort
 * identically, so the same queries serve both.
 */
export interface InstanceTable {
  id: string;
  created_at: string;
}

export interface Tables {
  instance: InstanceTable;
}
