import { Type } from 'typebox';
import type { App, AppContext } from '../server/context.js';
import { AppError } from '../server/errors.js';
import { checkDataDirectory, checkReadiness } from './service.js';

export function healthRoutes(app: App, ctx: AppContext): void {
  app.get(
    '/healthz',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Liveness: the process is up and answering.',
        response: { 200: Type.Object({ status: Type.Literal('ok') }) },
      },
    },
    async () => ({ status: 'ok' as const }),
  );

  app.get(
    '/readyz',
    {
      config: { permission: 'public' },
      schema: {
        tags: ['health'],
        summary: 'Readiness: the database answers, its schema is current, and the database and data directory accept writes.',
        response: { 200: Type.Object({ status: Type.Literal('ready'), database: Type.String(), migrations: Type.Literal('current') }) },
      },
    },
    async () => {
      const readiness = await checkReadiness(ctx.database);
      if (!readiness.ready) throw new AppError('server.not_ready', readiness.reason);
      const storage = await checkDataDirectory(ctx.config.dataDir);
      if (!storage.ready) throw new AppError('server.not_ready', storage.reason);
      return { status: 'ready' as const, database: ctx.database.dialect, migrations: 'current' as const };
    },
  );
}
