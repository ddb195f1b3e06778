/** The browser module the web UI calls for encrypted projects (bundled with esbuild or Vite). */
export { ApiError, FieldkeepClient } from './api-client.js';
export type { ClientOptions, EncryptionView, KeySetupRequest, ProjectKeyView, SubmissionSummary } from './api-client.js';
export {
  KeyRing,
  WeakPassphraseError,
  checkPassphrase,
  decryptFormSubmissions,
  decryptStoredAnswers,
  decryptStoredSubmission,
  rotateProjectKey,
  setUpOwnKey,
  setUpProjectEncryption,
  shareWithMember,
  unlockProject,
  useSelfManagedKey,
} from './vault.js';
export type { DecryptedFile, DecryptedRecord, KeySetupOptions } from './vault.js';
export { decryptedRows, exportColumns } from './table.js';
export type { ExportColumns, RowOptions, TableCell } from './table.js';
export { csvLines } from './csv-export.js';
export { XLSX_TYPE, XlsxLimitError, writeXlsx } from './xlsx-export.js';
export { ZipTooLargeError, ZipWriter } from './zip-writer.js';
export type { ZipEntry, ZipSink } from './zip-writer.js';
export { exportCsvInWorker, exportXlsxInWorker } from './export-worker.js';
export type { DecryptedExportFormat, DecryptedExportMessage, DecryptedExportRequest } from './export-worker.js';
export * from '../index.js';
