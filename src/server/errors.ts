/**
 * The one catalogue of error codes. Every error a client sees is `application/problem+json`
 * (RFC 9457) carrying one of these codes; codes are stable API, titles are for people. Domain
 * modules add their codes here so that clients, docs and tests read one list.
 */
export const errorCatalogue = {
  'request.malformed_json': { status: 400, title: 'The request body is not valid JSON.' },
  'request.forbidden_key': { status: 400, title: 'The request body uses a reserved key such as __proto__ or constructor.' },
  'request.invalid': { status: 400, title: 'The request does not match what this endpoint accepts.' },
  'request.body_too_large': { status: 413, title: 'The request body is larger than this server accepts.' },
  'request.unsupported_media_type': { status: 415, title: 'This endpoint does not accept that content type.' },
  'auth.required': { status: 401, title: 'Sign in to do this.' },
  'auth.token_read_only': { status: 403, title: 'This API token is read-only.' },
  'auth.invalid_credentials': { status: 401, title: 'The username or password is wrong.' },
  'auth.throttled': { status: 429, title: 'Too many failed sign-in attempts; wait before trying again.' },
  'auth.locked': { status: 429, title: 'Too many failed sign-in attempts; sign-in is locked for a while.' },
  'auth.totp_required': { status: 401, title: 'Enter the code from your authenticator app (or a recovery code).' },
  'auth.totp_invalid': { status: 401, title: 'The two-factor code is wrong or has already been used.' },
  'auth.account_disabled': { status: 403, title: 'This account is disabled.' },
  'auth.invalid_token': { status: 401, title: 'The token is malformed, expired or revoked, or its user is disabled.' },
  'auth.unsupported_scheme': { status: 401, title: 'Use Authorization: Bearer <token>, Token <token>, or Basic over HTTPS.' },
  'auth.basic_insecure': { status: 401, title: 'HTTP Basic authentication is accepted only over HTTPS.' },
  'auth.basic_two_factor': { status: 401, title: 'This account uses two-factor authentication, so its password alone is not accepted; use a token.' },
  'auth.two_factor_enrolment_required': { status: 403, title: 'Instance administrators must turn on two-factor authentication first.' },
  'auth.reauthentication_failed': { status: 403, title: 'Confirm your current password (and two-factor code) to do this.' },
  'device.token_malformed': { status: 401, title: 'The key in this address is not a Fieldkeep device token or public link; scan the project\'s QR code again or copy the whole server URL.' },
  'device.token_refused': { status: 403, title: 'This device token is unknown, revoked or expired; ask a project manager for a new one.' },
  'device.wrong_project': { status: 403, title: 'This device token belongs to a different project.' },
  'device.not_found': { status: 404, title: 'This project has no device with that id.' },
  'device.inactive': { status: 409, title: 'This device is revoked or expired, so its code would not work; create a new device for the phone.' },
  'device.settings_unavailable': { status: 409, title: "This device's token was not kept (it was made before codes could be shown again, or the server secret has changed since); create a new device for the phone." },
  'public_link.refused': { status: 403, title: 'This public link is unknown, revoked, expired or already used; ask whoever shared it for a new one.' },
  'public_link.wrong_project': { status: 403, title: 'This public link belongs to a different project.' },
  'public_link.not_found': { status: 404, title: 'This form has no public link with that id.' },
  'session.csrf_invalid': { status: 403, title: 'The CSRF token is missing or wrong.' },
  'session.insecure_transport': { status: 403, title: 'Browser sign-in on this server needs HTTPS.' },
  'session.not_found': { status: 404, title: 'You have no session with that id.' },
  'password.too_short': { status: 400, title: 'The password is too short.' },
  'password.too_long': { status: 400, title: 'The password is too long.' },
  'password.too_weak': { status: 400, title: 'The password is too easy to guess.' },
  'password.contains_identity': { status: 400, title: 'The password resembles the username or email address.' },
  'password.reset_invalid': { status: 400, title: 'The password reset link is invalid, expired or already used.' },
  'user.username_taken': { status: 409, title: 'That username is already in use.' },
  'user.email_taken': { status: 409, title: 'That email address is already in use.' },
  'user.owns_projects': { status: 409, title: 'This account owns projects; transfer them before deleting it.' },
  'user.not_found': { status: 404, title: 'There is no account with that id.' },
  'user.disabled': { status: 409, title: 'This account is disabled; enable it first.' },
  'user.self_change': { status: 409, title: 'You cannot disable your own account or remove your own administrator role; ask another administrator.' },
  'user.two_factor_already_enabled': { status: 409, title: 'Two-factor authentication is already on.' },
  'user.two_factor_not_enrolling': { status: 409, title: 'Start two-factor enrolment before confirming it.' },
  'user.two_factor_not_enabled': { status: 409, title: 'Two-factor authentication is not on.' },
  'token.not_found': { status: 404, title: 'You have no API token with that id.' },
  'token.session_required': { status: 403, title: 'API tokens can be created only from a signed-in browser session.' },
  'access.denied': { status: 403, title: 'You do not have permission to do this.' },
  'access.admin_without_grant': { status: 403, title: 'Instance administrators cannot see a project without a role given by its owner; the attempt is recorded in the audit log.' },
  'access.unknown_role': { status: 400, title: 'There is no such role; use owner, manager, editor, viewer, reviewer or collector.' },
  'access.emergency_invalid': { status: 400, title: 'Emergency access needs an existing project and account, a reason and 1 to 168 hours.' },
  'form.not_found': { status: 404, title: 'There is no such form in this project.' },
  'form.already_exists': { status: 409, title: 'This project already has a form with that id.' },
  'form.id_mismatch': { status: 409, title: 'The uploaded definition is for a different form.' },
  'form.version_exists': { status: 409, title: 'That version of the form is already published.' },
  'form.incompatible_change': { status: 409, title: 'The new version changes fields in ways existing data would not fit.' },
  'form.no_draft': { status: 409, title: 'The form has no draft.' },
  'form.not_published': { status: 404, title: 'The form has no published version.' },
  'form.unrecognised_file': { status: 400, title: 'The upload is neither an XLSForm nor an XForm.' },
  'form.invalid_xlsform': { status: 400, title: 'The XLSForm has errors.' },
  'form.invalid_xform': { status: 400, title: 'The XForm cannot be read.' },
  'media.not_found': { status: 404, title: 'There is no such media file for this form.' },
  'media.bad_name': { status: 400, title: 'A media file name must be a plain file name.' },
  'submission.not_multipart': { status: 400, title: 'Send the submission as multipart/form-data with the XML in a part named xml_submission_file.' },
  'submission.xml_missing': { status: 400, title: 'The request has no xml_submission_file part.' },
  'submission.xml_repeated': { status: 400, title: 'The request has more than one xml_submission_file part.' },
  'submission.invalid_xml': { status: 400, title: 'The submission XML cannot be read.' },
  'submission.doctype_forbidden': { status: 400, title: 'The submission XML has a DOCTYPE, which is not accepted.' },
  'submission.invalid_instance_id': { status: 400, title: 'The submission has no usable meta/instanceID.' },
  'submission.invalid_envelope': { status: 400, title: 'The encrypted submission envelope is invalid.' },
  'submission.bad_attachment_name': { status: 400, title: 'An attachment name must be a plain file name.' },
  'submission.malformed_multipart': { status: 400, title: 'The multipart body is malformed or was cut short.' },
  'submission.too_large': { status: 413, title: 'The submission is larger than this server accepts in one request.' },
  'submission.form_closed': { status: 409, title: 'This form is closed and no longer accepts submissions.' },
  'submission.form_version_not_found': { status: 404, title: 'The submission is for a version of the form that is not published.' },
  'submission.plaintext_for_encrypted_form': { status: 409, title: 'This form is encrypted, but the submission is not.' },
  'submission.conflict': { status: 409, title: 'A different submission with the same instanceID was already received.' },
  'submission.attachment_conflict': { status: 409, title: 'An attachment with this name and different content was already received.' },
  'submission.deprecated_not_found': { status: 404, title: 'The submission edits (deprecatedID) a submission this form does not have.' },
  'submission.edit_stale': { status: 409, title: 'The submission edits (deprecatedID) a version that has since been replaced.' },
  'submission.trashed': { status: 409, title: 'A submission with this instanceID is in the trash; restore it instead of sending it again.' },
  'submission.not_trashed': { status: 409, title: 'The submission is not in the trash.' },
  'submission.bulk_target_invalid': { status: 400, title: 'Name the submissions either by instanceIds or by a where filter.' },
  'submission.bulk_unconfirmed': { status: 400, title: 'Acting on the submissions a filter matches needs "confirm": true.' },
  'submission.bulk_too_large': { status: 400, title: 'The filter matches more submissions than one request may change.' },
  'submission.filter_invalid': { status: 400, title: 'The filter names a field or value the form does not have.' },
  'submission.comment_invalid': { status: 400, title: 'The comment is empty or too long.' },
  'submission.encrypted_not_editable': { status: 409, title: 'Encrypted submissions cannot be edited on the server.' },
  'submission.edit_forbidden_public_link': { status: 403, title: 'Submissions cannot be edited through a public link.' },
  'submission.edit_unknown_field': { status: 400, title: 'The edit names a field the form does not have.' },
  'submission.edit_invalid_value': { status: 400, title: 'The edit gives a field a value of the wrong type.' },
  'submission.edit_field_not_editable': { status: 400, title: 'The edit names a field that cannot be changed through the API.' },
  'submission.edit_leaves_view': { status: 403, title: 'The edit would move the submission outside the rows you may see.' },
  // The submission data API (src/submissions/data*.ts, src/kobo).
  'submission.not_found': { status: 404, title: 'This form has no such submission, or it is not among those you may see.' },
  'submission.attachment_not_found': { status: 404, title: 'This submission has no such attachment, or it has not been received yet.' },
  'submission.query_invalid': { status: 400, title: 'The query is not valid; see the detail for what to change.' },
  'submission.query_unsupported': { status: 400, title: 'The query uses something this server does not support; see the detail.' },
  'submission.cursor_invalid': { status: 400, title: 'The cursor is not one this list gave out, or belongs to another sort; start again from the first page.' },
  'submission.range_not_satisfiable': { status: 416, title: 'The requested byte range is outside the file.' },
  'asset.not_found': { status: 404, title: 'There is no such asset, or you may not see it.' },
  'project.not_found': { status: 404, title: 'There is no such project, or you have no role in it.' },
  'project.user_not_found': { status: 404, title: 'There is no active account with that username or id.' },
  'project.member_not_found': { status: 404, title: 'That person has no role in this project.' },
  'project.already_member': { status: 409, title: 'That person already has a role in this project; change it instead.' },
  'project.owner_role_fixed': { status: 409, title: "The owner's role cannot be given, changed or removed through sharing; transfer ownership instead." },
  'project.transfer_not_found': { status: 404, title: 'There is no ownership transfer waiting for you in this project.' },
  'project.transfer_to_owner': { status: 409, title: 'That person already owns this project.' },
  // Exports (src/exports).
  'export.options_invalid': { status: 400, title: 'The export options are not valid; see the detail for what to change.' },
  'export.unknown_field': { status: 400, title: 'The export names a field the form does not have.' },
  'export.unknown_language': { status: 400, title: 'The form has no translation in that language.' },
  'export.no_geo_field': { status: 400, title: 'GeoJSON needs a geopoint, geotrace or geoshape question outside repeats; name one with geoField.' },
  'export.setting_not_found': { status: 404, title: 'This form has no saved export setting with that id.' },
  'export.job_not_found': { status: 404, title: 'This project has no export job with that id.' },
  'export.not_ready': { status: 409, title: 'The export job has not finished, failed, or its file has expired.' },
  'export.passphrase_in_url': { status: 400, title: 'A passphrase never goes in a URL (addresses end up in logs, browser history and proxies); send it in the JSON body of a POST to the export address.' },
  'export.decrypt_direct_only': { status: 400, title: 'Export jobs cannot decrypt: the passphrase would have to be stored until the job runs, and it never is. Decrypted exports are direct downloads (POST …/export.{format} with the passphrase).' },
  'route.not_found': { status: 404, title: 'There is nothing at this address.' },
  'route.method_not_allowed': { status: 405, title: 'This address does not accept that method.' },
  'server.not_ready': { status: 503, title: 'The server is not ready to serve requests.' },
  // Faults of what the server stands on (src/server/classify.ts): temporary, so clients retry.
  'server.database_unavailable': { status: 503, title: 'The database cannot be reached, is refusing writes or is too busy at the moment, so this request was not completed; try again in a minute.' },
  'server.storage_unavailable': { status: 503, title: "The server's storage is refusing writes (read-only or failing disk), so this request was not completed; try again later." },
  'server.storage_full': { status: 507, title: "The server's disk is full, so this request was not completed; try again once an administrator has freed space." },
  'server.internal': { status: 500, title: 'Something went wrong on the server; it has been logged.' },
  'job.not_found': { status: 404, title: 'There is no such job, or you may not see it.' },
  'job.not_cancellable': { status: 409, title: 'The job has already finished, so it cannot be cancelled.' },
  'job.cron_invalid': { status: 400, title: 'The schedule is not a valid 5-field cron expression (minute hour day-of-month month day-of-week).' },
  'job.failed': { status: 500, title: 'The job failed; the server log has the details.' },
  'job.abandoned': { status: 500, title: 'The server running the job stopped responding, and the job has no attempts left.' },
  'backup.not_an_archive': { status: 400, title: 'This file is not a Fieldkeep backup (or it is encrypted and no key was given).' },
  'backup.truncated': { status: 422, title: 'The backup archive ends early: it was cut off while being written or copied.' },
  'backup.corrupt': { status: 422, title: 'The backup archive is damaged or was altered: a checksum does not match.' },
  'backup.wrong_key': { status: 422, title: 'None of the given identities or passphrases can decrypt this backup.' },
  'backup.key_required': { status: 400, title: 'This backup is encrypted: give the identity file or passphrase it was encrypted to.' },
  'backup.blob_missing': { status: 422, title: 'A file (attachment, form or submission XML) the data refers to is missing.' },
  'backup.count_mismatch': { status: 422, title: 'The restored rows do not match the counts the backup recorded.' },
  'backup.integrity_failed': { status: 422, title: 'The restored database failed an integrity check.' },
  'backup.schema_newer': { status: 422, title: 'The backup was made by a newer Fieldkeep with migrations this version does not have; upgrade first.' },
  'backup.target_not_empty': { status: 409, title: 'The target already holds data; restore only into an empty instance (or pass --force to replace it).' },
  'backup.encryption_required': { status: 400, title: 'Give at least one age recipient or a passphrase (or explicitly ask for an unencrypted backup).' },
  'backup.bad_recipient': { status: 400, title: 'An age recipient is not a valid public key (age1…).' },
  'backup.bad_identity': { status: 400, title: 'The identity file holds no valid age secret key (AGE-SECRET-KEY-1…).' },
  'backup.no_schedule': { status: 409, title: 'Backups are not configured on this server (set FIELDKEEP_BACKUP_RECIPIENTS or FIELDKEEP_BACKUP_PASSPHRASE).' },
  'backup.bad_location': { status: 400, title: 'The backup location is neither a directory nor s3://bucket/prefix.' },
  'backup.storage_failed': { status: 502, title: 'The storage holding the backups (S3-compatible service) refused or failed a request.' },
  // End-to-end encrypted projects (src/project-keys, src/crypto).
  'key.already_enabled': { status: 409, title: 'This project is already encrypted; rotate its key instead.' },
  'key.not_enabled': { status: 409, title: 'This project is not encrypted.' },
  'key.bad_public_key': { status: 400, title: 'The public key could not be read; give an RSA public key as PEM or one-line base64 (SubjectPublicKeyInfo).' },
  'key.weak_public_key': { status: 400, title: 'The RSA key is shorter than 2048 bits.' },
  'key.bad_wrapped_key': { status: 400, title: 'The wrapped private key is malformed, uses scrypt parameters outside the accepted range, or does not belong to the public key.' },
  'key.bad_sealed_key': { status: 400, title: 'The member\'s copy of the key is malformed, or was not sealed to that member\'s current key for this project key.' },
  'key.no_member_key': { status: 409, title: 'That person has not set up their own encryption key yet; they must do so before the project key can be shared with them.' },
  'key.not_member': { status: 404, title: 'That person is not a member of this project.' },
  'key.not_found': { status: 404, title: 'This project has no key with that id.' },
  'key.server_decryption_forbidden': { status: 403, title: 'This project forbids decryption on the server; decrypt in your browser or with `fieldkeep decrypt`.' },
  'key.self_managed': { status: 409, title: 'This project\'s key is self-managed (only its public key is on the server), so the server cannot decrypt.' },
  'key.wrong_passphrase': { status: 400, title: 'The passphrase does not unlock any of this project\'s keys.' },
  'key.no_key_copy': { status: 403, title: 'You hold no copy of this project\'s key: ask its owner to share it with you (your own passphrase then unlocks it).' },
  'key.undecryptable_submission': { status: 422, title: 'A submission could not be decrypted: its files are missing or altered, or it was encrypted to a key the project does not hold.' },
  'key.form_not_keyable': { status: 422, title: 'The project\'s public key could not be put into this form; see the detail.' },
  'submission.encrypted_not_filterable': { status: 409, title: 'The form has encrypted submissions, whose answers the server cannot read, so it cannot filter on answers; filter on system fields, or decrypt and filter in the browser.' },
} as const satisfies Record<string, { status: number; title: string }>;

