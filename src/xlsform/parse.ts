/*
 * Workbook → draft form tree, following pyxform's reading of the sheets row by row.
 *
 * Settings are read first (they set the default language and whether text is cleaned),
 * then choices, entities and the survey. Each survey row is checked in pyxform's order, so
 * that a form with several problems reports the same first one. Groups and repeats are
 * tracked on a stack; rows become drafts (pyxform's row dictionaries plus actions,
 * parameters and triggers) which `build.ts` turns into the form model.
 */
import { SUPPRESS_SPELLING_HINT, TranslationChecks, checkReferences, sheetMisspellings } from './checks.js';
import type { DraftNode, DraftRow, DraftSection } from './draft.js';
import { draftRow, metaGroup } from './draft.js';
import { collectEntities, type EntityDeclarations, EntityTracker } from './entities.js';
import { ReferenceSyntaxError, hasReference, isDynamicDefault, isSingleReference, isXmlTag, parseReferences, referenceSyntaxIssue } from './expression.js';
import type { Warnings } from './issues.js';
import { XlsFormError, rowPrefix } from './issues.js';
import { parseParameters } from './parameters.js';
import { pathSuffixes, pyRepr, splitExt } from './python.js';
import {
  checkReferenceGeometry,
  checkSelectParameters,
  ensureMap,
  processAudio,
  processAudit,
  processGeo,
  processImage,
  processText,
} from './question-types.js';
import { processRange } from './range.js';
import type { CellMap, GroupedSheet, RawWorkbook } from './sheets.js';
import { cleanText, groupHeaders, subMap, text } from './sheets.js';
import {
  CHOICE_COLUMNS,
  CHOICE_COLUMN_ALIASES,
  CONTROL_ALIASES,
  DEPRECATED_DEVICE_TYPES,
  ENTITY_COLUMNS,
  ENTITY_COLUMN_ALIASES,
  EXTERNAL_INSTANCE_TYPES,
  FILE_INSTANCE_EXTENSIONS,
  SELECT_COMMANDS,
  SELECT_FROM_FILE_COMMANDS,
  SETTINGS_BY_TYPE,
  SETTINGS_COLUMNS,
  SETTINGS_COLUMN_ALIASES,
  SURVEY_COLUMNS,
  SURVEY_COLUMN_ALIASES,
  TRANSLATABLE_CHOICE_COLUMNS,
  TYPE_ALIASES,
  yesNo,
} from './vocabulary.js';

export interface DraftForm {
  root: DraftSection;
  settings: CellMap;
  choices: Map<string, CellMap[]>;
  osmLists: Map<string, CellMap[]>;
  defaultLanguage: string;
}

const CONTROL_NAMES = [...CONTROL_ALIASES.keys()].join('|');
const BEGIN_CONTROL = new RegExp(`^(begin)(\\s|_)(${CONTROL_NAMES})( (over )?(\\S+))?$`);
const END_CONTROL = new RegExp(`^(end)(\\s|_)(${CONTROL_NAMES})$`);
const SELECT = new RegExp(`^(${[...SELECT_COMMANDS.keys()].join('|')}) (\\S+)( (or specify other|or_other|or other))?$`);
const OSM = /(osm) (\S+)/;

/** Real forms nest a handful of groups deep; this bound keeps hostile forms from exhausting the stack. */
export const MAX_NESTING = 100;

interface Frame {
  controlType: 'group' | 'repeat' | 'loop' | null;
  controlName: string | null;
  section: DraftSection;
  childNames: Set<string>;
  childNamesLower: Set<string>;
  row: number | null;
}

function groupBy(rows: CellMap[], key: string): Map<string, CellMap[]> {
  const groups = new Map<string, CellMap[]>();
  for (const row of rows) {
    const value = row.get(key);
    if (typeof value !== 'string') continue;
    row.delete(key);
    const list = groups.get(value);
    if (list) list.push(row);
    else groups.set(value, [row]);
  }
  return groups;
}

function readSettings(workbook: RawWorkbook, warnings: Warnings): CellMap {
  const sheet = workbook.sheets.get('settings');
  if (!sheet || sheet.rows.length === 0) {
    const similar = sheetMisspellings('settings', workbook.sheetNames);
    if (similar !== undefined) warnings.add('xlsform.sheet_misspelt', similar + SUPPRESS_SPELLING_HINT);
    return new Map();
  }
  let source = sheet;
  if (sheet.headers.includes('id_string') && sheet.headers.includes('form_id')) {
    const [first, ...rest] = sheet.rows;
    const trimmed = new Map(first);
    trimmed.delete('id_string');
    source = { ...sheet, headers: sheet.headers.filter((h) => h !== 'id_string'), rows: [trimmed, ...rest] };
    warnings.add(
      'xlsform.form_id_and_id_string',
      'The form_id and id_string column headers are both specified in the settings sheet provided. This may cause errors during conversion. In future, its best to avoid specifying both column headers in the settings sheet.',
      { sheet: 'settings' },
    );
  }
  const grouped = groupHeaders(source, { sheet: 'settings', aliases: SETTINGS_COLUMN_ALIASES, columns: SETTINGS_COLUMNS });
  const settings = grouped.rows[0] ?? new Map();
  const name = settings.get('name');
  if (name !== undefined && (typeof name !== 'string' || !isXmlTag(name))) {
    throw new XlsFormError('xlsform.invalid_name', invalidNameMessage('settings', 1, 'name'), { sheet: 'settings', row: 1 });
  }
  return settings;
}

