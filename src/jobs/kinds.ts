import type { JobKind } from './kind.js';
import { backupJob } from '../backups/job.js';
import { exportJob } from '../exports/index.js';

/**
 * Every kind of background job the server runs, in one list (like `domainRoutes`): a domain adds its
 * kind here. A queued job of a kind missing from the list waits until a server that knows it runs.
 */
export const jobKinds: readonly JobKind<any, any>[] = [backupJob, exportJob];
