/** The browser module the web UI calls for encrypted projects (bundled with esbuild or Vite). */
export { ApiError, FieldkeepClient } from './api-client.js';
export type { ClientOptions, EncryptionView, KeySetupRequest, ProjectKeyView, SubmissionSummary } from './api-client.js';
export {
  KeyRing,
  WeakPassphraseError,
  checkPassphrase,
  decryptFormSubmissions,
  rotateProjectKey,
  setUpOwnKey,
  setUpProjectEncryption,
  shareWithMember,
  unlockProject,
  useSelfManagedKey,
} from './vault.js';
export type { DecryptedFile, DecryptedRecord, KeySetupOptions } from './vault.js';
export { csvColumns, csvLines } from './csv-export.js';
export type { CsvColumns } from './csv-export.js';
export { exportCsvInWorker } from './export-worker.js';
export type { CsvExportMessage, CsvExportRequest } from './export-worker.js';
export * from '../index.js';