export function invalidNameMessage(sheet: string, row: number, column: string): string {
  return `[row : ${row}] On the '${sheet}' sheet, the '${column}' value is invalid. Names must begin with a letter or underscore. After the first character, names may contain letters, digits, underscores, hyphens, or periods.`;
}

function readChoices(workbook: RawWorkbook, defaultLanguage: string, allowDuplicates: boolean, warnings: Warnings): { lists: Map<string, CellMap[]>; grouped?: GroupedSheet } {
  const sheet = workbook.sheets.get('choices');
  if (!sheet || sheet.rows.length === 0) return { lists: new Map() };
  const grouped = groupHeaders(sheet, {
    sheet: 'choices',
    aliases: CHOICE_COLUMN_ALIASES,
    columns: CHOICE_COLUMNS,
    required: ['name'],
    defaultLanguage,
  });
  grouped.rows.forEach((row, index) => row.set('__row', String(index + 2)));
  const lists = groupBy(grouped.rows, 'list name');
  const invalidHeaders = grouped.columns
    .map((c) => c[0] ?? '')
    .filter((header) => header !== 'list name' && (header.includes(' ') || header === ''));
  for (const header of invalidHeaders) {
    warnings.add(
      'xlsform.invalid_choices_column',
      `[row : 1] On the 'choices' sheet, the '${header}' value is invalid. Column headers must not be empty and must not contain spaces. Learn more: https://xlsform.org/en/#setting-up-your-worksheets`,
      { sheet: 'choices', row: 1 },
    );
  }
  for (const options of lists.values()) {
    const seen = new Set<string>();
    const duplicates: string[] = [];
    for (const option of options) {
      const row = Number(option.get('__row'));
      const name = option.get('name');
      if (name === undefined) {
        throw new XlsFormError(
          'xlsform.choice_without_name',
          `[row : ${row}] On the 'choices' sheet, the 'name' value is invalid. Choices must have a name. Learn more: https://xlsform.org/en/#setting-up-your-worksheets`,
          { sheet: 'choices', row },
        );
      }
      if (!option.has('label')) {
        warnings.add(
          'xlsform.choice_without_label',
          `[row : ${row}] On the 'choices' sheet, the 'label' value is invalid. Choices should have a label. Learn more: https://xlsform.org/en/#setting-up-your-worksheets`,
          { sheet: 'choices', row },
        );
      }
      if (!allowDuplicates && typeof name === 'string') {
        if (seen.has(name)) {
          duplicates.push(
            `[row : ${row}] On the 'choices' sheet, the 'name' value is invalid. Choice names must be unique for each choice list. If this is intentional, use the setting 'allow_choice_duplicates'. Learn more: https://xlsform.org/#choice-names.`,
          );
        } else {
          seen.add(name);
        }
      }
    }
    if (duplicates.length > 0) {
      const row = Number(/\[row : (\d+)\]/.exec(duplicates[0] ?? '')?.[1]);
      throw new XlsFormError('xlsform.duplicate_choice', duplicates.join('\n'), { sheet: 'choices', row });
    }
    for (const option of options) {
      for (const header of invalidHeaders) option.delete(header);
      option.delete('__row');
    }
  }
  return { lists, grouped };
}

/** Python's str() of a possibly missing value, as pyxform applies it to a settings row's name. */
function pyStr(value: string | undefined): string {
  return value ?? 'None';
}

