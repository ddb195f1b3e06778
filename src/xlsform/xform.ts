/*
 * Form model → XForm XML, in pyxform's document order: title; model (submission, itext,
 * primary instance, secondary instances, binds with model-level actions); body.
 *
 * The primary instance holds one node per field; each repeat gets a `jr:template` copy
 * followed by one initial instance. Binds and model actions follow the element tree in
 * order. The body nests groups and repeats; repeat-scoped dynamic defaults are re-run on
 * `odk-new-repeat` inside the repeat.
 */
import { hasLastSavedReference, hasReference, isDynamicDefault } from './expression.js';
import { XlsFormError } from './issues.js';
import { collectTranslations, isSelect, itextElement, needsItext, partsToNodes } from './itext.js';
import type { Translations } from './itext.js';
import { isKnownLanguageSubtag } from './language-subtags.js';
import type { Action, ChoiceList, EntityAttribute, FormElement, FormModel, Question, Section } from './model.js';
import { ancestors, descendants, isSection } from './model.js';
import { LAST_SAVED_INSTANCE, PathResolver } from './paths.js';
import { pyRepr, splitExt } from './python.js';
import type { Cell } from './sheets.js';
import { text } from './sheets.js';
import { BOOLEAN_BIND_ATTRIBUTES, FILE_INSTANCE_EXTENSIONS, xpathBoolean } from './vocabulary.js';
import type { XmlElement } from './xml.js';
import { el, setAttribute } from './xml.js';

const NAMESPACES: Array<[string, string]> = [
  ['xmlns', 'http://www.w3.org/2002/xforms'],
  ['xmlns:h', 'http://www.w3.org/1999/xhtml'],
  ['xmlns:ev', 'http://www.w3.org/2001/xml-events'],
  ['xmlns:xsd', 'http://www.w3.org/2001/XMLSchema'],
  ['xmlns:jr', 'http://openrosa.org/javarosa'],
  ['xmlns:orx', 'http://openrosa.org/xforms'],
  ['xmlns:odk', 'http://www.opendatakit.org/xforms'],
];

const PULLDATA_BIND_KEYS = ['calculate', 'constraint', 'readonly', 'required', 'relevant'];

interface SecondaryInstance {
  kind: 'choice' | 'external' | 'pulldata' | 'file' | 'instance';
  name: string;
  src?: string;
  context: string;
  node: XmlElement;
}

export interface XFormResult {
  root: XmlElement;
  /** Languages whose names lack a valid `(code)`. */
  badLanguages: string[];
}

export function writeXForm(model: FormModel): XFormResult {
  return new XFormWriter(model).write();
}

function cellText(value: Cell): string {
  return typeof value === 'string' ? value : pyRepr(value);
}

class XFormWriter {
  private readonly paths: PathResolver;
  private readonly searchSelects = new Set<Question>();

  constructor(private readonly model: FormModel) {
    this.paths = new PathResolver(model.survey);
  }

  write(): XFormResult {
    const { settings } = this.model;
    if (settings.idString === '' || settings.idString === 'None') throw new XlsFormError('xlsform.missing_form_id', 'Survey cannot have an empty id_string');
    const translations = collectTranslations(this.model, this.paths, this.searchSelects);
    const model = this.modelElement(translations);
    const body = el('h:body', settings.style ? { class: settings.style } : {}, this.controls(this.model.survey));
    const root = el('h:html', {}, [el('h:head', {}, [el('h:title', {}, [settings.title]), model]), body]);
    for (const [key, value] of this.namespaces()) root.attributes.push([key, value]);
    return { root, badLanguages: badLanguages([...translations.keys()]) };
  }

