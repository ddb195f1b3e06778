/*
 * Edits through the API. A change of answers becomes what an edit on a phone is: a new instance
 * XML (the current version's, with the answers set, a new instanceID, and deprecatedID naming the
 * version it replaces) stored through `storeSubmission`, the one place versions are recorded. So
 * the history is kept the same way, files the XML still names are carried over, a concurrent
 * edit of the same version loses with `submission.edit_stale`, and the audit entry
 * (`submission.update`) is written in the same transaction as the new version.
 *
 * Public links may never edit; `storeSubmission` refuses them (one check for API and OpenRosa edits).
 * Encrypted submissions cannot be edited: the server never sees their answers. A person whose row
 * filter limits what they see may not edit a submission out of their own view (for example move it
 * to another district), which would hand it to people it was not shared with.
 */
import { randomUUID } from 'node:crypto';
import { buffer } from 'node:stream/consumers';
import { rowPassesFilter } from '../access/index.js';
import { findVersion } from '../forms/queries.js';
import { schemaOf } from '../forms/service.js';
import { AppError } from '../server/errors.js';
import { DEFAULT_XML_LIMITS } from '../xform/index.js';
import { identifySubmission } from './content.js';
import { checkChanges, editInstance } from './instance-edit.js';
import { storeSubmission, type SubmissionScope } from './service.js';
import { formTarget, visibleSubmission } from './targets.js';

export interface EditResult {
  /** The submission's id: its first version's instanceID. */
  instanceId: string;
  /** The new current version's instanceID. */
  versionInstanceId: string;
  changed: string[];
}

export async function editSubmission(scope: SubmissionScope, xmlFormId: string, instanceId: string, changes: Readonly<Record<string, unknown>>): Promise<EditResult> {
  const target = await formTarget(scope, xmlFormId);
  const db = scope.ctx.database.db;
  const submission = await visibleSubmission(db, target, instanceId);
  if (submission.encrypted === 1) {
    throw new AppError('submission.encrypted_not_editable', `Submission ${JSON.stringify(instanceId)} is encrypted: the server cannot read or change its answers. Edit it on a device that holds the key and send it again.`);
  }
  const version = submission.form_version_id === null ? undefined : await findVersion(db, target.form, submission.form_version_id);
  if (!version || submission.xml_blob === null || submission.version_instance_id === null) throw new Error(`submission ${submission.id} has no current version`);
  const answers = checkChanges(schemaOf(version), changes);
  checkStaysInView(target.view.rowFilter, target.view.userId, submission, answers);

  const maxXmlBytes = Math.min(DEFAULT_XML_LIMITS.maxBytes, scope.ctx.config.submissionMaxBytes);
  const current = await buffer(await scope.ctx.blobs.get(submission.xml_blob));
  const xml = editInstance(current, answers, { newInstanceId: `uuid:${randomUUID()}`, replacedInstanceId: submission.version_instance_id }, maxXmlBytes);
  const xmlBlob = await scope.ctx.blobs.put(xml);
  const received = { xml, xmlBlob, identity: identifySubmission(xml, maxXmlBytes), files: [], incomplete: false };
  const changed = [...answers.keys()];
  const outcome = await storeSubmission(scope, received, { deviceId: null, auditDetails: { via: 'api', changed } });
  return { instanceId: submission.instance_id, versionInstanceId: outcome.instanceId, changed };
}

function checkStaysInView(
  filter: Parameters<typeof rowPassesFilter>[0],
  userId: number | null,
  submission: { fields_json: string | null; submitted_by_user_id: number | null },
  answers: ReadonlyMap<string, string>,
): void {
  if (filter === null) return;
  const fields: Record<string, unknown> = JSON.parse(submission.fields_json ?? '{}') as Record<string, unknown>;
  for (const [path, text] of answers) {
    if (text === '') delete fields[path];
    else fields[path] = text;
  }
  if (!rowPassesFilter(filter, userId, { submittedBy: submission.submitted_by_user_id, fields })) {
    throw new AppError('submission.edit_leaves_view', 'This change would move the submission outside the rows you are allowed to see; ask a project manager to make it.');
  }
}