/** Reads the whole workbook into a draft tree, raising pyxform's first error. */
export function parseWorkbook(workbook: RawWorkbook, fallbackName: string, warnings: Warnings, formName = 'data'): DraftForm {
  const surveySheet = workbook.sheets.get('survey');
  if (!surveySheet || (surveySheet.rows.length === 0 && surveySheet.headers.length === 0)) {
    const similar = sheetMisspellings('survey', workbook.sheetNames);
    throw new XlsFormError('xlsform.missing_survey', `You must have a sheet named 'survey'. ${similar ?? ''}`, { sheet: 'survey' });
  }

  if (!isXmlTag(formName)) {
    throw new XlsFormError(
      'xlsform.invalid_name',
      "The 'form_name' value is invalid. Names must begin with a letter or underscore. After the first character, names may contain letters, digits, underscores, hyphens, or periods.",
    );
  }
  const settings = readSettings(workbook, warnings);
  const cleanText = yesNo(text(settings, 'clean_text_values') ?? 'yes') ?? true;
  const defaultLanguage = text(settings, 'default_language') ?? 'default';
  for (const flag of ['add_none_option', 'client_editable']) {
    if (settings.has(flag)) settings.set(flag, String(yesNo(text(settings, flag) ?? 'no') ?? false));
  }
  const root: DraftSection = { kind: 'survey', cells: new Map(), children: [] };
  const idString = text(settings, 'id_string') ?? fallbackName;
  root.cells.set('name', formName);
  root.cells.set('title', idString);
  root.cells.set('id_string', idString);
  for (const [key, value] of settings) root.cells.set(key, value);

  const externalChoices = readExternalChoices(workbook, defaultLanguage);
  const { lists: choices, grouped: choicesGrouped } = readChoices(
    workbook,
    defaultLanguage,
    yesNo(text(settings, 'allow_choice_duplicates') ?? 'no') ?? false,
    warnings,
  );

  let entities: EntityDeclarations | undefined;
  const entitiesSheet = workbook.sheets.get('entities');
  if (entitiesSheet && entitiesSheet.rows.length > 0) {
    const grouped = groupHeaders(entitiesSheet, { sheet: 'entities', aliases: ENTITY_COLUMN_ALIASES, columns: ENTITY_COLUMNS });
    entities = collectEntities(grouped.rows);
  } else {
    const similar = sheetMisspellings('entities', workbook.sheetNames);
    if (similar !== undefined) warnings.add('xlsform.sheet_misspelt', similar + SUPPRESS_SPELLING_HINT);
  }

  const survey = groupHeaders(surveySheet, {
    sheet: 'survey',
    aliases: SURVEY_COLUMN_ALIASES,
    columns: SURVEY_COLUMNS,
    required: ['type'],
    defaultLanguage,
    collapseSpaces: cleanText,
  });
  for (const row of survey.rows) {
    const type = text(row, 'type');
    const alias = type === undefined ? undefined : TYPE_ALIASES.get(type);
    if (alias !== undefined) row.set('type', alias);
  }
  const translations = new TranslationChecks(survey.columns, choicesGrouped?.columns ?? []);
  translations.warnMissing(warnings);

  const osmSheet = workbook.sheets.get('osm');
  const osmLists =
    osmSheet && osmSheet.rows.length > 0
      ? groupBy(groupHeaders(osmSheet, { sheet: 'osm', aliases: CHOICE_COLUMN_ALIASES, columns: CHOICE_COLUMNS }).rows, 'list name')
      : new Map<string, CellMap[]>();

  const reader = new SurveyReader({
    root,
    settings,
    choices,
    externalChoices,
    sheetNames: workbook.sheetNames,
    warnings,
    translations,
    entities,
  });
  reader.readRows(survey.rows);
  reader.finish();

  checkReferences(workbook.sheets.get('settings'), { sheet: 'settings' }, reader.elementNames);
  checkReferences(workbook.sheets.get('entities'), { sheet: 'entities', skipHeaders: new Set(['list name', 'list_name', 'repeat']) }, reader.elementNames);
  const skipSurvey = new Set([...survey.headerPaths].filter(([, path]) => ['type', 'name', 'trigger'].includes(path[0] ?? '')).map(([h]) => h));
  checkReferences(surveySheet, { sheet: 'survey', skipHeaders: skipSurvey }, reader.elementNames);
  if (choicesGrouped) {
    const onlyChoices = new Set(
      [...choicesGrouped.headerPaths].filter(([, path]) => TRANSLATABLE_CHOICE_COLUMNS.has(path[0] ?? '') || path[0] === 'media').map(([h]) => h),
    );
    checkReferences(workbook.sheets.get('choices'), { sheet: 'choices', onlyHeaders: onlyChoices }, reader.elementNames);
  }
  return { root, settings, choices, osmLists, defaultLanguage };
}

/** select_one_external only needs to know which lists exist; their rows go to an external file. */
function readExternalChoices(workbook: RawWorkbook, defaultLanguage: string): Set<string> | undefined {
  const sheet = workbook.sheets.get('external_choices');
  if (!sheet || sheet.rows.length === 0) return undefined;
  const { headerPaths } = groupHeaders({ ...sheet, rows: [] }, { sheet: 'external_choices', aliases: CHOICE_COLUMN_ALIASES, columns: CHOICE_COLUMNS, defaultLanguage });
  const listHeader = [...headerPaths].find(([, path]) => path.length === 1 && path[0] === 'list name')?.[0];
  const lists = new Set<string>();
  for (const row of sheet.rows) {
    const name = listHeader === undefined ? undefined : row.get(listHeader);
    if (name !== undefined) lists.add(cleanText(name, false));
  }
  return lists;
}

