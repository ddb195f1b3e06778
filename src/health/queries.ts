import type { Executor } from '../audit/index.js';

/**
 * A write that changes nothing: the instance row set to itself. It still takes the write lock and
 * commits (a WAL write and sync), so it fails exactly when a submission's commit would.
 */
export async function touchInstanceRow(trx: Executor): Promise<void> {
  await trx.updateTable('instance').set((eb) => ({ created_at: eb.ref('created_at') })).execute();
}
