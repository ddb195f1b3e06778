/*
 * XForm → field schema.
 *
 * The primary instance decides which fields exist and how they nest (a repeat's template and its
 * first copy share a path and are read once); binds give data types and expressions; body controls
 * give labels, hints, choices and whether a node is a select, an upload or a repeat. Elements are
 * matched by local name, as ODK servers do, so `orx:meta` and `meta` read alike. Labels are rendered
 * to plain text with `<output value="…"/>` shown as `${name}`. Choices come from inline `<item>`s or
 * from an itemset over a secondary instance in the form; itemsets over external files
 * (`jr://file-csv/…`) keep only the list id, and `choice_filter` predicates are ignored (every choice
 * of the list is listed).
 */
import { XFormError } from './errors.js';
import { DEFAULT_LANGUAGE } from './schema.js';
import type { Choice, FieldBind, FormField, FormSchema, LocalizedText } from './schema.js';
import { attributeValue, childElements, firstChildElement, parseXmlTree, textContent } from './xml.js';
import type { XmlElement, XmlLimits } from './xml.js';

const JAVAROSA_NS = 'http://openrosa.org/javarosa';
const XFORMS_NS = 'http://www.w3.org/2002/xforms';
const QUESTION_CONTROLS = new Set(['input', 'select1', 'select', 'upload', 'trigger', 'range', 'rank', 'textarea', 'secret']);
const SELECT_TYPES: ReadonlyMap<string, string> = new Map([['select1', 'select1'], ['select', 'select'], ['rank', 'odk:rank']]);
const TYPE_ALIASES: ReadonlyMap<string, string> = new Map([['integer', 'int']]);

/** A text id → (value form → text) table per language; `''` is the plain form. */
type Itext = Map<string, Map<string, Map<string, string>>>;

interface ControlInfo {
  control: string;
  labels: LocalizedText;
  hints: LocalizedText;
  choices: Choice[] | null;
  choiceList: string | null;
  mediaType: string | null;
}

interface BindInfo extends FieldBind {
  type: string | null;
}

interface FormContext {
  model: XmlElement;
  itext: Itext;
  bindPathsById: Map<string, string>;
}

export function parseXForm(xml: Uint8Array | string, limits: Partial<XmlLimits> = {}): FormSchema {
  const html = parseXmlTree(xml, limits);
  const head = html.local === 'html' ? firstChildElement(html, 'head') : undefined;
  if (!head) throw new XFormError('xform.not_an_xform', `This is not an XForm: the root element is <${html.name}>, expected <h:html> with <h:head>.`);
  const model = firstChildElement(head, 'model');
  if (!model) throw new XFormError('xform.no_model', 'The XForm has no <model> in its <h:head>.');
  const root = primaryInstanceRoot(model);
  const rootPath = `/${root.local}`;
  const itext = readItext(model);
  const binds = readBinds(model, rootPath);
  const context: FormContext = { model, itext, bindPathsById: binds.pathsById };
  const controls = new Map<string, ControlInfo>();
  const body = firstChildElement(html, 'body');
  if (body) readControls(body, rootPath, context, controls);
  const submission = firstChildElement(model, 'submission');
  const title = firstChildElement(head, 'title');
  return {
    formId: formIdOf(root),
    version: attributeValue(root, 'version') ?? null,
    title: title ? textContent(title).trim() || null : null,
    rootName: root.local,
    languages: [...itext.keys()],
    defaultLanguage: defaultLanguageOf(model),
    base64RsaPublicKey: submission ? publicKeyOf(submission) : null,
    submissionUrl: (submission && attributeValue(submission, 'action')?.trim()) || null,
    fields: readFields(root, rootPath, binds.byPath, controls),
  };
}

function primaryInstanceRoot(model: XmlElement): XmlElement {
  const instance = firstChildElement(model, 'instance');
  const root = instance ? childElements(instance)[0] : undefined;
  if (!root) throw new XFormError('xform.no_primary_instance', 'The XForm model has no primary <instance> with a root element.');
  return root;
}

/** The root's `id`, or for legacy forms the namespace of the root element. */
function formIdOf(root: XmlElement): string {
  const id = attributeValue(root, 'id', '')?.trim() || (root.uri !== XFORMS_NS ? root.uri : '');
  if (!id) throw new XFormError('xform.missing_form_id', `The primary instance root <${root.name}> has no id attribute; set form_id in the XLSForm settings.`);
  return id;
}

