import { Command } from 'commander';
import { openBlobStore } from '../blobs/index.js';
import { withDatabase } from '../cli/support.js';
import type { ConfigSources } from '../config/config.js';
import { purgeTrash } from './trash.js';

/** `fieldkeep submissions …`: maintenance of submission data from the server's shell (cron, timers). */
export function submissionsCommand(sources: () => ConfigSources): Command {
  const submissions = new Command('submissions').description('Maintain submission data.');
  submissions
    .command('purge-trash')
    .description('Remove submissions deleted more than FIELDKEEP_TRASH_RETENTION_DAYS ago, with their files unless another record still uses them.')
    .action(async () =>
      withDatabase(sources, async (database, config) => {
        const result = await purgeTrash({ database, blobs: openBlobStore(config), retentionDays: config.trashRetentionDays, blobDeleteGraceMs: config.blobDeleteGraceSeconds * 1000 });
        console.log(`purged ${result.submissions} submission(s) deleted over ${config.trashRetentionDays} days ago; deleted ${result.blobsDeleted} file(s), kept ${result.blobsKept} still in use`);
      }),
    );
  return submissions;
}