interface ReaderContext {
  root: DraftSection;
  settings: CellMap;
  choices: Map<string, CellMap[]>;
  externalChoices: Set<string> | undefined;
  sheetNames: string[];
  warnings: Warnings;
  translations: TranslationChecks;
  entities: EntityDeclarations | undefined;
}

/** The survey sheet's row loop and the bookkeeping it needs. */
class SurveyReader {
  readonly elementNames = new Map<string, number>();
  private readonly stack: Frame[];
  private readonly questionNames = new Set<string>();
  private readonly metaChildren: DraftNode[] = [];
  private readonly triggerReferences: Array<[string, number]> = [];
  private readonly geoReferences: Array<[string, number]> = [];
  private readonly secondaryInstances = new Set<string>();
  private readonly repeatNames = new Set<string>();
  private readonly entityTracker: EntityTracker;
  /** true: inside a table-list group before its first select; a string: that select's list. */
  private tableList: true | string | null = null;

  constructor(private readonly ctx: ReaderContext) {
    this.stack = [{ controlType: null, controlName: null, section: ctx.root, childNames: new Set(), childNamesLower: new Set(), row: null }];
    this.entityTracker = new EntityTracker(ctx.entities ?? {});
  }

  private get top(): Frame {
    return this.stack[this.stack.length - 1] as Frame;
  }

  private append(node: DraftNode): void {
    this.top.section.children.push(node);
  }

  readRows(rows: CellMap[]): void {
    rows.forEach((row, index) => this.readRow(row, index + 2));
  }

  private readRow(cells: CellMap, row: number): void {
    const { warnings } = this.ctx;
    if (cells.has('disabled')) {
      warnings.add('xlsform.disabled_column', `${rowPrefix(row)} The 'disabled' column header is not part of the current spec. We recommend using relevant instead.`, {
        sheet: 'survey',
        row,
      });
      const disabled = text(cells, 'disabled');
      cells.delete('disabled');
      if (yesNo(disabled)) return;
    }
    if (cells.size === 0) return;

    const type = text(cells, 'type');
    const appearance = text(subMap(cells, 'control'), 'appearance');
    if (!type) {
      if (!cells.has('name') && !cells.has('label')) {
        warnings.add('xlsform.row_skipped', `${rowPrefix(row)} Row without name, text, or label is being skipped:\n${pyRepr(cells)}`, { sheet: 'survey', row });
        return;
      }
      throw new XlsFormError('xlsform.missing_type', `${rowPrefix(row)} Question with no type.\n${pyRepr(cells)}`, { sheet: 'survey', row });
    }

    const draft = draftRow(cells, row);
    const trigger = text(cells, 'trigger');
    if (cells.has('trigger')) draft.trigger = this.parseTrigger(trigger, row);
    const defaultValue = text(cells, 'default');
    if (defaultValue && isDynamicDefault(defaultValue, type)) {
      draft.dynamicDefault = true;
      draft.actions.push({ name: 'setvalue', event: 'odk-instance-first-load' });
      if (this.stack.some((f) => f.controlType === 'repeat')) draft.actions.push({ name: 'setvalue', event: 'odk-new-repeat' });
    }
    draft.parameters = parseParameters(text(cells, 'parameters'), row);

    if (type === 'audit') {
      const name = text(cells, 'name');
      if (name !== undefined && name !== '' && name !== 'audit') {
        throw new XlsFormError('xlsform.audit_name', `${rowPrefix(row)} Audits must always be named 'audit.' The name column should be left blank.`, { sheet: 'survey', row });
      }
      cells.set('name', 'audit');
      processAudit(draft);
      this.metaChildren.push(draft);
      return;
    }
    if (type === 'calculate' && !text(subMap(cells, 'bind'), 'calculate') && !draft.dynamicDefault) {
      throw new XlsFormError('xlsform.missing_calculation', `${rowPrefix(row)} Missing calculation.`, { sheet: 'survey', row });
    }
    if (DEPRECATED_DEVICE_TYPES.has(type)) {
      warnings.add(
        'xlsform.deprecated_type',
        `${rowPrefix(row)} ${type} is no longer supported on most devices. Only old versions of Collect on Android versions older than 11 still support it.`,
        { sheet: 'survey', row },
      );
    }
    const setting = SETTINGS_BY_TYPE.get(type);
    if (setting !== undefined) {
      this.ctx.root.cells.set(setting, pyStr(text(cells, 'name')));
      return;
    }

    const begin = BEGIN_CONTROL.exec(type);
    const end = END_CONTROL.exec(type);
    let questionName: string | null = null;
    if (!end) questionName = this.checkName(cells, type, row);
    this.entityTracker.noteRow(cells, row, questionName, this.containerPath(), begin !== null, end !== null);

    if (end) {
      this.endControl(CONTROL_ALIASES.get(end[3] ?? '') ?? 'group', cells, row);
      return;
    }
    if (begin) {
      this.beginControl(begin, draft, questionName ?? '', appearance);
      return;
    }
    this.readQuestion(draft, type, questionName ?? '');
  }

