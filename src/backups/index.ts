/**
 * Public API of backups: the admin routes, the `backup` job kind (the servers run it; the
 * `backup-verify` kind runs only in `fieldkeep backup verifier`) and command, and what
 * `fieldkeep doctor` reports.
 */
export { backupRoutes } from './routes.js';
export { backupJob, type BackupJobPayload, type BackupJobResult } from './job.js';
export { backupCommand } from './commands.js';
export { backupDoctorCheck } from './doctor.js';