function publicKeyOf(submission: XmlElement): string | null {
  const key = attributeValue(submission, 'base64RsaPublicKey')?.replace(/\s+/g, '');
  if (!key) return null;
  if (!/^[A-Za-z0-9+/]+={0,2}$/.test(key) || key.length % 4 !== 0) {
    throw new XFormError('xform.bad_public_key', 'The <submission base64RsaPublicKey> is not base64; paste the public key without the BEGIN/END lines.');
  }
  return key;
}

function translationsOf(model: XmlElement): XmlElement[] {
  const itext = firstChildElement(model, 'itext');
  return itext ? childElements(itext, 'translation') : [];
}

function defaultLanguageOf(model: XmlElement): string | null {
  const translation = translationsOf(model).find((candidate) => attributeValue(candidate, 'default')?.trim() === 'true()');
  return translation ? (attributeValue(translation, 'lang') ?? DEFAULT_LANGUAGE) : null;
}

function readItext(model: XmlElement): Itext {
  const itext: Itext = new Map();
  for (const translation of translationsOf(model)) {
    const lang = attributeValue(translation, 'lang') ?? DEFAULT_LANGUAGE;
    if (lang === '__proto__') throw new XFormError('xform.bad_language', `The itext language name "${lang}" is reserved; rename the language.`);
    const texts = itext.get(lang) ?? new Map<string, Map<string, string>>();
    itext.set(lang, texts);
    for (const text of childElements(translation, 'text')) {
      const id = attributeValue(text, 'id');
      if (id === undefined) continue;
      const forms = new Map<string, string>();
      for (const value of childElements(text, 'value')) forms.set(attributeValue(value, 'form') ?? '', renderText(value));
      texts.set(id, forms);
    }
  }
  return itext;
}

/** Per language, the spoken text of an itext entry: the plain value, else `long`, else `short`. */
function itextTexts(itext: Itext, id: string): LocalizedText {
  const result: LocalizedText = {};
  for (const [lang, texts] of itext) {
    const forms = texts.get(id);
    const text = forms && (forms.get('') ?? forms.get('long') ?? forms.get('short'));
    if (text !== undefined) result[lang] = text;
  }
  return result;
}

/** Label text with `<output value=" /data/name "/>` shown as `${name}`, as XLSForm authors wrote it. */
function renderText(element: XmlElement): string {
  let text = '';
  for (const child of element.children) {
    if (typeof child === 'string') text += child;
    else if (child.local === 'output') text += `\${${outputName(attributeValue(child, 'value') ?? '')}}`;
    else text += renderText(child);
  }
  return text.trim();
}

function outputName(expression: string): string {
  const trimmed = expression.trim();
  return /^[\w.:/-]+$/.test(trimmed) ? (trimmed.split('/').at(-1) ?? trimmed) : trimmed;
}

function readBinds(model: XmlElement, rootPath: string): { byPath: Map<string, BindInfo>; pathsById: Map<string, string> } {
  const byPath = new Map<string, BindInfo>();
  const pathsById = new Map<string, string>();
  const visit = (parent: XmlElement, context: string): void => {
    for (const bind of childElements(parent, 'bind')) {
      const nodeset = attributeValue(bind, 'nodeset') ?? attributeValue(bind, 'ref');
      const path = nodeset === undefined ? context : resolvePath(nodeset, context);
      const id = attributeValue(bind, 'id');
      if (id !== undefined) pathsById.set(id, path);
      byPath.set(path, mergeBind(byPath.get(path), bind));
      visit(bind, path);
    }
  };
  visit(model, rootPath);
  return { byPath, pathsById };
}

function mergeBind(previous: BindInfo | undefined, bind: XmlElement): BindInfo {
  const read = (local: string, uri?: string): string | null => attributeValue(bind, local, uri) ?? null;
  const type = read('type');
  return {
    type: type === null ? (previous?.type ?? null) : normalizeType(type),
    required: read('required') ?? previous?.required ?? null,
    relevant: read('relevant') ?? previous?.relevant ?? null,
    constraint: read('constraint') ?? previous?.constraint ?? null,
    calculate: read('calculate') ?? previous?.calculate ?? null,
    readonly: read('readonly') ?? previous?.readonly ?? null,
    preload: read('preload', JAVAROSA_NS) ?? previous?.preload ?? null,
    preloadParams: read('preloadParams', JAVAROSA_NS) ?? previous?.preloadParams ?? null,
  };
}