  private parseTrigger(trigger: string | undefined, row: number): string[] | undefined {
    if (!trigger) return undefined;
    const at = { sheet: 'survey', row, column: 'trigger' };
    if (!(trigger.length > 2 && trigger.includes('${'))) throw referenceSyntaxIssue(new ReferenceSyntaxError('malformed'), at);
    const names: string[] = [];
    try {
      for (const part of trigger.split(',')) for (const ref of parseReferences(part, 1)) names.push(ref.name);
    } catch (error) {
      if (error instanceof ReferenceSyntaxError) throw referenceSyntaxIssue(error, at);
      throw error;
    }
    if (names.length === 0) return undefined;
    for (const name of names) this.triggerReferences.push([name, row]);
    return names;
  }

  private checkName(cells: CellMap, type: string, row: number): string {
    if (!cells.has('name')) {
      if (type === 'note') cells.set('name', `generated_note_name_${row}`);
      else throw new XlsFormError('xlsform.missing_name', `${rowPrefix(row)} Question or group with no name.`, { sheet: 'survey', row });
    }
    const name = text(cells, 'name') ?? '';
    if (!isXmlTag(name)) throw new XlsFormError('xlsform.invalid_name', invalidNameMessage('survey', row, 'name'), { sheet: 'survey', row });
    this.elementNames.set(name, (this.elementNames.get(name) ?? 0) + 1);

    const frame = this.top;
    frame.childNames.add('meta');
    if (frame.childNames.has(name)) {
      if (name === 'meta') {
        throw new XlsFormError('xlsform.reserved_name', `${rowPrefix(row)} On the 'survey' sheet, the 'name' value 'meta' is invalid. The name 'meta' is reserved for form metadata.`, {
          sheet: 'survey',
          row,
        });
      }
      throw new XlsFormError(
        'xlsform.duplicate_name',
        `${rowPrefix(row)} On the 'survey' sheet, the 'name' value '${name}' is invalid. Questions, groups, and repeats must be unique within their nearest parent group or repeat, or the survey if not inside a group or repeat.`,
        { sheet: 'survey', row },
      );
    }
    frame.childNames.add(name);
    const lower = name.toLowerCase();
    if (frame.childNamesLower.has(lower)) {
      this.ctx.warnings.add(
        'xlsform.case_insensitive_duplicate',
        `${rowPrefix(row)} On the 'survey' sheet, the 'name' value '${name}' is problematic. The name is a case-insensitive match to another name. Questions, groups, and repeats should be unique within the nearest parent group or repeat, or the survey if not inside a group or repeat. Some data processing tools are not case-sensitive, so the current names may make analysis difficult.`,
        { sheet: 'survey', row },
      );
    }
    frame.childNamesLower.add(lower);
    return name;
  }

  private containerPath(): Array<{ name: string; type: string }> {
    return this.stack.map((f) => ({ name: f.controlName ?? 'survey', type: f.controlType ?? 'survey' }));
  }

  private endControl(controlType: 'group' | 'repeat' | 'loop', cells: CellMap, row: number): void {
    if (this.top.controlType !== controlType || this.stack.length === 1) {
      throw new XlsFormError(
        'xlsform.unmatched_end',
        `${rowPrefix(row)} Unmatched 'end_${controlType}'. No matching 'begin_${controlType}' was found for the name '${text(cells, 'name') ?? 'unknown'}'.`,
        { sheet: 'survey', row },
      );
    }
    this.stack.pop();
    this.tableList = null;
  }

