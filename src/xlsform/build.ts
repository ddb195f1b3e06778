/*
 * Draft tree → form model. This is where a row's type is finally resolved against the
 * question-type table (so an unknown type is reported here, after all sheet checks, as
 * pyxform reports it), type defaults are merged under the row's own bind and body
 * attributes, loops are expanded once per choice, and choice lists get their final shape.
 */
import type { DraftNode, DraftRow, DraftSection } from './draft.js';
import type { EntityDeclaration } from './entities.js';
import { hasReference } from './expression.js';
import { XlsFormError } from './issues.js';
import type { Choice, ChoiceList, EntityAttribute, EntityLabel, FormElement, FormModel, FormSettings, OsmTag, Question, Section } from './model.js';
import { addChild, descendants, isSection } from './model.js';
import type { DraftForm } from './parse.js';
import { pyRepr } from './python.js';
import type { Cell, CellMap } from './sheets.js';
import { subMap, text } from './sheets.js';
import { EXTERNAL_INSTANCE_TYPES, QUESTION_TYPES } from './vocabulary.js';

const CHOICE_FIELDS = new Set(['name', 'label', 'media', 'sms_option']);

function buildChoiceList(name: string, rows: CellMap[]): ChoiceList {
  const options = rows.map((row): Choice => {
    const choice: Choice = { name: text(row, 'name') ?? '', extra: new Map() };
    const label = row.get('label');
    if (label !== undefined) choice.label = label;
    const media = subMap(row, 'media');
    if (media) choice.media = media;
    const sms = text(row, 'sms_option');
    if (sms !== undefined) choice.smsOption = sms;
    for (const [key, value] of row) if (!CHOICE_FIELDS.has(key)) choice.extra.set(key, value);
    return choice;
  });
  const requiresItext = options.some(
    (o) => (o.media !== undefined && o.media.size > 0) || o.label instanceof Map || (typeof o.label === 'string' && hasReference(o.label)),
  );
  return { name, options, requiresItext, usedBySearch: false };
}

function readSettings(cells: CellMap, defaultLanguage: string): FormSettings {
  const str = (key: string): string | undefined => text(cells, key) || undefined;
  const settings: FormSettings = {
    title: text(cells, 'title') ?? text(cells, 'name') ?? 'data',
    idString: text(cells, 'id_string') ?? '',
    defaultLanguage,
    clientEditable: text(cells, 'client_editable') === 'true',
  };
  const optional: Array<[keyof FormSettings, string]> = [
    ['version', 'version'],
    ['style', 'style'],
    ['submissionUrl', 'submission_url'],
    ['publicKey', 'public_key'],
    ['autoSend', 'auto_send'],
    ['autoDelete', 'auto_delete'],
    ['namespaces', 'namespaces'],
    ['instanceXmlns', 'instance_xmlns'],
    ['prefix', 'prefix'],
    ['delimiter', 'delimiter'],
  ];
  for (const [field, key] of optional) {
    const value = str(key);
    if (value !== undefined) (settings as unknown as Record<string, string>)[field] = value;
  }
  const attributes = subMap(cells, 'attribute');
  if (attributes) settings.rootAttributes = attributes;
  const entityVersion = text(cells, 'entity_version');
  if (entityVersion === '2024.1.0' || entityVersion === '2025.1.0') settings.entityVersion = entityVersion;
  return settings;
}

export function buildForm(draft: DraftForm): FormModel {
  const choices = new Map<string, ChoiceList>();
  for (const [name, rows] of draft.choices) choices.set(name, buildChoiceList(name, rows));
  const builder = new Builder(draft);
  const survey: Section = { kind: 'survey', name: text(draft.root.cells, 'name') ?? 'data', parent: null, children: [] };
  const rootAttributes = subMap(draft.root.cells, 'instance');
  if (rootAttributes) survey.instanceAttributes = rootAttributes;
  builder.addChildren(survey, draft.root.children);
  checkNames(survey);
  return {
    survey,
    settings: readSettings(draft.root.cells, draft.defaultLanguage),
    choices,
    setvalueTriggers: builder.setvalueTriggers,
    setgeopointTriggers: builder.setgeopointTriggers,
  };
}

/** Loops copy their rows once per choice; this bounds what a hostile form can make us build. */
export const MAX_ELEMENTS = 500_000;

class Builder {
  private built = 0;
  readonly setvalueTriggers = new Map<string, Array<[string, string]>>();
  readonly setgeopointTriggers = new Map<string, Array<[string, string]>>();
  private readonly addNoneOption: boolean;

  constructor(private readonly draft: DraftForm) {
    this.addNoneOption = text(draft.root.cells, 'add_none_option') === 'true';
  }

  addChildren(parent: Section, nodes: DraftNode[]): void {
    for (const node of nodes) {
      const element = this.build(node);
      if (element) addChild(parent, element);
    }
  }

