/**
 * The outbox: every finished submission is stored here first and then sent, so nothing is lost
 * when the connection (or the tab) goes away mid-send. It is sent when the page opens, when the
 * browser comes back online, and every half minute while anything waits. A retry of a
 * submission whose answer never arrived is harmless: the server recognises the instanceID and
 * answers 202. A refusal (form closed, link expired, too large) stays listed with the server's
 * reason until the person retries or discards it.
 */
import { reactive } from 'vue';
import { OpenRosaError, Unreachable, currentCsrfToken, postSubmission } from './openrosa.js';
import { getOne, listAll, remove, save, type OutboxItem } from './store.js';

export const outboxState = reactive({
  waiting: 0,
  refused: 0,
  /** Members' submissions wait for a sign-in (the session ended). */
  needsSignIn: false,
  /** The last attempt could not reach the server. */
  unreachable: false,
});

const RETRY_MS = 30_000;
/** The run that has not started yet: calls while one is under way share it, so nothing added meanwhile waits for the timer. */
let queued: Promise<void> | null = null;
let latest: Promise<void> = Promise.resolve();

export async function refreshOutbox(): Promise<OutboxItem[]> {
  const items = await listAll('outbox');
  outboxState.waiting = items.filter((item) => item.refusal === null).length;
  outboxState.refused = items.length - outboxState.waiting;
  return items;
}

export async function enqueue(item: OutboxItem): Promise<number> {
  const id = Number(await save('outbox', item));
  await refreshOutbox();
  return id;
}

export type ItemState = 'sent' | 'waiting' | 'refused';

export async function itemState(id: number): Promise<{ state: ItemState; item?: OutboxItem }> {
  const item = await getOne('outbox', id);
  if (item === undefined) return { state: 'sent' };
  return { state: item.refusal === null ? 'waiting' : 'refused', item };
}

/** Sends what waits, oldest first; one run at a time per page, and one per browser where Web Locks exist. */
export function flushOutbox(): Promise<void> {
  if (queued !== null) return queued;
  const run = latest.then(async () => {
    queued = null;
    if ('locks' in navigator) await navigator.locks.request('fieldkeep-fill-outbox', sendWaiting);
    else await sendWaiting();
  });
  queued = run;
  latest = run.catch(() => undefined);
  return run;
}

async function sendWaiting(): Promise<void> {
  const items = (await refreshOutbox()).filter((item) => item.refusal === null).sort((a, b) => (a.id ?? 0) - (b.id ?? 0));
  let needsSignIn = false;
  outboxState.unreachable = false;
  for (const item of items) {
    try {
      // Without a session a member's POST would meet an authentication challenge: wait for a sign-in instead.
      if (item.target.key === null && (await currentCsrfToken()) === null) {
        needsSignIn = true;
        continue;
      }
      await postSubmission(item.target, item.parts);
      await remove('outbox', item.id!);
    } catch (error) {
      if (error instanceof Unreachable) {
        outboxState.unreachable = true;
        break;
      }
      if (error instanceof OpenRosaError && (error.status >= 500 || error.status === 429 || error.status === 408)) {
        await save('outbox', { ...item, attempts: item.attempts + 1 });
        break;
      }
      if (error instanceof OpenRosaError && (error.code === 'auth.required' || error.code === 'session.csrf_invalid')) {
        needsSignIn = true;
        continue;
      }
      const refusal = error instanceof OpenRosaError ? { code: error.code, message: error.message } : { code: 'client.error', message: String(error) };
      await save('outbox', { ...item, attempts: item.attempts + 1, refusal });
    }
  }
  outboxState.needsSignIn = needsSignIn;
  await refreshOutbox();
}

export async function retryItem(id: number): Promise<void> {
  const item = await getOne('outbox', id);
  if (item !== undefined) await save('outbox', { ...item, refusal: null });
  await flushOutbox();
}

export async function discardItem(id: number): Promise<void> {
  await remove('outbox', id);
  await refreshOutbox();
}

/** Sends at start, whenever the browser says it is online again, and on a timer while anything waits. */
export function startOutbox(): void {
  window.addEventListener('online', () => void flushOutbox());
  window.setInterval(() => {
    if (outboxState.waiting > 0) void flushOutbox();
  }, RETRY_MS);
  void flushOutbox();
}