  private beginControl(begin: RegExpExecArray, draft: DraftRow, name: string, appearance: string | undefined): void {
    const { cells, row } = draft;
    const controlType = CONTROL_ALIASES.get(begin[3] ?? '') ?? 'group';
    if (this.stack.length > MAX_NESTING) {
      throw new XlsFormError(
        'xlsform.too_deep',
        `${rowPrefix(row)} Groups and repeats are nested more than ${MAX_NESTING} deep. Close some groups with end_group or end_repeat, or flatten the form.`,
        { sheet: 'survey', row },
      );
    }
    if (controlType === 'repeat') {
      if (name === text(this.ctx.root.cells, 'name')) {
        throw new XlsFormError(
          'xlsform.reserved_name',
          `${rowPrefix(row)} On the 'survey' sheet, the 'name' value '${name}' is invalid. Repeat names must not be the same as the survey root (which defaults to 'data').`,
          { sheet: 'survey', row },
        );
      }
      if (this.repeatNames.has(name)) {
        throw new XlsFormError(
          'xlsform.duplicate_name',
          `${rowPrefix(row)} On the 'survey' sheet, the 'name' value '${name}' is invalid. Repeat names must unique anywhere in the survey, at all levels of group or repeat nesting.`,
          { sheet: 'survey', row },
        );
      }
      this.repeatNames.add(name);
      if (!cells.has('label') && !cells.has('media')) {
        const summary = new Map([['name', cells.get('name') ?? null], ['type', cells.get('type') ?? null]]);
        this.ctx.warnings.add('xlsform.repeat_without_label', `${rowPrefix(row)} Repeat has no label: ${pyRepr(summary as Map<string, string | null>)}`, {
          sheet: 'survey',
          row,
        });
      }
    }
    const section: DraftSection = { kind: controlType, cells, children: [], row };
    if (controlType === 'loop') {
      const listName = begin[6];
      if (!listName) throw new XlsFormError('xlsform.loop_without_list', `${rowPrefix(row)} Repeat loop without list name.`, { sheet: 'survey', row });
      const columns = this.ctx.choices.get(listName);
      if (!columns) throw new XlsFormError('xlsform.unknown_list', `${rowPrefix(row)} List name not in columns sheet: ${listName}`, { sheet: 'survey', row });
      section.loopColumns = columns;
    }
    this.addCountNode(section, name);
    if (appearance) this.applyTableList(section, appearance, row);
    const intent = cells.get('intent');
    if (intent !== undefined) ensureMap(cells, 'control').set('intent', intent);
    this.append(section);
    this.stack.push({ controlType, controlName: name, section, childNames: new Set(), childNamesLower: new Set(), row });
  }

  /** A repeat_count that is an expression gets its own calculate node, so it can be any XPath. */
  private addCountNode(section: DraftSection, name: string): void {
    const control = subMap(section.cells, 'control');
    const count = text(control, 'jr:count');
    if (!control || !count || isSingleReference(count)) return;
    const countName = `${name}_count`;
    const bind: CellMap = new Map([['readonly', 'true()'], ['calculate', count]]);
    this.append(draftRow(new Map<string, string | CellMap>([['name', countName], ['bind', bind], ['type', 'calculate']]), section.row ?? 0));
    control.set('jr:count', `\${${countName}}`);
  }

  private applyTableList(section: DraftSection, appearance: string, row: number): void {
    const words = appearance.split(/\s+/).filter(Boolean);
    if (!words.includes('table-list')) return;
    this.tableList = true;
    ensureMap(section.cells, 'control').set('appearance', ['field-list', ...words.filter((w) => w !== 'table-list')].join(' '));
    const { cells } = section;
    if (!cells.has('label') && !cells.has('hint')) return;
    const note: CellMap = new Map<string, string | CellMap>([['type', 'note'], ['name', `generated_table_list_label_${row}`]]);
    for (const key of ['label', 'hint']) {
      const value = cells.get(key);
      if (value !== undefined) {
        note.set(key, value);
        cells.delete(key);
      }
    }
    section.children.push(draftRow(note, row));
  }

  private readQuestion(draft: DraftRow, type: string, name: string): void {
    const { cells, row } = draft;
    this.questionNames.add(name);
    if (EXTERNAL_INSTANCE_TYPES.has(type)) this.secondaryInstances.add(splitExt(name)[0]);

    const select = SELECT.exec(type);
    if (select) {
      this.readSelect(draft, select, name);
      return;
    }
    const osm = OSM.exec(type);
    if (osm) {
      cells.set('type', 'osm');
      draft.osmList = osm[2];
      this.append(draft);
      return;
    }
    switch (type) {
      case 'range':
        processRange(draft, this.ctx.choices);
        break;
      case 'text':
        processText(draft);
        break;
      case 'photo':
        processImage(draft, this.ctx.warnings);
        break;
      case 'audio':
        processAudio(draft, false);
        break;
      case 'background-audio':
        processAudio(draft, true);
        break;
      case 'geopoint':
      case 'geoshape':
      case 'geotrace':
        processGeo(draft, type, this.geoReferences);
        break;
      case 'start-geopoint':
        draft.actions.push({ name: 'odk:setgeopoint', event: 'odk-instance-first-load' });
        break;
      case 'background-geopoint':
        if (!text(cells, 'trigger')) {
          throw new XlsFormError('xlsform.bad_trigger', `${rowPrefix(row)} For 'background-geopoint' questions, the 'trigger' column must not be empty.`, { sheet: 'survey', row });
        }
        if (subMap(cells, 'bind')?.has('calculate')) {
          throw new XlsFormError('xlsform.bad_calculation', `${rowPrefix(row)} For 'background-geopoint' questions, the 'calculation' column must be empty.`, {
            sheet: 'survey',
            row,
          });
        }
        break;
      default:
        break;
    }
    this.append(draft);
  }