function normalizeType(raw: string): string {
  const type = raw.trim();
  if (type.startsWith('odk:')) return type;
  const local = type.slice(type.indexOf(':') + 1);
  return TYPE_ALIASES.get(local) ?? local;
}

/** Resolves an XPath location path (absolute or relative to `context`) to `/a/b/c`, dropping predicates and prefixes. */
function resolvePath(ref: string, context: string): string {
  const trimmed = stripPredicates(ref.trim());
  const steps = trimmed.startsWith('/') ? [] : context.split('/').filter(Boolean);
  for (const step of trimmed.split('/')) {
    if (step === '' || step === '.') continue;
    if (step === '..') steps.pop();
    else steps.push(step.slice(step.indexOf(':') + 1));
  }
  return `/${steps.join('/')}`;
}

function stripPredicates(path: string): string {
  let result = '';
  let depth = 0;
  for (const char of path) {
    if (char === '[') depth += 1;
    else if (char === ']') depth = Math.max(0, depth - 1);
    else if (depth === 0) result += char;
  }
  return result;
}

function controlPath(control: XmlElement, attribute: 'ref' | 'nodeset', context: string, form: FormContext): string | null {
  const ref = attributeValue(control, attribute);
  if (ref !== undefined) return resolvePath(ref, context);
  const bindId = attributeValue(control, 'bind');
  return (bindId !== undefined && form.bindPathsById.get(bindId)) || null;
}

function readControls(parent: XmlElement, context: string, form: FormContext, controls: Map<string, ControlInfo>): void {
  for (const element of childElements(parent)) {
    if (element.local === 'group') {
      const path = controlPath(element, 'ref', context, form);
      if (path !== null) controls.set(path, describeControl(element, form));
      readControls(element, path ?? context, form, controls);
    } else if (element.local === 'repeat') {
      const path = controlPath(element, 'nodeset', context, form) ?? context;
      const wrapping = controls.get(path);
      const own = describeControl(element, form);
      controls.set(path, wrapping && Object.keys(own.labels).length === 0 ? { ...wrapping, control: 'repeat' } : own);
      readControls(element, path, form, controls);
    } else if (QUESTION_CONTROLS.has(element.local)) {
      const path = controlPath(element, 'ref', context, form);
      if (path !== null) controls.set(path, describeControl(element, form));
    }
  }
}

function describeControl(element: XmlElement, form: FormContext): ControlInfo {
  const label = firstChildElement(element, 'label');
  const hint = firstChildElement(element, 'hint');
  const isSelect = SELECT_TYPES.has(element.local);
  const itemset = isSelect ? firstChildElement(element, 'itemset') : undefined;
  const list = itemset ? itemsetChoices(itemset, form) : null;
  return {
    control: element.local,
    labels: label ? labelTexts(label, form.itext) : {},
    hints: hint ? labelTexts(hint, form.itext) : {},
    choices: list ? list.choices : isSelect ? childElements(element, 'item').map((item) => inlineChoice(item, form.itext)) : null,
    choiceList: list?.id ?? null,
    mediaType: attributeValue(element, 'mediatype') ?? null,
  };
}

function labelTexts(label: XmlElement, itext: Itext): LocalizedText {
  const id = itextId(attributeValue(label, 'ref'));
  const translated = id === null ? {} : itextTexts(itext, id);
  if (Object.keys(translated).length > 0) return translated;
  const plain = renderText(label);
  return plain ? { [DEFAULT_LANGUAGE]: plain } : {};
}

