/**
 * Public API of submissions: reading an OpenRosa multipart body into the blob store, and recording
 * what it means (new submission, duplicate, more files, edit) in one transaction.
 */
export { INCOMPLETE_PART, PART_LIMITS, XML_PART, receiveParts } from './intake.js';
export type { IntakeLimits, ReceivedFile, ReceivedRequest } from './intake.js';
export { storeSubmission } from './service.js';
export type { SubmissionOptions, SubmissionOutcome, SubmissionScope } from './service.js';
export { identifySubmission, isPlainFileName, readSubmissionContent } from './content.js';
export type { SubmissionContent, SubmissionIdentity } from './content.js';