  private readSelect(draft: DraftRow, match: RegExpExecArray, name: string): void {
    const { cells, row } = draft;
    const { warnings, choices, externalChoices } = this.ctx;
    const command = match[1] ?? '';
    const selectType = SELECT_COMMANDS.get(command) ?? 'select one';
    const listName = match[2] ?? '';
    const orOther = match[4] !== undefined;
    if (selectType === 'select one external' && !cells.has('choice_filter')) {
      warnings.add('xlsform.external_without_filter', `${rowPrefix(row)} select one external is only meant for filtered selects.`, { sheet: 'survey', row });
    }
    const [instanceName, extension] = splitExt(listName);
    if (selectType === 'select one external') {
      if (!externalChoices) {
        const similar = sheetMisspellings('external_choices', this.ctx.sheetNames);
        const base = 'There should be an external_choices sheet in this xlsform.';
        throw new XlsFormError(
          'xlsform.missing_sheet',
          `${similar === undefined ? base : `${base} ${similar}`} Please ensure that the external_choices sheet has columns 'list name', and 'name'.`,
          { sheet: 'external_choices' },
        );
      }
      if (!externalChoices.has(listName)) {
        throw new XlsFormError('xlsform.unknown_list', `${rowPrefix(row)}List name not in external choices sheet: ${listName}`, { sheet: 'survey', row });
      }
    } else {
      this.secondaryInstances.add(instanceName);
    }
    if (SELECT_FROM_FILE_COMMANDS.has(command)) {
      const suffixes = pathSuffixes(listName);
      const last = suffixes[suffixes.length - 1] ?? '';
      if (suffixes.length !== 1 || !FILE_INSTANCE_EXTENSIONS.has(last)) {
        throw new XlsFormError(
          'xlsform.bad_file_name',
          `${rowPrefix(row)} File name for '${command} ${listName}' should end with one of the supported file extensions: ${[...FILE_INSTANCE_EXTENSIONS].map((e) => `'${e}'`).join(', ')}`,
          { sheet: 'survey', row },
        );
      }
    }
    const isFile = FILE_INSTANCE_EXTENSIONS.has(extension);
    const isReference = hasReference(listName);
    if (!choices.has(listName) && selectType !== 'select one external' && !isFile && !isReference) {
      if (choices.size === 0) {
        const similar = sheetMisspellings('choices', this.ctx.sheetNames);
        const base = 'There should be a choices sheet in this xlsform.';
        throw new XlsFormError(
          'xlsform.missing_sheet',
          `${similar === undefined ? base : `${base} ${similar}`} Please ensure that the choices sheet has the mandatory columns 'list_name', 'name', and 'label'.`,
          { sheet: 'choices' },
        );
      }
      throw new XlsFormError('xlsform.unknown_list', `${rowPrefix(row)} List name not in choices sheet: ${listName}`, { sheet: 'survey', row });
    }
    const list = choices.get(listName);
    if (selectType === 'select all that apply' && !isFile) {
      for (const choice of list ?? []) {
        const choiceName = text(choice, 'name') ?? '';
        if (choiceName.includes(' ')) {
          throw new XlsFormError(
            'xlsform.choice_name_with_space',
            `Choice names with spaces cannot be added to multiple choice selects. See [${choiceName}] in [${listName}]`,
            { sheet: 'choices' },
          );
        }
      }
    }
    let otherQuestion: DraftRow | undefined;
    if (orOther) {
      this.ctx.translations.orOtherSeen = true;
      if (text(cells, 'choice_filter')) {
        throw new XlsFormError('xlsform.or_other_with_filter', `${rowPrefix(row)} Choice filter not supported with or_other.`, { sheet: 'survey', row });
      }
      if (!list || list.length === 0) {
        throw new XlsFormError('xlsform.or_other_without_choices', `${rowPrefix(row)} Please specify choices for this 'or other' question.`, { sheet: 'survey', row });
      }
      addOtherChoice(list);
      otherQuestion = draftRow(
        new Map<string, string | CellMap>([
          ['type', 'text'],
          ['name', `${name}_other`],
          ['label', 'Specify other.'],
          ['bind', new Map([['relevant', `selected(../${name}, 'other')`]])],
        ]),
        row,
      );
    }
    cells.set('type', selectType);
    checkSelectParameters(draft, command === 'select_one_from_file' || command === 'select_multiple_from_file');
    this.addChoiceInfo(draft, selectType, listName, isFile || isReference);

    if (this.tableList !== null) this.addTableListHeader(draft, selectType, listName);
    this.append(draft);
    if (otherQuestion) this.append(otherQuestion);
  }

  private addChoiceInfo(draft: DraftRow, selectType: string, listName: string, externalItemset: boolean): void {
    const { cells, parameters } = draft;
    cells.set('itemset', listName);
    if (text(cells, 'choice_filter')) {
      if (selectType === 'select one external') cells.set('query', listName);
      else if (this.ctx.choices.get(listName)?.length) cells.set('list_name', listName);
    } else if (!(parameters.get('randomize') === 'true' || externalItemset)) {
      cells.set('list_name', listName);
    }
  }

