import { Type } from 'typebox';
import { recordAudit } from '../audit/index.js';
import { auditSource } from '../audit/request-source.js';
import { enqueueJob, ensureSchedule, findSchedule, removeSchedule } from '../jobs/index.js';
import type { App, AppContext } from '../server/context.js';
import type { Logger } from 'pino';
import { backupJob, SCHEDULE_NAME, useLogger } from './job.js';
import { BackupStatusSchema, BackupRequested } from './schemas.js';
import { backupStatus, configuredEncryption, configuredLocation } from './service.js';

/**
 * Instance administrators see how backups stand and can ask for one; nothing here hands out an
 * archive or its contents (they are encrypted to keys the server does not hold anyway). The
 * schedule follows FIELDKEEP_BACKUP_CRON each time the server starts.
 */
export function backupRoutes(app: App, ctx: AppContext): void {
  const db = ctx.database.db;
  useLogger(ctx, app.log as Logger);
  app.addHook('onReady', async () => {
    const cron = ctx.config.backups.cron;
    if (cron === undefined) {
      await removeSchedule(ctx.database, SCHEDULE_NAME);
      return;
    }
    configuredEncryption(ctx.config);
    configuredLocation(ctx.config).close();
    await ensureSchedule(ctx.database, SCHEDULE_NAME, cron, backupJob, { trigger: 'schedule' });
  });

  app.get(
    '/api/v1/admin/backups',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['admin', 'backups'],
        summary: 'How backups stand: schedule and next run, the last success and failure, the verifier\'s latest verification, recent runs, and the archives in the backup location (metadata only).',
        response: { 200: BackupStatusSchema },
      },
    },
    async () => backupStatus(ctx, (await findSchedule(ctx.database, SCHEDULE_NAME))?.nextRunAt ?? null),
  );

  app.post(
    '/api/v1/admin/backups',
    {
      config: { permission: 'admin' },
      schema: {
        tags: ['admin', 'backups'],
        summary: 'Start a backup now, as a background job; its progress is at the job, its outcome in this list.',
        body: Type.Optional(Type.Object({}, { additionalProperties: false })),
        response: { 202: BackupRequested },
      },
    },
    async (request, reply) => {
      configuredEncryption(ctx.config);
      configuredLocation(ctx.config).close();
      const jobId = await db.transaction().execute(async (trx) => {
        const id = await enqueueJob(trx, backupJob, { payload: { trigger: 'api' }, actor: request.actor });
        await recordAudit(trx, { ...auditSource(request), action: 'backup.request', resource: { type: 'job', id } });
        return id;
      });
      return reply.status(202).send({ jobId });
    },
  );
}