  private build(node: DraftNode): FormElement | null {
    this.built += 1;
    if (this.built > MAX_ELEMENTS) {
      throw new XlsFormError(
        'xlsform.too_large',
        `The form would have more than ${MAX_ELEMENTS} questions and groups once loops are expanded. Split the form or shorten the loop's choice list.`,
        { sheet: 'survey' },
      );
    }
    if (node.kind === 'entity') return buildEntity(node.declaration);
    if (node.kind === 'row') return this.buildRow(node);
    if (node.kind === 'loop') return this.buildLoop(node);
    const section = sectionFrom(node, node.kind === 'survey' ? 'group' : node.kind);
    this.addChildren(section, node.children);
    return section;
  }

  private buildLoop(node: DraftSection): Section {
    const loop = sectionFrom(node, 'loop');
    for (const column of node.loopColumns ?? []) {
      if (text(column, 'name') === 'none') continue;
      const group: Section = { kind: 'group', name: text(column, 'name') ?? '', parent: null, children: [] };
      applyCommon(group, column);
      for (const child of node.children) {
        const element = this.build(substitute(child, column));
        if (element) addChild(group, element);
      }
      addChild(loop, group);
    }
    return loop;
  }

  private buildRow(draft: DraftRow): FormElement | null {
    const { cells } = draft;
    const type = text(cells, 'type') ?? '';
    const name = text(cells, 'name') ?? '';
    if (type === 'include') throw new XlsFormError('xlsform.include_unsupported', 'This section has not been included.', { sheet: 'survey', row: draft.row });
    if (EXTERNAL_INSTANCE_TYPES.has(type)) return { kind: 'external', type, name, parent: null, row: draft.row };
    this.saveTriggers(draft, type, name);
    const spec = QUESTION_TYPES.get(type);
    if (!spec) throw new XlsFormError('xlsform.unknown_type', `Unknown question type '${type}'.`, { sheet: 'survey', row: draft.row });
    if (this.addNoneOption && type.startsWith('select all that apply')) this.addNone(draft);

    const question: Question = {
      kind: 'question',
      name,
      parent: null,
      row: draft.row,
      type,
      spec,
      dynamicDefault: draft.dynamicDefault,
      parameters: draft.parameters,
      actions: draft.actions,
    };
    applyCommon(question, cells);
    question.bind = withDefaults(spec.bind, subMap(cells, 'bind'));
    question.control = withDefaults(spec.control, subMap(cells, 'control'));
    if (question.hint === undefined && spec.hint !== undefined) question.hint = spec.hint;
    const optional: Array<[keyof Question, string]> = [
      ['default', 'default'],
      ['choiceFilter', 'choice_filter'],
      ['itemset', 'itemset'],
      ['listName', 'list_name'],
      ['query', 'query'],
    ];
    for (const [field, key] of optional) {
      const value = text(cells, key);
      if (value) (question as unknown as Record<string, string>)[field] = value;
    }
    if (draft.trigger) question.trigger = draft.trigger;
    if (draft.osmList !== undefined) question.osmTags = this.osmTags(draft.osmList);
    if (text(question.control, 'appearance') === 'label' && !question.label) question.label = ' ';
    return question;
  }

  private saveTriggers(draft: DraftRow, type: string, name: string): void {
    const value = text(subMap(draft.cells, 'bind'), 'calculate') ?? '';
    const targets = type === 'background-geopoint' ? this.setgeopointTriggers : this.setvalueTriggers;
    for (const trigger of draft.trigger ?? []) targets.set(trigger, [...(targets.get(trigger) ?? []), [name, value]]);
  }

  /** The old `add_none_option` setting: only its constraint survives into the XForm. */
  private addNone(draft: DraftRow): void {
    const list = this.draft.choices.get(text(draft.cells, 'itemset') ?? '');
    if (!list || list.length === 0) throw new XlsFormError('xlsform.no_choices', 'There should be choices for this question.', { sheet: 'survey', row: draft.row });
    const hasNone = list.some((c) => c.size === 2 && text(c, 'name') === 'none' && text(c, 'label') === 'None');
    if (hasNone) return;
    list.push(new Map([['name', 'none'], ['label', 'None']]));
    const none = "(.='none' or not(selected(., 'none')))";
    const bind = subMap(draft.cells, 'bind') ?? new Map<string, Cell>();
    draft.cells.set('bind', bind);
    const constraint = text(bind, 'constraint');
    bind.set('constraint', constraint !== undefined ? `${constraint} and ${none}` : none);
  }

  private osmTags(listName: string): OsmTag[] | undefined {
    const rows = this.draft.osmLists.get(listName);
    if (!rows) return undefined;
    return rows.map((row) => {
      const tag: OsmTag = { name: text(row, 'name') ?? '' };
      const label = row.get('label');
      if (label !== undefined) tag.label = label;
      return tag;
    });
  }
}

/**
 * Names must stay unique per section and repeats unique in the form after generated rows
 * (`_other`, `_count`) and loop copies are in place; the rows are gone by now, so the
 * messages say "unknown", as pyxform's do.
 */
