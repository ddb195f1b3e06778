import type { Migration } from 'kysely';
import type { Dialect } from '../database.js';
import { instance } from './0001-instance.js';
import { accounts } from './0002-accounts.js';
import { audit } from './0003-audit.js';
import { projects } from './0004-projects.js';
import { forms } from './0005-forms.js';
import { devices } from './0006-devices.js';
import { submissions } from './0007-submissions.js';
import { publicLinks } from './0008-public-links.js';
import { submissionData } from './0009-submission-data.js';
import { submissionManagement } from './0010-submission-management.js';
import { jobs } from './0011-jobs.js';
import { exportSettings } from './0012-exports.js';
import { backups } from './0013-backups.js';
import { projectKeys } from './0014-project-keys.js';
import { deviceSettings } from './0015-device-settings.js';

export type MigrationFactory = (dialect: Dialect) => Migration;

/**
 * Every migration, in order. Names sort in the order they run (Kysely sorts by name) and never
 * change once released; one list serves both databases, with dialect branches only inside a
 * migration where the two must differ.
 */
export const migrations: ReadonlyArray<readonly [name: string, factory: MigrationFactory]> = [
  ['0001-instance', instance],
  ['0002-accounts', accounts],
  ['0003-audit', audit],
  ['0004-projects', projects],
  ['0005-forms', forms],
  ['0006-devices', devices],
  ['0007-submissions', submissions],
  ['0008-public-links', publicLinks],
  ['0009-submission-data', submissionData],
  ['0010-submission-management', submissionManagement],
  ['0011-jobs', jobs],
  ['0012-exports', exportSettings],
  ['0013-backups', backups],
  ['0014-project-keys', projectKeys],
  ['0015-device-settings', deviceSettings],
];
