/**
 * Public API of submissions: reading an OpenRosa multipart body into the blob store, and recording
 * what it means (new submission, duplicate, more files, edit) in one transaction; review statuses
 * (with KoBoToolbox's validation_status shape), comments, edits through the API and the trash.
 */
export { INCOMPLETE_PART, PART_LIMITS, XML_PART, receiveParts } from './intake.js';
export type { IntakeLimits, ReceivedFile, ReceivedRequest } from './intake.js';
export { storeSubmission } from './service.js';
export type { SubmissionOptions, SubmissionOutcome, SubmissionScope } from './service.js';
export { identifySubmission, isPlainFileName, readSubmissionContent } from './content.js';
export type { SubmissionContent, SubmissionIdentity } from './content.js';
export { koboValidationStatus, koboValidationUid, reviewStatusOfKoboUid } from './review.js';
export type { Comment, KoboValidationStatus, Review } from './review.js';
export { reviewStatuses } from './targets.js';
export type { BulkTarget, ReviewStatus } from './targets.js';
export { notTrashed } from './manage-queries.js';
export type { SubmissionCondition } from './manage-queries.js';
export { purgeTrash } from './trash.js';
export type { PurgeContext, PurgeResult } from './trash.js';
export { submissionsCommand } from './commands.js';
export { submissionManagementRoutes } from './manage-routes.js';
// The data API: typed answers, filters, reads and their routes.
export { typedAnswers, typeText, splitSelected, selectMultiplePaths } from './typed-values.js';
export type { TypedFields, TypedValue, Geopoint } from './typed-values.js';
export { parseFilter, FIELD_NAME } from './data-filter.js';
export type { Filter } from './data-filter.js';
export { filterCondition } from './data-queries.js';
export type { DataView, SubmissionDataRow } from './data-queries.js';
export type { AttachmentRow } from './queries.js';
export {
  MAX_PAGE,
  answersOf,
  attachmentsByVersion,
  countSubmissions,
  geolocationOf,
  getSubmissionById,
  listSubmissions,
  openFormData,
  schemasOf,
  submissionXml,
  typedOf,
  uuidOf,
  validationStatusOf,
} from './data.js';
export type { DataScope, FormData, ListOptions, SubmissionPage } from './data.js';
export { questionsByFile } from './data-presenters.js';
export { attachmentBaseFor, sendFile, submissionDataRoutes } from './data-routes.js';