function checkNames(survey: Section): void {
  const checkSection = (section: Section): void => {
    for (const child of section.children) if (isSection(child)) checkSection(child);
    const seen = new Set<string>();
    for (const child of section.children) {
      if (!child.name) continue;
      if (seen.has(child.name)) {
        throw new XlsFormError(
          child.name === 'meta' ? 'xlsform.reserved_name' : 'xlsform.duplicate_name',
          child.name === 'meta'
            ? "[row : unknown] On the 'survey' sheet, the 'name' value 'meta' is invalid. The name 'meta' is reserved for form metadata."
            : `[row : unknown] On the 'survey' sheet, the 'name' value '${child.name}' is invalid. Questions, groups, and repeats must be unique within their nearest parent group or repeat, or the survey if not inside a group or repeat.`,
          { sheet: 'survey' },
        );
      }
      seen.add(child.name);
    }
  };
  checkSection(survey);
  const repeats = new Set<string>();
  for (const element of descendants(survey)) {
    if (element.kind !== 'repeat') continue;
    const detail =
      element.name === survey.name
        ? "Repeat names must not be the same as the survey root (which defaults to 'data')."
        : repeats.has(element.name)
          ? 'Repeat names must unique anywhere in the survey, at all levels of group or repeat nesting.'
          : undefined;
    if (detail) {
      throw new XlsFormError('xlsform.duplicate_name', `[row : unknown] On the 'survey' sheet, the 'name' value '${element.name}' is invalid. ${detail}`, { sheet: 'survey' });
    }
    repeats.add(element.name);
  }
}

function sectionFrom(node: DraftSection, kind: Section['kind']): Section {
  const section: Section = { kind, name: text(node.cells, 'name') ?? '', parent: null, children: [] };
  if (node.row !== undefined) section.row = node.row;
  applyCommon(section, node.cells);
  const bind = subMap(node.cells, 'bind');
  if (bind && bind.size > 0) section.bind = bind;
  const control = subMap(node.cells, 'control');
  if (node.bodyless) section.control = new Map([['bodyless', 'true']]);
  else if (control && control.size > 0) section.control = control;
  if (node.flat) section.flat = true;
  if (text(section.control, 'appearance') === 'label' && !section.label) section.label = ' ';
  return section;
}

/** Label, hint, media and instance attributes, shared by every element kind. */
function applyCommon(element: FormElement, cells: CellMap): void {
  const label = cells.get('label');
  if (label !== undefined && label !== '') element.label = label;
  const hint = cells.get('hint');
  if (hint !== undefined && hint !== '') element.hint = hint;
  const guidance = cells.get('guidance_hint');
  if (guidance !== undefined && guidance !== '') element.guidanceHint = guidance;
  const media = cells.get('media');
  if (media !== undefined && media !== '' && !(media instanceof Map && media.size === 0)) element.media = media;
  const instance = subMap(cells, 'instance');
  if (instance && instance.size > 0) element.instanceAttributes = instance;
}

function withDefaults(defaults: Readonly<Record<string, string>> | undefined, own: CellMap | undefined): CellMap | undefined {
  if (!defaults) return own && own.size > 0 ? own : undefined;
  const merged: CellMap = new Map(Object.entries(defaults));
  for (const [key, value] of own ?? []) merged.set(key, value);
  return merged;
}

function buildEntity(declaration: EntityDeclaration): Section {
  const entity: Section = { kind: 'entity', name: 'entity', parent: null, children: [] };
  for (const spec of declaration.attributes) {
    const attribute: EntityAttribute = { kind: 'attribute', name: spec.name, parent: null, value: spec.value, actions: spec.actions };
    if (spec.bind) attribute.bind = spec.bind;
    addChild(entity, attribute);
  }
  if (declaration.label !== undefined) {
    const label: EntityLabel = {
      kind: 'entity-label',
      name: 'label',
      parent: null,
      bind: new Map([['calculate', declaration.label], ['readonly', 'true()'], ['type', 'string']]),
    };
    addChild(entity, label);
  }
  return entity;
}

/** Python's `template % mapping` for the `%(name)s` placeholders loops use. */
function percentFormat(template: string, mapping: CellMap): string {
  return template.replace(/%\((\w+)\)s|%%/g, (match, key: string | undefined) => {
    if (key === undefined) return '%';
    const value = mapping.get(key);
    if (value === undefined) return match;
    return typeof value === 'string' ? value : pyRepr(value);
  });
}

/** A copy of a loop child with `%(name)s` and `%(label)s` filled in for one choice. */
function substitute(node: DraftNode, column: CellMap): DraftNode {
  if (node.kind !== 'row') return node;
  const columnLabel = column.get('label');
  const perLanguage = (language: string): CellMap => {
    if (!(columnLabel instanceof Map)) return column;
    const label = columnLabel.get(language);
    return label === undefined ? column : new Map<string, Cell>([['name', column.get('name') ?? ''], ['label', label]]);
  };
  const cells: CellMap = new Map();
  for (const [key, value] of node.cells) {
    if (typeof value === 'string') {
      cells.set(key, percentFormat(value, column));
    } else {
      const nested: CellMap = new Map();
      for (const [inner, innerValue] of value) {
        nested.set(inner, typeof innerValue === 'string' ? percentFormat(innerValue, perLanguage(inner)) : innerValue);
      }
      cells.set(key, nested);
    }
  }
  return { ...node, cells, actions: node.actions.map((a) => ({ ...a })) };
}
