import { AppError, type ErrorCode } from '../server/errors.js';

export type BackupErrorCode = Extract<ErrorCode, `backup.${string}`>;

/** A backup problem with a stable code (src/server/errors.ts) and a message that says what to do. */
export class BackupError extends AppError {
  declare readonly code: BackupErrorCode;

  constructor(code: BackupErrorCode, detail: string) {
    super(code, detail);
    this.name = 'BackupError';
  }
}
