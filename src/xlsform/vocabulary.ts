/*
 * The XLSForm vocabulary pyxform 4.5.0 accepts: column aliases, type aliases, and what each
 * question type becomes in the XForm (body control and bind defaults).
 */

/** Where a survey column lands: a top-level key, or a key inside a group such as `bind`. */
export type ColumnTarget = string | readonly [string, string];

export const SURVEY_COLUMN_ALIASES: ReadonlyMap<string, ColumnTarget> = new Map<string, ColumnTarget>([
  ['sms_field', 'sms_field'],
  ['sms_option', 'sms_option'],
  ['sms_separator', 'sms_separator'],
  ['sms_allow_media', 'sms_allow_media'],
  ['sms_date_format', 'sms_date_format'],
  ['sms_datetime_format', 'sms_datetime_format'],
  ['sms_response', 'sms_response'],
  ['compact_tag', ['instance', 'odk:tag']],
  ['read_only', ['bind', 'readonly']],
  ['readonly', ['bind', 'readonly']],
  ['relevant', ['bind', 'relevant']],
  ['caption', 'label'],
  ['appearance', ['control', 'appearance']],
  ['relevance', ['bind', 'relevant']],
  ['required', ['bind', 'required']],
  ['constraint', ['bind', 'constraint']],
  ['constraining_message', ['bind', 'jr:constraintMsg']],
  ['constraint_message', ['bind', 'jr:constraintMsg']],
  ['calculation', ['bind', 'calculate']],
  ['calculate', ['bind', 'calculate']],
  ['command', 'type'],
  ['tag', 'name'],
  ['value', 'name'],
  ['image', ['media', 'image']],
  ['big-image', ['media', 'big-image']],
  ['audio', ['media', 'audio']],
  ['video', ['media', 'video']],
  ['count', ['control', 'jr:count']],
  ['repeat_count', ['control', 'jr:count']],
  ['jr:count', ['control', 'jr:count']],
  ['autoplay', ['control', 'autoplay']],
  ['rows', ['control', 'rows']],
  ['noapperrorstring', ['bind', 'jr:noAppErrorString']],
  ['no_app_error_string', ['bind', 'jr:noAppErrorString']],
  ['requiredmsg', ['bind', 'jr:requiredMsg']],
  ['required_message', ['bind', 'jr:requiredMsg']],
  ['body', 'control'],
  ['save_to', ['bind', 'entities:saveto']],
]);

/** Columns the survey sheet understands without aliasing (pyxform's select question slots). */
export const SURVEY_COLUMNS: ReadonlySet<string> = new Set([
  'name', 'label', 'parent', 'extra_data', '_survey_element_xpath', '_dynamic_default', '_qtd_defaults',
  '_qtd_kwargs', 'actions', 'default', 'guidance_hint', 'instance', 'query', 'sms_field', 'trigger', 'bind',
  'choice_filter', 'control', 'hint', 'media', 'parameters', 'type', '_itemset_has_ref', 'choices', 'itemset',
  'list_name',
]);

export const CHOICE_COLUMN_ALIASES: ReadonlyMap<string, ColumnTarget> = new Map<string, ColumnTarget>([
  ['caption', 'label'],
  ['list_name', 'list name'],
  ['value', 'name'],
  ['image', ['media', 'image']],
  ['big-image', ['media', 'big-image']],
  ['audio', ['media', 'audio']],
  ['video', ['media', 'video']],
]);

export const CHOICE_COLUMNS: ReadonlySet<string> = new Set([
  'name', 'label', 'parent', 'extra_data', '_survey_element_xpath', '_choice_itext_ref', 'media', 'sms_option',
]);

export const SETTINGS_COLUMN_ALIASES: ReadonlyMap<string, ColumnTarget> = new Map<string, ColumnTarget>([
  ['form_title', 'title'],
  ['set_form_title', 'title'],
  ['form_id', 'id_string'],
  ['set_form_id', 'id_string'],
  ['prefix', 'prefix'],
]);

