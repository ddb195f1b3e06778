import { Type } from 'typebox';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const NullableInt = Type.Union([Type.Integer(), Type.Null()]);

export const ArchiveInfoSchema = Type.Object({
  file: Type.String(),
  createdAt: Type.String(),
  bytes: Type.Integer(),
  sha256: Type.String(),
  encrypted: Type.Boolean(),
  recipients: Type.Array(Type.String(), { description: 'age public keys the archive is encrypted to' }),
  passphrase: Type.Boolean(),
  instanceId: Nullable(Type.String()),
  fieldkeepVersion: Type.String(),
  sourceDialect: Type.String(),
  rows: Type.Integer(),
  blobs: Type.Integer(),
});

export const BackupStatusSchema = Type.Object({
  directory: Type.String({ description: 'the backup location: a directory or s3://bucket/prefix' }),
  encryption: Type.Object({ recipients: Type.Integer(), passphrase: Type.Boolean() }),
  schedule: Nullable(Type.String({ description: 'FIELDKEEP_BACKUP_CRON' })),
  nextRunAt: Nullable(Type.String()),
  lastSuccess: Type.Union([
    Type.Object({ at: Type.String(), file: Nullable(Type.String()), bytes: NullableInt, verifiedAt: Nullable(Type.String()), verified: Type.Union([Type.Boolean(), Type.Null()]) }),
    Type.Null(),
  ]),
  lastFailure: Type.Union([Type.Object({ at: Type.String(), message: Nullable(Type.String()) }), Type.Null()]),
  lastVerification: Type.Union([
    Type.Object({ file: Type.String(), at: Type.String(), ok: Type.Boolean(), message: Nullable(Type.String()) }, { description: 'the verifier\'s latest verification (each backup run queues the previous backup for it)' }),
    Type.Null(),
  ]),
  pendingVerification: Type.Union([Type.Object({ file: Type.String(), since: Type.String() }, { description: 'a verification waiting for `fieldkeep backup verifier`' }), Type.Null()]),
  recentRuns: Type.Array(
    Type.Object({
      id: Type.Integer(),
      trigger: Type.String(),
      state: Type.String(),
      startedAt: Type.String(),
      finishedAt: Nullable(Type.String()),
      file: Nullable(Type.String()),
      bytes: NullableInt,
      error: Nullable(Type.String()),
      verified: Type.Union([Type.Boolean(), Type.Null()]),
    }),
  ),
  archives: Type.Array(ArchiveInfoSchema),
  archivesError: Nullable(Type.String({ description: 'why the archives could not be listed (the storage failed)' })),
});

export const BackupRequested = Type.Object({ jobId: Type.Integer() });