export type ErrorCode = keyof typeof errorCatalogue;

/**
 * Seconds a client is asked to wait (`Retry-After`) before repeating a request refused for a
 * temporary fault of the server's own; undefined for every other error.
 */
export function retryAfterSeconds(code: ErrorCode): number | undefined {
  switch (code) {
    case 'server.not_ready':
    case 'server.database_unavailable':
    case 'server.storage_unavailable':
      return 30;
    case 'server.storage_full':
      return 300;
    default:
      return undefined;
  }
}

export class AppError extends Error {
  readonly status: number;
  constructor(
    readonly code: ErrorCode,
    readonly detail?: string,
    readonly extra?: Record<string, unknown>,
  ) {
    super(detail ?? errorCatalogue[code].title);
    this.name = 'AppError';
    this.status = errorCatalogue[code].status;
  }
}

export interface Problem {
  type: 'about:blank';
  status: number;
  code: ErrorCode;
  title: string;
  detail?: string;
  requestId?: string;
  [extra: string]: unknown;
}

export function toProblem(error: AppError, requestId?: string): Problem {
  return {
    ...error.extra,
    type: 'about:blank',
    status: error.status,
    code: error.code,
    title: errorCatalogue[error.code].title,
    ...(error.detail !== undefined ? { detail: error.detail } : {}),
    ...(requestId !== undefined ? { requestId } : {}),
  };
}