export const SETTINGS_COLUMNS: ReadonlySet<string> = new Set([
  'name', 'label', 'parent', 'extra_data', '_survey_element_xpath', 'bind', 'children', 'control', 'hint', 'media',
  'type', 'instance', 'flat', 'sms_field', '_created', '_translations', '_xpath', 'add_none_option',
  'clean_text_values', 'attribute', 'auto_delete', 'auto_send', 'choices', 'default_language', 'file_name',
  'id_string', 'instance_name', 'instance_xmlns', 'namespaces', 'omit_instanceID', 'public_key',
  'setgeopoint_by_triggering_ref', 'setvalues_by_triggering_ref', 'sms_allow_media', 'sms_date_format',
  'sms_datetime_format', 'sms_keyword', 'sms_response', 'sms_separator', 'style', 'submission_url', 'title',
  'version', 'allow_choice_duplicates', 'client_editable', 'delimiter', 'prefix', 'entity_version',
]);

export const ENTITY_COLUMN_ALIASES: ReadonlyMap<string, ColumnTarget> = new Map<string, ColumnTarget>([
  ['list_name', 'dataset'],
]);

export const ENTITY_COLUMNS: ReadonlySet<string> = new Set(['dataset', 'entity_id', 'create_if', 'update_if', 'repeat', 'label']);

/** Survey columns that may be translated (`label::French (fr)`), by their internal name. */
export const TRANSLATABLE_SURVEY_COLUMNS: ReadonlyMap<string, string> = new Map([
  ['label', 'label'],
  ['hint', 'hint'],
  ['guidance_hint', 'guidance_hint'],
  ['image', 'image'],
  ['big-image', 'big-image'],
  ['audio', 'audio'],
  ['video', 'video'],
  ['jr:constraintMsg', 'constraint_message'],
  ['jr:requiredMsg', 'required_message'],
]);

export const TRANSLATABLE_CHOICE_COLUMNS: ReadonlyMap<string, string> = new Map([
  ['label', 'label'],
  ['image', 'image'],
  ['big-image', 'big-image'],
  ['audio', 'audio'],
  ['video', 'video'],
]);

/** Old type names rewritten before anything else looks at the type. */
export const TYPE_ALIASES: ReadonlyMap<string, string> = new Map([
  ['imei', 'deviceid'],
  ['image', 'photo'],
  ['add image prompt', 'photo'],
  ['add photo prompt', 'photo'],
  ['add audio prompt', 'audio'],
  ['add video prompt', 'video'],
  ['add file prompt', 'file'],
]);

export const CONTROL_ALIASES: ReadonlyMap<string, 'group' | 'repeat' | 'loop'> = new Map([
  ['group', 'group'],
  ['lgroup', 'repeat'],
  ['repeat', 'repeat'],
  ['loop', 'loop'],
  ['looped group', 'repeat'],
]);

export type SelectKind = 'select one' | 'select all that apply' | 'select one external' | 'rank';

export const SELECT_FROM_FILE_COMMANDS: ReadonlyMap<string, SelectKind> = new Map<string, SelectKind>([
  ['select_one_from_file', 'select one'],
  ['select_multiple_from_file', 'select all that apply'],
  ['select one from file', 'select one'],
  ['select multiple from file', 'select all that apply'],
]);

export const SELECT_COMMANDS: ReadonlyMap<string, SelectKind> = new Map<string, SelectKind>([
  ['add select one prompt using', 'select one'],
  ['add select multiple prompt using', 'select all that apply'],
  ['select all that apply from', 'select all that apply'],
  ['select one from', 'select one'],
  ['select1', 'select one'],
  ['select_one', 'select one'],
  ['select one', 'select one'],
  ['select_multiple', 'select all that apply'],
  ['select all that apply', 'select all that apply'],
  ['select_one_external', 'select one external'],
  ...SELECT_FROM_FILE_COMMANDS,
  ['rank', 'rank'],
]);

