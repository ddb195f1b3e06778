/** "Where is my data?": the configured locations, as safe to show to anyone signed in (no secrets). */
import { blobDirectory } from '../blobs/index.js';
import { describeDatabase, type Config } from '../config/config.js';

export interface Storage {
  database: string;
  attachments: string;
  backups: { directory: string; schedule: string | null; encrypted: boolean };
}

export function storageOf(config: Config): Storage {
  return {
    database: describeDatabase(config.database),
    attachments: blobDirectory(config),
    backups: {
      directory: config.backups.dir,
      schedule: config.backups.cron ?? null,
      encrypted: config.backups.recipients.length > 0 || config.backups.passphrase !== undefined,
    },
  };
}
