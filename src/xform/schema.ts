/** The field schema of one XForm: what later code (submissions, exports, UI) needs to know. */

/**
 * Text per language. Keys are the itext language names as written in the form
 * (e.g. `English (en)`); text given without translations is under `DEFAULT_LANGUAGE`.
 */
export type LocalizedText = Record<string, string>;

/** The key of untranslated text in `LocalizedText` (pyxform also names such a translation `default`). */
export const DEFAULT_LANGUAGE = 'default';

export interface Choice {
  value: string;
  labels: LocalizedText;
}

/**
 * `string`, `int`, `decimal`, `date`, `time`, `dateTime`, `geopoint`, `geotrace`, `geoshape`,
 * `binary`, `barcode`, `boolean` (bind types, `xsd:` prefix dropped, `integer` read as `int`);
 * `select1`, `select`, `odk:rank` (from the body control); `group`, `repeat` for containers.
 * An unknown bind type is kept as written.
 */
export type FieldType = string;

export interface FormField {
  /** Absolute instance path, e.g. `/data/household/member/age`. */
  path: string;
  /** Element name, the last step of `path`. */
  name: string;
  kind: 'question' | 'group' | 'repeat';
  type: FieldType;
  /** The bind's data type (`string` when there is no bind); for selects this stays `string`. */
  dataType: string;
  /** Local name of the body control (`input`, `select1`, `upload`, `rank`, `group`, …), null when none. */
  control: string | null;
  /** Path of the enclosing group or repeat; null at the top level. */
  parent: string | null;
  /** Path of the nearest enclosing repeat (the field itself when it is a repeat); null outside repeats. */
  repeat: string | null;
  /** True for attachments (bind type `binary`): the answer is a file name. */
  binary: boolean;
  labels: LocalizedText;
  hints: LocalizedText;
  /** Static choices of a select, in form order; null when not a select or the list is external. */
  choices: Choice[] | null;
  /** Secondary instance id the itemset reads, when it uses one. */
  choiceList: string | null;
  /** `mediatype` of an upload control, e.g. `image/*`. */
  mediaType: string | null;
  bind: FieldBind;
}

/** The bind expressions that matter outside the form engine; XPath strings, as written. */
export interface FieldBind {
  required: string | null;
  relevant: string | null;
  constraint: string | null;
  calculate: string | null;
  readonly: string | null;
  preload: string | null;
  preloadParams: string | null;
}

export interface FormSchema {
  formId: string;
  /** The `version` attribute of the primary instance root, null when the form has none. */
  version: string | null;
  title: string | null;
  /** Local name of the primary instance root, usually `data`. */
  rootName: string;
  /** Itext languages in form order. */
  languages: string[];
  /** The translation marked `default="true()"`, if any. */
  defaultLanguage: string | null;
  /** `<submission base64RsaPublicKey>` with white space removed: set when the form is encrypted. */
  base64RsaPublicKey: string | null;
  /** `<submission action>`, when the form names its own submission URL. */
  submissionUrl: string | null;
  /** Every node of the primary instance below the root, in document order (repeat copies once). */
  fields: FormField[];
}
