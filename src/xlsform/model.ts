/*
 * The normalised form model: what the workbook means, independent of spreadsheet layout.
 * The parser builds it and validates as it goes; the XForm writer only reads it.
 *
 * Translatable values (labels, hints, media, messages) keep pyxform's shape: a plain
 * string, or a map from language to text.
 */
import type { Cell, CellMap } from './sheets.js';
import type { QuestionTypeSpec } from './vocabulary.js';

export interface Action {
  /** `setvalue`, `odk:setgeopoint` or `odk:recordaudio`. */
  name: string;
  event: 'odk-instance-first-load' | 'odk-instance-load' | 'odk-new-repeat' | 'xforms-value-changed';
  value?: string;
  quality?: string;
}

interface ElementBase {
  name: string;
  parent: Section | null;
  /** Spreadsheet row on the survey sheet, when the element came from one. */
  row?: number;
  label?: Cell;
  hint?: Cell;
  guidanceHint?: Cell;
  /** Media files by type (`image`, `audio`, …); a bare `media` column leaves plain text here. */
  media?: Cell;
  /** Bind attributes by name (`relevant`, `jr:constraintMsg`, …), in column order. */
  bind?: CellMap;
  /** Body attributes by name; `tag` names the body element. */
  control?: CellMap;
  /** Extra attributes for the element's node in the primary instance. */
  instanceAttributes?: CellMap;
  /** Flat groups (the old `flat` setting) add no path step and no bind. */
  flat?: boolean;
}

export interface Section extends ElementBase {
  kind: 'survey' | 'group' | 'repeat' | 'loop' | 'entity';
  children: FormElement[];
}

export interface Choice {
  name: string;
  label?: Cell;
  media?: CellMap;
  smsOption?: string;
  /** Other columns of the choices sheet, written into each item (used by choice filters). */
  extra: CellMap;
}

export interface ChoiceList {
  name: string;
  options: Choice[];
  /** Labels are translated, carry media or references, so items point into itext. */
  requiresItext: boolean;
  /** Used by a select with a `search()` appearance: items go inline in the body. */
  usedBySearch: boolean;
}

export interface OsmTag {
  name: string;
  label?: Cell;
}

export interface Question extends ElementBase {
  kind: 'question';
  /** The normalised type, a key of QUESTION_TYPES once validated. */
  type: string;
  spec: QuestionTypeSpec | undefined;
  default?: string;
  dynamicDefault: boolean;
  trigger?: string[];
  choiceFilter?: string;
  parameters: Map<string, string>;
  /** Choice list name, file name, or `${repeat}` reference the options come from. */
  itemset?: string;
  listName?: string;
  /** select_one_external: the list queried in the external itemsets file. */
  query?: string;
  actions: Action[];
  osmTags?: OsmTag[];
}

export interface EntityAttribute extends ElementBase {
  kind: 'attribute';
  value: string;
  actions: Action[];
}

export interface EntityLabel extends ElementBase {
  kind: 'entity-label';
}

export interface ExternalInstance extends ElementBase {
  kind: 'external';
  type: string;
}

export type FormElement = Section | Question | EntityAttribute | EntityLabel | ExternalInstance;

export interface FormSettings {
  title: string;
  idString: string;
  defaultLanguage: string;
  version?: string;
  style?: string;
  submissionUrl?: string;
  publicKey?: string;
  autoSend?: string;
  autoDelete?: string;
  clientEditable: boolean;
  namespaces?: string;
  instanceXmlns?: string;
  prefix?: string;
  delimiter?: string;
  /** `attribute::name` settings: extra attributes on the instance root. */
  rootAttributes?: CellMap;
  entityVersion?: '2024.1.0' | '2025.1.0';
}

export interface FormModel {
  survey: Section;
  settings: FormSettings;
  choices: Map<string, ChoiceList>;
  /** Triggering question name → [target question name, calculation]. */
  setvalueTriggers: Map<string, Array<[string, string]>>;
  setgeopointTriggers: Map<string, Array<[string, string]>>;
}

export function isSection(element: FormElement | null | undefined): element is Section {
  return element !== null && element !== undefined && (element.kind === 'survey' || element.kind === 'group' || element.kind === 'repeat' || element.kind === 'loop' || element.kind === 'entity');
}

export function* descendants(element: FormElement): Generator<FormElement> {
  yield element;
  if (isSection(element)) for (const child of element.children) yield* descendants(child);
}

export function* ancestors(element: FormElement): Generator<Section> {
  for (let current = element.parent; current !== null; current = current.parent) yield current;
}

export function addChild(parent: Section, child: FormElement): void {
  child.parent = parent;
  parent.children.push(child);
}