  private addTableListHeader(draft: DraftRow, selectType: string, listName: string): void {
    const { cells, row } = draft;
    if (this.tableList === true) {
      this.tableList = listName;
      if (cells.has('choice_filter')) {
        throw new XlsFormError('xlsform.table_list_filter', `${rowPrefix(row)} Choice filter not supported for table-list appearance.`, { sheet: 'survey', row });
      }
      this.append(
        draftRow(
          new Map<string, string | CellMap>([
            ['type', selectType],
            ['name', `reserved_name_for_field_list_labels_${row}`],
            ['control', new Map([['appearance', 'label']])],
            ['itemset', listName],
          ]),
          row,
        ),
      );
    }
    if (this.tableList !== listName) {
      throw new XlsFormError('xlsform.table_list_mismatch', `${rowPrefix(row)} Badly formatted table list, list names don't match: ${this.tableList} vs. ${listName}`, {
        sheet: 'survey',
        row,
      });
    }
    ensureMap(cells, 'control').set('appearance', 'list-nolabel');
  }

  finish(): void {
    const { warnings, root, settings } = this.ctx;
    this.ctx.translations.warnOrOther(warnings);
    for (const [name, row] of this.triggerReferences) {
      if (!this.questionNames.has(name)) {
        throw new XlsFormError(
          'xlsform.unknown_reference',
          `[row : ${row}] On the 'survey' sheet, the 'trigger' value is invalid. Reference variables must contain a name from the 'survey' sheet. Could not find the name '${name}'.`,
          { sheet: 'survey', row },
        );
      }
    }
    checkReferenceGeometry(this.geoReferences, {
      instances: this.secondaryInstances,
      repeats: this.repeatNames,
      choiceLists: new Set(this.ctx.choices.keys()),
      entityLists: new Set(Object.keys(this.ctx.entities ?? {})),
    });
    if (this.stack.length > 1) {
      const frame = this.top;
      throw new XlsFormError(
        'xlsform.unmatched_begin',
        `${rowPrefix(frame.row ?? undefined)} Unmatched 'begin_${frame.controlType}'. No matching 'end_${frame.controlType}' was found for the name '${frame.controlName}'.`,
        { sheet: 'survey', row: frame.row ?? undefined },
      );
    }
    if (text(settings, 'flat')) markFlat(root.children, '');

    if (yesNo(text(settings, 'omit_instanceID'))) {
      if (text(settings, 'public_key')) {
        throw new XlsFormError('xlsform.omit_instance_id', 'Cannot omit instanceID, it is required for encryption.', { sheet: 'settings' });
      }
    } else {
      this.metaChildren.push(metaRow('instanceID', new Map([['readonly', 'true()'], ['jr:preload', text(settings, 'instance_id') ?? 'uid']])));
      this.elementNames.set('instanceID', (this.elementNames.get('instanceID') ?? 0) + 1);
    }
    const instanceName = settings.get('instance_name');
    if (instanceName !== undefined) this.metaChildren.push(metaRow('instanceName', new Map([['calculate', instanceName]])));

    this.entityTracker.inject(root);
    if (this.metaChildren.length > 0) {
      const existing = root.children.find((c): c is DraftSection => c.kind === 'group' && text(c.cells, 'name') === 'meta');
      if (existing) existing.children.push(...this.metaChildren);
      else root.children.push(metaGroup(this.metaChildren));
    }
  }
}

function addOtherChoice(list: CellMap[]): void {
  if (list.some((c) => text(c, 'name') === 'other')) return;
  const languages = new Set<string>();
  for (const choice of list) {
    const label = choice.get('label');
    if (label instanceof Map) for (const language of label.keys()) languages.add(language);
  }
  const label: string | CellMap = list.some((c) => c.get('label') instanceof Map) ? new Map([...languages].map((l) => [l, 'Other'])) : 'Other';
  list.push(new Map<string, string | CellMap>([['name', 'other'], ['label', label]]));
}

function metaRow(name: string, bind: CellMap): DraftRow {
  return draftRow(new Map<string, string | CellMap>([['name', name], ['bind', bind], ['type', 'calculate']]), 0);
}

/** The `flat` setting: groups lose their path step; their relevance is and-ed onto their children. */
function markFlat(nodes: DraftNode[], parentRelevant: string): void {
  for (const node of nodes) {
    if (node.kind === 'entity') continue;
    const own = text(subMap(node.cells, 'bind'), 'relevant') ?? '';
    let relevant = '';
    if (parentRelevant !== '') relevant = own !== '' ? `${parentRelevant} and (${own})` : parentRelevant;
    else if (own !== '') relevant = own;
    if (node.kind !== 'row' && node.children.length > 0) {
      node.flat = true;
      markFlat(node.children, relevant);
    } else if (relevant !== '') {
      ensureMap(node.cells, 'bind').set('relevant', relevant);
    }
  }
}
