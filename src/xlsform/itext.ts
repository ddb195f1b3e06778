/*
 * Translations (itext). Collected in pyxform's order: choice labels and media first,
 * then each element's messages, labels, hints and guidance hints, then element media.
 * Every language then gets every text id (missing texts become "-"), so no language
 * silently falls back to another.
 */
import { hasReference } from './expression.js';
import { XlsFormError } from './issues.js';
import type { ChoiceList, FormElement, FormModel, Question, Section } from './model.js';
import { descendants, isSection } from './model.js';
import type { LabelPart, PathResolver } from './paths.js';
import { splitExt } from './python.js';
import type { Cell, CellMap } from './sheets.js';
import { FILE_INSTANCE_EXTENSIONS, MEDIA_TYPES } from './vocabulary.js';
import type { XmlElement, XmlNode } from './xml.js';
import { el } from './xml.js';

/** A text to translate and the element whose references it resolves against. */
interface Entry {
  text: string;
  context: FormElement | null;
}

type TextForms = Map<string, Entry>;

/** language → text id → form (long, guidance, image, …) → text. */
export type Translations = Map<string, Map<string, TextForms>>;

function formsFor(translations: Translations, language: string, id: string): TextForms {
  let byId = translations.get(language);
  if (!byId) {
    byId = new Map();
    translations.set(language, byId);
  }
  let forms = byId.get(id);
  if (!forms) {
    forms = new Map();
    byId.set(id, forms);
  }
  return forms;
}

/** A translatable cell as language → text; a plain value belongs to the default language. */
function byLanguage(value: Cell, defaultLanguage: string): Array<[string, Cell]> {
  return value instanceof Map ? [...value] : [[defaultLanguage, value]];
}

function addChoiceTexts(translations: Translations, choices: Map<string, ChoiceList>, defaultLanguage: string): void {
  for (const [name, list] of choices) {
    if (!list.requiresItext) continue;
    list.options.forEach((option, index) => {
      const id = `${name}-${index}`;
      if (option.label) {
        for (const [language, value] of byLanguage(option.label, defaultLanguage)) {
          if (typeof value === 'string') formsFor(translations, language, id).set('long', { text: value, context: null });
          else for (const [innerLanguage, inner] of value) if (typeof inner === 'string') formsFor(translations, innerLanguage, id).set(language, { text: inner, context: null });
        }
      }
      for (const [mediaType, value] of option.media ?? []) {
        for (const [language, file] of byLanguage(value, defaultLanguage)) {
          if (typeof file === 'string') formsFor(translations, language, id).set(mediaType, { text: file, context: null });
        }
      }
    });
  }
}

const SEARCH_APPEARANCE = /search\(.*?\)/;

/**
 * Selects with a `search()` appearance list their options inline, so their list gets no
 * secondary instance. A list cannot be shared between search and non-search selects.
 */
function markSearchLists(model: FormModel, searchSelects: Set<Question>): void {
  const search: Array<[string, string | undefined]> = [];
  const other: Array<[string, string | undefined]> = [];
  for (const element of descendants(model.survey)) {
    if (element.kind !== 'question' || !isSelect(element)) continue;
    const appearance = element.control?.get('appearance');
    const isSearch = typeof appearance === 'string' && appearance.length > 7 && SEARCH_APPEARANCE.test(appearance);
    if (!isSearch) {
      other.push([element.name, element.listName]);
      continue;
    }
    const extension = splitExt(element.itemset ?? '')[1];
    if (extension && FILE_INSTANCE_EXTENSIONS.has(extension)) {
      throw new XlsFormError(
        'xlsform.search_from_file',
        `Question '${element.name}' is a select from file type, using 'search()'. This combination is not supported. Remove the 'search()' usage, or change the select type.`,
        { sheet: 'survey', row: element.row },
      );
    }
    const list = model.choices.get(element.itemset ?? '');
    if (list) list.usedBySearch = true;
    searchSelects.add(element);
    search.push([element.name, element.listName]);
  }
  for (const [name, listName] of search) {
    const others = other.filter(([, l]) => l === listName).map(([q]) => `'${q}'`);
    if (others.length === 0) continue;
    throw new XlsFormError(
      'xlsform.search_list_shared',
      `Question '${name}' uses 'search()', and its select type references the choice list name '${listName}'. This choice list name is referenced by at least one other question that is not using 'search()', which will not work: ${others.join(', ')}. Either 1) use 'search()' for all questions using this choice list name, or 2) use a different choice list name for the question using 'search()'.`,
    );
  }
}

export function isSelect(question: Question): boolean {
  const tag = question.spec?.control?.['tag'];
  return tag === 'select' || tag === 'select1' || tag === 'odk:rank';
}

/** Does the element's label go through itext (translated, or carrying media)? */
export function needsItext(element: FormElement): boolean {
  return element.label instanceof Map || (element.media instanceof Map && element.media.size > 0);
}

