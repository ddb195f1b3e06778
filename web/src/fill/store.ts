/**
 * What the fill page keeps in this browser (IndexedDB, database `fieldkeep-fill`):
 *
 * - `outbox`: finished submissions waiting to be sent, as the OpenRosa parts they will be posted
 *   with (the instance XML and its files; for an encrypted form, the envelope only). An item
 *   the server refused keeps the server's reason until the person retries or discards it.
 * - `drafts`: half-filled instances saved to finish later (never for encrypted forms).
 * - `forms`: the forms opened here, so they can be listed and reopened without a connection.
 *
 * A public link's token is kept with its items, since it is the credential they are sent with.
 */
export interface FormTarget {
  projectId: string;
  formId: string;
  /** The public link's token (fk_pub_…), or null for a signed-in member. */
  key: string | null;
}

export interface StoredPart {
  /** The multipart field name: xml_submission_file, or the file's own name. */
  field: string;
  fileName: string;
  type: string;
  blob: Blob;
}

export interface Refusal {
  code: string;
  message: string;
}

export interface OutboxItem {
  id?: number;
  target: FormTarget;
  title: string;
  instanceId: string;
  parts: StoredPart[];
  bytes: number;
  createdAt: string;
  attempts: number;
  refusal: Refusal | null;
}

export interface Draft {
  id?: number;
  target: FormTarget;
  title: string;
  savedAt: string;
  xml: string;
  attachments: Array<{ name: string; blob: Blob }>;
}

export interface KnownForm {
  /** targetKey(target) */
  id: string;
  target: FormTarget;
  title: string;
  /** The most one submission may weigh (X-OpenRosa-Accept-Content-Length), as last heard. */
  maxBytes: number | null;
  openedAt: string;
}

type StoreName = 'outbox' | 'drafts' | 'forms';
type Row<S extends StoreName> = S extends 'outbox' ? OutboxItem : S extends 'drafts' ? Draft : KnownForm;

const DATABASE = 'fieldkeep-fill';
const VERSION = 1;

export function targetKey(target: FormTarget): string {
  return `${target.projectId}/${target.formId}/${target.key ?? 'member'}`;
}

export function sameTarget(a: FormTarget, b: FormTarget): boolean {
  return targetKey(a) === targetKey(b);
}

let opened: Promise<IDBDatabase> | null = null;

function database(): Promise<IDBDatabase> {
  opened ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(DATABASE, VERSION);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore('outbox', { keyPath: 'id', autoIncrement: true });
      db.createObjectStore('drafts', { keyPath: 'id', autoIncrement: true });
      db.createObjectStore('forms', { keyPath: 'id' });
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error ?? new Error('IndexedDB could not be opened.'));
  });
  return opened;
}

async function run<T>(store: StoreName, mode: IDBTransactionMode, work: (objects: IDBObjectStore) => IDBRequest<T>): Promise<T> {
  const transaction = (await database()).transaction(store, mode);
  const request = work(transaction.objectStore(store));
  // Resolved when the transaction commits, so a write is on disk before the caller goes on.
  return new Promise((resolve, reject) => {
    transaction.oncomplete = () => resolve(request.result);
    transaction.onerror = () => reject(transaction.error ?? request.error ?? new Error('IndexedDB transaction failed.'));
    transaction.onabort = () => reject(transaction.error ?? new Error('IndexedDB transaction aborted (is the disk full?).'));
  });
}

export function listAll<S extends StoreName>(store: S): Promise<Array<Row<S>>> {
  return run(store, 'readonly', (objects) => objects.getAll() as IDBRequest<Array<Row<S>>>);
}

export async function getOne<S extends StoreName>(store: S, id: number | string): Promise<Row<S> | undefined> {
  return (await run(store, 'readonly', (objects) => objects.get(id))) as Row<S> | undefined;
}

/** Stores the row and returns its key (new rows of the outbox and drafts get the next number). */
export async function save<S extends StoreName>(store: S, row: Row<S>): Promise<number | string> {
  return (await run(store, 'readwrite', (objects) => objects.put(row))) as number | string;
}

export async function remove(store: StoreName, id: number | string): Promise<void> {
  await run(store, 'readwrite', (objects) => objects.delete(id));
}