  private namespaces(): Array<[string, string]> {
    const { settings } = this.model;
    let declared = settings.namespaces;
    if (settings.entityVersion) declared = `${declared ?? ''} entities=http://www.opendatakit.org/xforms/entities`;
    const result = [...NAMESPACES];
    for (const pair of (declared ?? '').split(/\s+/).filter(Boolean)) {
      const parts = pair.split('=');
      if (parts.length !== 2 || parts[0] === '') continue;
      const key = `xmlns:${parts[0]}`;
      if (!result.some(([k]) => k === key)) result.push([key, (parts[1] ?? '').replace(/["']/g, '')]);
    }
    return result;
  }

  private modelElement(translations: Translations): XmlElement {
    const { settings } = this.model;
    const children: XmlElement[] = [];
    const submission = this.submission();
    if (submission) children.push(submission);
    if (translations.size > 0) children.push(itextElement(translations, settings.defaultLanguage, this.paths));
    children.push(el('instance', {}, [this.primaryInstance()]));
    children.push(...this.secondaryInstances());
    children.push(...this.bindings());
    const attributes: Record<string, string | undefined> = { 'odk:xforms-version': '1.0.0', 'entities:entities-version': settings.entityVersion };
    return el('model', attributes, children);
  }

  private submission(): XmlElement | undefined {
    const { submissionUrl, publicKey, autoSend, autoDelete, clientEditable } = this.model.settings;
    if (!submissionUrl && !publicKey && !autoSend && !autoDelete && !clientEditable) return undefined;
    return el('submission', {
      action: submissionUrl,
      method: submissionUrl ? 'post' : undefined,
      base64RsaPublicKey: publicKey,
      'orx:auto-send': autoSend,
      'orx:auto-delete': autoDelete,
      'odk:client-editable': clientEditable ? 'true' : undefined,
    });
  }

  // ---- primary instance -------------------------------------------------------------

  private primaryInstance(): XmlElement {
    const { survey, settings } = this.model;
    const root = this.sectionInstance(survey, false, {});
    for (const [key, value] of settings.rootAttributes ?? []) setAttribute(root, key, cellText(value));
    setAttribute(root, 'id', settings.idString);
    if (settings.instanceXmlns) setAttribute(root, 'xmlns', settings.instanceXmlns);
    if (settings.version) setAttribute(root, 'version', settings.version);
    if (settings.prefix) setAttribute(root, 'odk:prefix', settings.prefix);
    if (settings.delimiter) setAttribute(root, 'odk:delimiter', settings.delimiter);
    return root;
  }

  private instanceAttributes(element: FormElement, into: XmlElement): void {
    for (const [key, value] of element.instanceAttributes ?? []) setAttribute(into, key, this.paths.expand(cellText(value), element));
  }

  /**
   * pyxform's template rule: outside a repeat's own first copy, each repeat is written as a
   * `jr:template` copy followed by the initial copy; inside that first copy, nested repeats
   * are written once, without a template.
   */
  private sectionInstance(section: Section, inFirstCopy: boolean, extra: Record<string, string>): XmlElement {
    const node = el(section.name, extra);
    this.instanceAttributes(section, node);
    this.appendInstanceChildren(section, node, inFirstCopy);
    return node;
  }

  private appendInstanceChildren(section: Section, node: XmlElement, inFirstCopy: boolean): void {
    for (const child of section.children) {
      if (isSection(child) && child.flat) {
        node.children.push(...this.flatInstances(child));
        continue;
      }
      if (child.kind === 'external') continue;
      if (child.kind === 'attribute') {
        setAttribute(node, child.name, child.value);
        continue;
      }
      if (child.kind === 'repeat' && !inFirstCopy) {
        node.children.push(this.templateInstance(child));
        node.children.push(this.elementInstance(child, true));
        continue;
      }
      node.children.push(this.elementInstance(child, inFirstCopy));
    }
  }

  private elementInstance(element: FormElement, inFirstCopy: boolean): XmlElement {
    if (isSection(element)) return this.sectionInstance(element, inFirstCopy, {});
    if (element.kind === 'question') return this.questionInstance(element);
    return el(element.name);
  }

  private templateInstance(section: Section): XmlElement {
    const node = el(section.name, { 'jr:template': '' });
    for (const child of section.children) {
      if (child.kind === 'repeat') node.children.push(this.templateInstance(child));
      else if (child.kind === 'attribute') setAttribute(node, child.name, child.value);
      else if (child.kind !== 'external') node.children.push(this.elementInstance(child, false));
    }
    return node;
  }

  private flatInstances(section: Section): XmlElement[] {
    return section.children.flatMap((child) => (isSection(child) && child.flat ? this.flatInstances(child) : [this.elementInstance(child, false)]));
  }

  private questionInstance(question: Question): XmlElement {
    const staticDefault = question.default && !isDynamicDefault(question.default, question.type) ? question.default : undefined;
    const node = el(question.name, {}, staticDefault !== undefined ? [staticDefault] : []);
    this.instanceAttributes(question, node);
    return node;
  }

  // ---- secondary instances ----------------------------------------------------------

  private secondaryInstances(): XmlElement[] {
    const found: SecondaryInstance[] = [];
    let lastSaved = false;
    for (const element of descendants(this.model.survey)) {
      if (element.kind === 'question') {
        found.push(...this.pulldataInstances(element));
        if (isSelect(element) && !this.searchSelects.has(element)) {
          const file = fileInstance(element);
          if (file) found.push(file);
        }
        lastSaved ||= usesLastSaved(element);
      } else if (isSection(element)) {
        found.push(...this.pulldataInstances(element));
      } else if (element.kind === 'external') {
        const extension = element.type.split('-')[0] ?? '';
        const src = `jr://${extension === 'csv' ? 'file-csv' : 'file'}/${element.name}.${extension}`;
        const parent = element.parent;
        found.push({ kind: 'external', name: element.name, src, context: `[type: ${parent?.kind}, name: ${parent?.name}]`, node: el('instance', { id: element.name, src }) });
      }
    }
    if (lastSaved) {
      const src = 'jr://instance/last-saved';
      found.push({ kind: 'instance', name: LAST_SAVED_INSTANCE, src, context: 'None', node: el('instance', { id: LAST_SAVED_INSTANCE, src }) });
    }
    for (const [name, list] of this.model.choices) {
      if (!list.usedBySearch) found.push({ kind: 'choice', name, context: 'survey', node: this.choiceInstance(list) });
    }
    checkExternalNames(found.filter((i) => i.kind === 'external'));
    const seen = new Map<string, SecondaryInstance>();
    const result: XmlElement[] = [];
    for (const instance of found) {
      const prior = seen.get(instance.name);
      if (prior) {
        if (prior.src !== instance.src) {
          throw new XlsFormError(
            'xlsform.duplicate_instance',
            `The same instance id will be generated for different external instance source URIs. Please check the form. Instance name: '${instance.name}', Existing type: '${prior.kind}', Existing URI: '${prior.src ?? 'None'}', Duplicate type: '${instance.kind}', Duplicate URI: '${instance.src ?? 'None'}', Duplicate context: '${instance.context}'.`,
          );
        }
        continue;
      }
      result.push(instance.node);
      seen.set(instance.name, instance);
    }
    return result;
  }

  private pulldataInstances(element: Question | Section): SecondaryInstance[] {
    const usages: string[] = [];
    for (const key of PULLDATA_BIND_KEYS) {
      const value = element.bind?.get(key);
      if (value !== undefined && cellText(value).includes('pulldata(')) usages.push(cellText(value));
    }
    if (element.kind === 'question') {
      if (element.choiceFilter?.includes('pulldata(')) usages.push(element.choiceFilter);
      if (element.default?.includes('pulldata(')) usages.push(element.default);
    }
    const parent = element.parent;
    const instances: SecondaryInstance[] = [];
    for (const usage of usages) {
      for (const call of usage.matchAll(/(pulldata\s*\(\s*)(.*?),/g)) {
        const name = (call[2] ?? '').replace(/['"]/g, '').trim();
        const src = `jr://file-csv/${name}.csv`;
        instances.push({ kind: 'pulldata', name, src, context: `[type: ${parent?.kind}, name: ${parent?.name}]`, node: el('instance', { id: name, src }) });
      }
    }
    return instances;
  }

  private choiceInstance(list: ChoiceList): XmlElement {
    const items = list.options.map((choice, index) => {
      const children: XmlElement[] = [];
      if (list.requiresItext) children.push(el('itextId', {}, [`${list.name}-${index}`]));
      children.push(el('name', {}, [choice.name]));
      if (!list.requiresItext && typeof choice.label === 'string') children.push(el('label', {}, [choice.label]));
      for (const [key, value] of choice.extra) children.push(el(key, {}, [cellText(value)]));
      if (choice.smsOption) children.push(el('sms_option', {}, [choice.smsOption]));
      return el('item', {}, children);
    });
    return el('instance', { id: list.name }, [el('root', {}, items)]);
  }

  // ---- binds and model actions ------------------------------------------------------

  private bindings(): XmlElement[] {
    const result: XmlElement[] = [];
    for (const element of descendants(this.model.survey)) {
      const bind = this.bind(element);
      if (bind) result.push(bind);
      if (element.kind === 'question' || element.kind === 'attribute') result.push(...this.actions(element, false));
    }
    return result;
  }

  private bind(element: FormElement): XmlElement | undefined {
    if (!element.bind || (isSection(element) && element.flat)) return undefined;
    const path = this.paths.xpath(element);
    const node = el('bind', { nodeset: path });
    const triggered = element.kind === 'question' && element.trigger !== undefined && element.trigger.length > 0;
    for (const [key, raw] of element.bind) {
      if (triggered && key === 'calculate') continue;
      let value = cellText(raw);
      const converted = BOOLEAN_BIND_ATTRIBUTES.has(key) && typeof raw === 'string' ? xpathBoolean(raw) : undefined;
      if (converted !== undefined) value = converted;
      else if ((key === 'jr:constraintMsg' || key === 'jr:requiredMsg') && (raw instanceof Map || hasRef(raw))) value = `jr:itext('${path}:${key}')`;
      else if (key === 'jr:noAppErrorString' && raw instanceof Map) value = `jr:itext('${path}:${key}')`;
      setAttribute(node, key, this.paths.expand(value, element));
    }
    return node;
  }

  private actions(element: Question | EntityAttribute, inRepeat: boolean): XmlElement[] {
    const result: XmlElement[] = [];
    for (const action of element.actions) {
      if ((action.event === 'odk-new-repeat') !== inRepeat) continue;
      let value = action.value;
      if (element.kind === 'question') {
        const dynamic = element.dynamicDefault || (element.default !== undefined && isDynamicDefault(element.default, element.type));
        if (dynamic) value = this.paths.expand(element.default ?? '', element);
        else if (element.default) value = element.default;
      }
      result.push(actionElement(action, this.paths.xpath(element), value));
    }
    return result;
  }

  // ---- body ---------------------------------------------------------------------------

  private controls(section: Section): XmlElement[] {
    const result: XmlElement[] = [];
    for (const child of section.children) {
      const control = this.control(child);
      if (control) result.push(control);
    }
    return result;
  }

  private control(element: FormElement): XmlElement | undefined {
    if (element.kind === 'question') return this.questionControl(element);
    if (element.kind === 'repeat') return this.repeatControl(element);
    if (element.kind === 'group' || element.kind === 'loop') return this.groupControl(element);
    return undefined;
  }

  private controlAttributes(element: FormElement, into: XmlElement, skip: string[] = []): void {
    for (const [key, value] of element.control ?? []) {
      if (!skip.includes(key)) setAttribute(into, key, this.paths.expand(cellText(value), element));
    }
  }

  private groupControl(group: Section): XmlElement | undefined {
    if (group.control?.get('bodyless') !== undefined) return undefined;
    const node = el('group');
    this.controlAttributes(group, node);
    const appearance = group.control?.get('appearance');
    if (appearance !== undefined) setAttribute(node, 'appearance', cellText(appearance));
    if (!group.flat) setAttribute(node, 'ref', this.paths.xpath(group));
    if (group.label) node.children.push(this.label(group));
    node.children.push(...this.controls(group));
    return node;
  }

  private repeatControl(repeat: Section): XmlElement {
    const path = this.paths.xpath(repeat);
    const node = el('repeat', { nodeset: path });
    this.controlAttributes(repeat, node);
    node.children.push(...this.controls(repeat));
    for (const element of descendants(repeat)) {
      if (element === repeat || (element.kind !== 'question' && element.kind !== 'attribute')) continue;
      const nearest = [...ancestors(element)].find((a) => a.kind === 'repeat');
      if (element.parent === repeat || nearest === repeat) node.children.push(...this.actions(element, true));
    }
    return el('group', { ref: path }, [this.label(repeat), node]);
  }

  private questionControl(question: Question): XmlElement | undefined {
    const hasCalculate = question.bind?.has('calculate') ?? false;
    const triggered = question.trigger !== undefined && question.trigger.length > 0;
    if (question.type === 'calculate' || ((hasCalculate || triggered) && !(question.label || question.hint))) {
      const [first] = this.model.setvalueTriggers.get(question.name) ?? [];
      if (first) {
        throw new XlsFormError(
          'xlsform.hidden_trigger',
          `The question \${${question.name}} is not user-visible so it can't be used as a calculation trigger for question \${${first[0]}}.`,
          { sheet: 'survey', row: question.row },
        );
      }
      return undefined;
    }
    const tag = text(question.control, 'tag');
    if (!tag || tag === 'action') return undefined;
    const node = el(tag, {}, this.labelAndHint(question));
    setAttribute(node, 'ref', this.paths.xpath(question));
    this.controlAttributes(question, node, ['tag']);
    this.addQuestionContent(question, tag, node);
    for (const [target, value] of this.model.setvalueTriggers.get(question.name) ?? []) {
      const ref = this.paths.xpath(this.paths.element(target));
      node.children.push(el('setvalue', { ref, event: 'xforms-value-changed', value: this.paths.expand(value, question) || undefined }));
    }
    for (const [target] of this.model.setgeopointTriggers.get(question.name) ?? []) {
      const ref = this.paths.xpath(this.paths.element(target));
      node.children.push(el('odk:setgeopoint', { ref, event: 'xforms-value-changed' }));
    }
    return node;
  }

  private addQuestionContent(question: Question, tag: string, node: XmlElement): void {
    if (isSelect(question)) {
      const list = this.model.choices.get(question.itemset ?? '');
      if (this.searchSelects.has(question)) {
        if (list) node.children.push(...this.inlineItems(question, list));
      } else if (question.itemset) {
        node.children.push(this.itemset(question, list));
      }
      return;
    }
    if (tag === 'input' && question.query) {
      const filter = question.choiceFilter ? `[${this.paths.expand(question.choiceFilter, question, { useCurrent: true })}]` : '';
      setAttribute(node, 'query', `instance('${question.query}')/root/item${filter}`);
      return;
    }
    if (tag === 'range' && question.itemset) {
      node.children.push(itemsetElement(`instance('${question.itemset}')/root/item`, 'name', this.model.choices.get(question.itemset)?.requiresItext ? 'jr:itext(itextId)' : 'label'));
      return;
    }
    if (['geopoint', 'geoshape', 'geotrace'].includes(question.type) && question.itemset) {
      node.children.push(this.itemset(question, this.model.choices.get(question.itemset)));
      return;
    }
    for (const tagSpec of question.osmTags ?? []) {
      const label = tagSpec.label instanceof Map
        ? el('label', { ref: `jr:itext('/${tagSpec.name}:label')` })
        : tagSpec.label
          ? el('label', {}, partsToNodes(this.paths.labelParts(cellText(tagSpec.label), null)))
          : el('label');
      node.children.push(el('tag', { key: tagSpec.name }, [label]));
    }
  }

  private inlineItems(question: Question, list: ChoiceList): XmlElement[] {
    return list.options.map((option, index) => {
      let label: XmlElement;
      if (list.requiresItext) label = el('label', { ref: `jr:itext('${list.name}-${index}')` });
      else if (question.label && option.label !== undefined) label = el('label', {}, partsToNodes(this.paths.labelParts(cellText(option.label), null)));
      else label = el('label');
      return el('item', {}, [label, el('value', {}, [option.name])]);
    });
  }

  private itemset(question: Question, list: ChoiceList | undefined): XmlElement {
    const itemset = question.itemset ?? '';
    const isGeo = ['geopoint', 'geoshape', 'geotrace'].includes(question.type);
    const [stem, extension] = splitExt(itemset);
    let nodeset: string;
    let valueRef: string;
    let labelRef: string;
    let filter: string | undefined;
    const fromReference = hasRef(itemset);
    if (FILE_INSTANCE_EXTENSIONS.has(extension)) {
      const geojson = extension === '.geojson';
      valueRef = question.parameters.get('value') ?? (geojson ? 'id' : 'name');
      labelRef = question.parameters.get('label') ?? (geojson ? 'title' : 'label');
      nodeset = `instance('${stem}')/root/item`;
    } else if (fromReference) {
      const path = this.paths.expand(itemset, question, { referenceParent: true }).trim();
      if (isGeo) {
        nodeset = path;
        valueRef = 'geometry';
        labelRef = 'geometry';
        filter = "./geometry != ''";
      } else {
        const steps = path.split('/');
        const last = steps[steps.length - 1] ?? '';
        nodeset = steps.slice(0, -1).join('/');
        valueRef = last;
        labelRef = last;
        filter = `./${last} != ''`;
      }
    } else {
      nodeset = `instance('${itemset}')/root/item`;
      valueRef = 'name';
      labelRef = list?.requiresItext ? 'jr:itext(itextId)' : 'label';
    }
    if (question.choiceFilter) {
      let choiceFilter = this.paths.expand(question.choiceFilter, question, { useCurrent: true, referenceParent: fromReference });
      if (fromReference) choiceFilter = choiceFilter.replaceAll(`current()/${nodeset}`, '.').replaceAll(nodeset, '.');
      filter = choiceFilter;
    }
    if (filter) nodeset += `[${filter}]`;
    if (question.parameters.get('randomize') === 'true') {
      const seed = question.parameters.get('seed');
      nodeset = seed !== undefined ? `randomize(${nodeset}, ${this.paths.expand(seed, question).trim()})` : `randomize(${nodeset})`;
    }
    return itemsetElement(nodeset, valueRef, labelRef);
  }

  private labelAndHint(element: FormElement): XmlElement[] {
    const hasMedia = element.media instanceof Map ? element.media.size > 0 : !!element.media;
    const hasLabel = !!element.label || hasMedia;
    const hasHint = !!element.hint || !!element.guidanceHint;
    const result: XmlElement[] = [];
    if (hasLabel || hasHint) result.push(this.label(element));
    if (hasHint) result.push(this.hint(element));
    const noLabelOrHint = `The survey element named '${element.name}' has no label or hint.`;
    if (result.length === 0 || (!element.label && !hasMedia && !element.hint && element.guidanceHint)) {
      throw new XlsFormError('xlsform.no_label', noLabelOrHint, { sheet: 'survey', row: element.row });
    }
    if (element.media !== undefined && !containsKey(element.media, 'image') && containsKey(element.media, 'big-image')) {
      throw new XlsFormError('xlsform.big_image_without_image', `To use big-image, you must also specify an image for the survey element named ${element.name}.`, {
        sheet: 'survey',
        row: element.row,
      });
    }
    return result;
  }

  private label(element: FormElement): XmlElement {
    if (needsItext(element)) return el('label', { ref: `jr:itext('${this.paths.xpath(element)}:label')` });
    if (element.label) return el('label', {}, partsToNodes(this.paths.labelParts(cellText(element.label), element)));
    return el('label');
  }

  private hint(element: FormElement): XmlElement {
    if (element.hint instanceof Map || element.guidanceHint) return el('hint', { ref: `jr:itext('${this.paths.xpath(element)}:hint')` });
    if (element.hint) return el('hint', {}, partsToNodes(this.paths.labelParts(element.hint, element)));
    return el('hint');
  }
}

function hasRef(value: Cell): boolean {
  return typeof value === 'string' && hasReference(value);
}

// Python's `in`: a substring test on text, a key test on maps.
function containsKey(value: Cell, key: string): boolean {
  return typeof value === 'string' ? value.includes(key) : value.has(key);
}

function itemsetElement(nodeset: string, valueRef: string, labelRef: string): XmlElement {
  return el('itemset', { nodeset }, [el('value', { ref: valueRef }), el('label', { ref: labelRef })]);
}

function actionElement(action: Action, ref: string, value: string | undefined): XmlElement {
  const node = el(action.name, { ref, event: action.event });
  if (action.name === 'setvalue' && value) setAttribute(node, 'value', value);
  if (action.name === 'odk:recordaudio' && action.quality) setAttribute(node, 'odk:quality', action.quality);
  return node;
}

function fileInstance(question: Question): SecondaryInstance | undefined {
  const itemset = question.itemset;
  if (!itemset) return undefined;
  const [name, extension] = splitExt(itemset);
  if (!FILE_INSTANCE_EXTENSIONS.has(extension)) return undefined;
  const src = `jr://${extension === '.csv' ? 'file-csv' : 'file'}/${itemset}`;
  const parent = question.parent;
  return { kind: 'file', name, src, context: `[type: ${parent?.kind}, name: ${parent?.name}]`, node: el('instance', { id: name, src }) };
}

function usesLastSaved(question: Question): boolean {
  if (hasLastSavedReference(question.default) || hasLastSavedReference(question.choiceFilter)) return true;
  for (const key of PULLDATA_BIND_KEYS) {
    const value = question.bind?.get(key);
    if (typeof value === 'string' && hasLastSavedReference(value)) return true;
  }
  return false;
}

function checkExternalNames(instances: SecondaryInstance[]): void {
  const byName = new Map<string, SecondaryInstance[]>();
  for (const instance of instances) byName.set(instance.name, [...(byName.get(instance.name) ?? []), instance]);
  const errors: string[] = [];
  for (const [name, copies] of byName) {
    if (copies.length < 2) continue;
    const contexts = copies.map((c) => `${c.context}(${c.kind})`).join(', ');
    errors.push(`Instance names must be unique within a form. The name '${name}' was found ${copies.length} time(s), under these contexts: ${contexts}`);
  }
  if (errors.length > 0) throw new XlsFormError('xlsform.duplicate_instance', errors.join('\n'));
}

function badLanguages(languages: string[]): string[] {
  return languages.filter((language) => {
    if (language === 'default' || language.length < 3) return false;
    const code = /\((.*)\)$/.exec(language)?.[1];
    return code === undefined || !isKnownLanguageSubtag(code);
  });
}