function addElementTexts(translations: Translations, element: FormElement, paths: PathResolver, defaultLanguage: string): void {
  const base = paths.xpath(element);
  const add = (id: string, form: string, value: Cell): void => {
    for (const [language, text] of byLanguage(value, defaultLanguage)) {
      if (typeof text === 'string') formsFor(translations, language, id).set(form, { text, context: element });
    }
  };
  const bind = element.bind;
  for (const key of ['jr:constraintMsg', 'jr:requiredMsg', 'jr:noAppErrorString']) {
    const message = bind?.get(key);
    if (message instanceof Map || (key !== 'jr:noAppErrorString' && typeof message === 'string' && hasReference(message))) {
      add(`${base}:${key}`, 'long', message as Cell);
    }
  }
  const guidance = element.guidanceHint;
  const hasGuidance = guidance !== undefined && (guidance instanceof Map ? guidance.size > 0 : guidance.length > 0);
  const displays: Array<[string, Cell | undefined, boolean]> = [
    ['label', element.label, needsItext(element) && !!element.label],
    ['hint', element.hint, hasGuidance && typeof element.hint === 'string' && element.hint.length > 0],
    ['guidance_hint', guidance, hasGuidance],
  ];
  for (const [display, value, forceItext] of displays) {
    if (value === undefined || !(value instanceof Map || forceItext)) continue;
    let id = `${base}:${display}`;
    let form = 'long';
    if (id.includes('guidance_hint')) {
      id = id.replaceAll('guidance_hint', 'hint');
      form = 'guidance';
    }
    add(id, form, value);
  }
}

function addMedia(translations: Translations, element: FormElement, paths: PathResolver, defaultLanguage: string): void {
  if (!(element.media instanceof Map) || element.media.size === 0) return;
  let media: CellMap = element.media;
  const nestedDefault = media.get('default');
  if (nestedDefault instanceof Map) media = nestedDefault;
  const id = `${paths.xpath(element)}:label`;
  for (const [mediaType, value] of media) {
    if (!MEDIA_TYPES.has(mediaType)) throw new XlsFormError('xlsform.unsupported_media', `Media type: ${mediaType} not supported`);
    for (const [language, file] of byLanguage(value, defaultLanguage)) {
      if (typeof file === 'string') formsFor(translations, language, id).set(mediaType, { text: file, context: null });
    }
  }
}

function fillMissing(translations: Translations): void {
  const allForms = new Map<string, string[]>();
  for (const byId of translations.values()) {
    for (const [id, forms] of byId) {
      const known = allForms.get(id) ?? [];
      for (const form of forms.keys()) if (!known.includes(form)) known.push(form);
      allForms.set(id, known);
    }
  }
  for (const language of translations.keys()) {
    for (const [id, forms] of allForms) {
      const own = formsFor(translations, language, id);
      for (const form of forms) if (!own.has(form)) own.set(form, { text: '-', context: null });
    }
  }
}

export function collectTranslations(model: FormModel, paths: PathResolver, searchSelects: Set<Question>): Translations {
  const { defaultLanguage } = model.settings;
  const translations: Translations = new Map();
  addChoiceTexts(translations, model.choices, defaultLanguage);
  const elements = [...descendants(model.survey)].filter((e): e is Question | Section => e.kind === 'question' || isSection(e));
  markSearchLists(model, searchSelects);
  for (const element of elements) addElementTexts(translations, element, paths, defaultLanguage);
  for (const element of elements) addMedia(translations, element, paths, defaultLanguage);
  fillMissing(translations);
  return translations;
}

export function partsToNodes(parts: LabelPart[]): XmlNode[] {
  return parts.map((part) => (typeof part === 'string' ? part : el('output', { value: part.output })));
}

export function itextElement(translations: Translations, defaultLanguage: string, paths: PathResolver): XmlElement {
  const languages: XmlElement[] = [];
  for (const [language, byId] of translations) {
    const texts: XmlElement[] = [];
    for (const [id, forms] of byId) {
      const kind = id.includes(':') ? id.slice(id.indexOf(':') + 1) : '';
      const values: XmlElement[] = [];
      for (const [form, entry] of forms) {
        const parts = paths.labelParts(entry.text, entry.context);
        if (kind === 'hint') {
          values.push(el('value', form === 'guidance' ? { form: 'guidance' } : {}, partsToNodes(parts)));
        } else if (form === 'long') {
          values.push(el('value', {}, partsToNodes(parts)));
        } else if (entry.text !== '-') {
          const prefix = form === 'image' || form === 'big-image' ? 'jr://images/' : `jr://${form}/`;
          values.push(el('value', { form }, partsToNodes([prefix, ...parts])));
        }
      }
      texts.push(el('text', { id }, values));
    }
    languages.push(el('translation', language === defaultLanguage ? { lang: language, default: 'true()' } : { lang: language }, texts));
  }
  return el('itext', {}, languages);
}
