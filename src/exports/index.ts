/** Public API of exports: their routes, command and job kind, and the preparation every delivery shares. */
export { exportRoutes } from './routes.js';
export { exportCommand } from './commands.js';
export { exportJob } from './job.js';
export { prepareExport } from './service.js';
export type { ExportVia, PreparedExport } from './service.js';
export type { ExportFormat, ExportOptionsInput } from './options.js';