/** Settings a survey row can set through its type: a `form_title` row carries the title as its name. */
export const SETTINGS_BY_TYPE: ReadonlyMap<string, string> = new Map([
  ['form_title', 'title'],
  ['set_form_title', 'title'],
  ['form_id', 'id_string'],
  ['set_form_id', 'id_string'],
  ['prefix', 'prefix'],
]);

const YES = ['yes', 'Yes', 'YES', 'true', 'True', 'TRUE', 'true()'];
const NO = ['no', 'No', 'NO', 'false', 'False', 'FALSE', 'false()'];

/** pyxform's yes/no words; undefined when the text is neither. */
export function yesNo(value: string | undefined): boolean | undefined {
  if (value === undefined) return undefined;
  if (YES.includes(value)) return true;
  if (NO.includes(value)) return false;
  return undefined;
}

/** Bind attributes whose yes/no words become XPath booleans. */
export const BOOLEAN_BIND_ATTRIBUTES: ReadonlySet<string> = new Set(['readonly', 'required', 'relevant', 'constraint', 'calculate']);

export function xpathBoolean(value: string): string | undefined {
  if (YES.includes(value) && value !== 'true()') return 'true()';
  if (NO.includes(value) && value !== 'false()') return 'false()';
  return undefined;
}

export interface QuestionTypeSpec {
  /** Body element; absent for types with no control (calculate, metadata). */
  control?: Readonly<Record<string, string>>;
  bind?: Readonly<Record<string, string>>;
  /** Default hint some legacy types carry. */
  hint?: string;
  /** Default parameters (range). */
  parameters?: Readonly<Record<string, string>>;
}

const input = (type: string): QuestionTypeSpec => ({ control: { tag: 'input' }, bind: { type } });
const upload = (mediatype: string): QuestionTypeSpec => ({ control: { tag: 'upload', mediatype }, bind: { type: 'binary' } });
const preload = (kind: string, type: string, params: string): QuestionTypeSpec => ({
  bind: { 'jr:preload': kind, type, 'jr:preloadParams': params },
});
const property = (params: string): QuestionTypeSpec => preload('property', 'string', params);
const note: QuestionTypeSpec = { control: { tag: 'input' }, bind: { readonly: 'true()', type: 'string' } };
const trigger: QuestionTypeSpec = { control: { tag: 'trigger' }, bind: { type: 'string' } };
const calculate: QuestionTypeSpec = { bind: { type: 'string' } };
const dayCount = (max: number): QuestionTypeSpec => ({
  control: { tag: 'input' },
  bind: { type: 'int', constraint: `0 <= . and . <= ${max}` },
  hint: `Enter a number 0-${max}.`,
});

function entries(names: string[], spec: QuestionTypeSpec): Array<[string, QuestionTypeSpec]> {
  return names.map((name) => [name, spec]);
}