/** `jr:itext('/data/q:label')` → `/data/q:label`. */
function itextId(ref: string | undefined): string | null {
  const match = ref === undefined ? null : /^\s*jr:itext\(\s*(['"])(.*)\1\s*\)\s*$/.exec(ref);
  return match ? (match[2] ?? null) : null;
}

function inlineChoice(item: XmlElement, itext: Itext): Choice {
  const value = firstChildElement(item, 'value');
  const label = firstChildElement(item, 'label');
  return { value: value ? textContent(value).trim() : '', labels: label ? labelTexts(label, itext) : {} };
}

/** Choices of `<itemset nodeset="instance('list')/root/item[…]">` over a secondary instance of the form. */
function itemsetChoices(itemset: XmlElement, form: FormContext): { id: string; choices: Choice[] | null } | null {
  const match = /^\s*instance\(\s*(['"])([^'"]+)\1\s*\)\s*(\/.*)?$/.exec(attributeValue(itemset, 'nodeset') ?? '');
  const id = match?.[2];
  if (id === undefined) return null;
  const instance = childElements(form.model, 'instance').find((candidate) => attributeValue(candidate, 'id') === id);
  if (!instance || attributeValue(instance, 'src') !== undefined) return { id, choices: null };
  const steps = resolvePath(match?.[3] ?? '/', '/').split('/').filter(Boolean);
  const valueRef = attributeValue(firstChildElement(itemset, 'value') ?? itemset, 'ref') ?? 'name';
  const labelRef = attributeValue(firstChildElement(itemset, 'label') ?? itemset, 'ref') ?? 'label';
  const choices = selectSteps([instance], steps).map((item) => ({
    value: childText(item, valueRef),
    labels: itemLabels(item, labelRef, form.itext),
  }));
  return { id, choices };
}

function selectSteps(start: XmlElement[], steps: string[]): XmlElement[] {
  return steps.reduce((nodes, step) => nodes.flatMap((node) => childElements(node, step)), start);
}

function itemLabels(item: XmlElement, labelRef: string, itext: Itext): LocalizedText {
  const translatedBy = /^\s*jr:itext\(\s*([\w.-]+)\s*\)\s*$/.exec(labelRef)?.[1];
  if (translatedBy !== undefined) return itextTexts(itext, childText(item, translatedBy));
  const text = childText(item, labelRef);
  return text ? { [DEFAULT_LANGUAGE]: text } : {};
}

function childText(item: XmlElement, ref: string): string {
  const child = firstChildElement(item, ref.trim());
  return child ? textContent(child).trim() : '';
}

function readFields(root: XmlElement, rootPath: string, binds: Map<string, BindInfo>, controls: Map<string, ControlInfo>): FormField[] {
  const fields: FormField[] = [];
  const seen = new Set<string>();
  const visit = (element: XmlElement, parent: string | null, repeat: string | null): void => {
    for (const child of childElements(element)) {
      const path = `${parent ?? rootPath}/${child.local}`;
      if (seen.has(path)) continue;
      seen.add(path);
      const field = describeField(child, path, parent, repeat, binds.get(path), controls.get(path));
      fields.push(field);
      if (field.kind !== 'question') visit(child, path, field.kind === 'repeat' ? path : repeat);
    }
  };
  visit(root, null, null);
  return fields;
}

function describeField(
  element: XmlElement,
  path: string,
  parent: string | null,
  enclosingRepeat: string | null,
  bind: BindInfo | undefined,
  control: ControlInfo | undefined,
): FormField {
  const isRepeat = attributeValue(element, 'template', JAVAROSA_NS) !== undefined || control?.control === 'repeat';
  const isGroup = !isRepeat && (childElements(element).length > 0 || control?.control === 'group');
  const kind = isRepeat ? 'repeat' : isGroup ? 'group' : 'question';
  const dataType = bind?.type ?? 'string';
  return {
    path,
    name: element.local,
    kind,
    type: kind === 'question' ? (SELECT_TYPES.get(control?.control ?? '') ?? dataType) : kind,
    dataType,
    control: control?.control ?? null,
    parent,
    repeat: isRepeat ? path : enclosingRepeat,
    binary: kind === 'question' && dataType === 'binary',
    labels: control?.labels ?? {},
    hints: control?.hints ?? {},
    choices: control?.choices ?? null,
    choiceList: control?.choiceList ?? null,
    mediaType: control?.mediaType ?? null,
    bind: {
      required: bind?.required ?? null,
      relevant: bind?.relevant ?? null,
      constraint: bind?.constraint ?? null,
      calculate: bind?.calculate ?? null,
      readonly: bind?.readonly ?? null,
      preload: bind?.preload ?? null,
      preloadParams: bind?.preloadParams ?? null,
    },
  };
}
