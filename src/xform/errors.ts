/** Stable codes for everything the xform module rejects; callers branch on `code`, people read `message`. */
export type XmlErrorCode =
  | 'xml.malformed'
  | 'xml.doctype_forbidden'
  | 'xml.too_large'
  | 'xml.too_deep'
  | 'xml.too_many_elements'
  | 'xml.too_many_attributes'
  | 'xml.text_too_long'
  | 'xml.forbidden_name'
  | 'xml.unsupported_encoding';

export type XFormErrorCode =
  | 'xform.not_an_xform'
  | 'xform.no_model'
  | 'xform.no_primary_instance'
  | 'xform.missing_form_id'
  | 'xform.bad_public_key'
  | 'xform.bad_language'
  | 'submission.missing_form_id'
  | 'submission.wrong_form'
  | 'submission.wrong_root'
  | 'submission.missing_instance_id'
  | 'submission.bad_instance_id';

/** Hostile or broken XML. `line` and `column` (both 1-based) point at where the parser stopped. */
export class XmlError extends Error {
  override readonly name = 'XmlError';
  constructor(
    readonly code: XmlErrorCode,
    message: string,
    readonly line?: number,
    readonly column?: number,
  ) {
    super(message);
  }
}

/** Well-formed XML that is not a usable XForm or submission. */
export class XFormError extends Error {
  override readonly name = 'XFormError';
  constructor(
    readonly code: XFormErrorCode,
    message: string,
  ) {
    super(message);
  }
}