/** Every question type pyxform knows, with its body control and bind defaults. */
export const QUESTION_TYPES: ReadonlyMap<string, QuestionTypeSpec> = new Map<string, QuestionTypeSpec>([
  ...entries(['q picture', 'photo', 'add image prompt', 'q image', 'image'], upload('image/*')),
  ...entries(['add audio prompt', 'q audio', 'audio'], upload('audio/*')),
  ...entries(['video', 'add video prompt', 'q video'], upload('video/*')),
  ...entries(['file', 'add file prompt'], upload('application/*')),
  ['osm', upload('osm/*')],
  ...entries(['add date time prompt', 'q date time', 'datetime', 'dateTime', 'add dateTime prompt', 'q dateTime', 'date time'], input('dateTime')),
  ...entries(['add date prompt', 'q date', 'date'], input('date')),
  ['time', input('time')],
  ...entries(['location', 'q geopoint', 'q location', 'geopoint', 'gps', 'add location prompt'], input('geopoint')),
  ...entries(['q geoshape', 'geoshape'], input('geoshape')),
  ...entries(['q geotrace', 'geotrace'], input('geotrace')),
  ...entries(['text', 'string', 'q string', 'add text prompt'], input('string')),
  ...entries(['integer', 'q int', 'int', 'add integer prompt'], input('int')),
  ...entries(['decimal', 'add decimal prompt', 'q decimal'], input('decimal')),
  ...entries(['barcode', 'q barcode', 'add barcode prompt'], input('barcode')),
  ...entries(['add note prompt', 'q note', 'note'], note),
  ...entries(['acknowledge', 'q acknowledge', 'add acknowledge prompt'], trigger),
  ...entries(['calculate', 'q calculate', 'add calculate prompt', 'hidden'], calculate),
  ...entries(['get start time', 'start', 'start time'], preload('timestamp', 'dateTime', 'start')),
  ...entries(['get end time', 'end time', 'end'], preload('timestamp', 'dateTime', 'end')),
  ...entries(['get today', 'today'], preload('date', 'date', 'today')),
  ...entries(['phonenumber', 'get phone number'], property('phonenumber')),
  ...entries(['simserial', 'get sim id', 'sim id'], property('simserial')),
  ...entries(['imei', 'device id', 'deviceid', 'get device id'], property('deviceid')),
  ...entries(['subscriber id', 'subscriberid', 'get subscriber id'], property('subscriberid')),
  ...['uri:subscriberid', 'uri:phonenumber', 'uri:simserial', 'uri:deviceid', 'username', 'uri:username', 'email', 'uri:email'].map(
    (name): [string, QuestionTypeSpec] => [name, property(name)],
  ),
  ...entries(['add select multiple prompt using', 'select all that apply from', 'select all that apply', 'select multiple from', 'q select', 'select multiple using'], {
    control: { tag: 'select' },
    bind: { type: 'string' },
  }),
  ...entries(['select one', 'select one using', 'q select1', 'add select one prompt using'], { control: { tag: 'select1' }, bind: { type: 'string' } }),
  ['select one external', input('string')],
  ['rank', { control: { tag: 'odk:rank' }, bind: { type: 'odk:rank' } }],
  ['number of days in last month', dayCount(31)],
  ['number of days in last six months', dayCount(183)],
  ['number of days in last year', dayCount(365)],
  ['percentage', { control: { tag: 'input' }, bind: { type: 'int', constraint: '0 <= . and . <= 100' } }],
  ['phone number', { control: { tag: 'input' }, bind: { type: 'string', constraint: "regex(., '^\\d*$')" }, hint: 'Enter numbers only.' }],
  ['trigger', { control: { tag: 'trigger' } }],
  ['range', { control: { tag: 'range' }, bind: { type: 'int' }, parameters: { start: '1', end: '10', step: '1' } }],
  ['audit', { bind: { type: 'binary' } }],
  ['xml-external', {}],
  ['csv-external', {}],
  ['start-geopoint', { control: { tag: 'action' }, bind: { type: 'geopoint' } }],
  ['background-audio', { control: { tag: 'action' }, bind: { type: 'binary' } }],
  ['background-geopoint', { control: { tag: 'trigger' }, bind: { type: 'geopoint' } }],
]);

export const DEPRECATED_DEVICE_TYPES: ReadonlySet<string> = new Set(['subscriberid', 'simserial']);
export const EXTERNAL_INSTANCE_TYPES: ReadonlySet<string> = new Set(['csv-external', 'xml-external']);
export const FILE_INSTANCE_EXTENSIONS: ReadonlySet<string> = new Set(['.xml', '.csv', '.geojson']);
export const MEDIA_TYPES: ReadonlySet<string> = new Set(['image', 'big-image', 'audio', 'video']);
export const SUPPORTED_SHEETS: ReadonlySet<string> = new Set(['survey', 'choices', 'settings', 'external_choices', 'osm', 'entities']);
