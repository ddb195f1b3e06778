/**
 * Reads a published XForm in the browser, for the data table and submission view: each question's
 * key in the data API (its path below the root, as Kobo names it), type, labels in every language
 * and choice labels. Runs on the XML the server serves, with the browser's own parser.
 */
export interface Choice {
  value: string;
  labels: Record<string, string>;
}

export interface Question {
  /** The data API key, e.g. `household/district`. */
  key: string;
  type: string;
  labels: Record<string, string>;
  choices: Choice[] | null;
  /** Inside a repeat: its answers live in the repeat's array, not as a column. */
  inRepeat: boolean;
}

export interface FormShape {
  languages: string[];
  defaultLanguage: string;
  questions: Question[];
}

const CONTROLS = new Set(['input', 'select1', 'select', 'upload', 'range', 'rank', 'trigger', 'odk:rank']);

export function parseXForm(xml: string): FormShape {
  const doc = new DOMParser().parseFromString(xml, 'application/xml');
  const translations = new Map<string, Map<string, string>>();
  let defaultLanguage = '';
  for (const translation of Array.from(doc.getElementsByTagNameNS('*', 'translation'))) {
    const lang = translation.getAttribute('lang') ?? '';
    if (translation.getAttribute('default') !== null) defaultLanguage = lang;
    const texts = new Map<string, string>();
    for (const text of Array.from(translation.getElementsByTagNameNS('*', 'text'))) {
      const values = Array.from(text.children).filter((child) => child.localName === 'value');
      const plain = values.find((value) => value.getAttribute('form') === null) ?? values[0];
      if (plain !== undefined) texts.set(text.getAttribute('id') ?? '', (plain.textContent ?? '').trim());
    }
    translations.set(lang, texts);
  }
  const languages = [...translations.keys()];
  if (defaultLanguage === '' && languages.length > 0) defaultLanguage = languages[0]!;

  const types = new Map<string, string>();
  /** Read-only fields without a calculation: notes, text to read with nothing to answer. */
  const notes = new Set<string>();
  for (const bind of Array.from(doc.getElementsByTagNameNS('*', 'bind'))) {
    const nodeset = bind.getAttribute('nodeset');
    if (nodeset === null) continue;
    types.set(nodeset, bind.getAttribute('type') ?? 'string');
    if (bind.getAttribute('readonly') === 'true()' && bind.getAttribute('calculate') === null) notes.add(nodeset);
  }

  function labelsOf(element: Element): Record<string, string> {
    const label = Array.from(element.children).find((child) => child.localName === 'label');
    if (label === undefined) return {};
    const ref = label.getAttribute('ref');
    const itext = ref === null ? null : /jr:itext\('([^']+)'\)/.exec(ref);
    if (itext === null) return { '': (label.textContent ?? '').trim() };
    const labels: Record<string, string> = {};
    for (const [lang, texts] of translations) {
      const text = texts.get(itext[1]!);
      if (text !== undefined) labels[lang] = text;
    }
    return labels;
  }

  /** Choices from a secondary instance, as XLSForm converters write them: `instance('list')/root/item`. */
  function itemsetChoices(itemset: Element): Choice[] {
    const list = /instance\('([^']+)'\)/.exec(itemset.getAttribute('nodeset') ?? '')?.[1];
    const instance = Array.from(doc.getElementsByTagNameNS('*', 'instance')).find((i) => i.getAttribute('id') === list);
    const valueRef = Array.from(itemset.children).find((c) => c.localName === 'value')?.getAttribute('ref') ?? 'name';
    const labelRef = Array.from(itemset.children).find((c) => c.localName === 'label')?.getAttribute('ref') ?? 'label';
    const itextRef = /jr:itext\(([^)]+)\)/.exec(labelRef)?.[1];
    const items = instance?.firstElementChild ? Array.from(instance.firstElementChild.children) : [];
    const field = (item: Element, name: string) => (Array.from(item.children).find((c) => c.localName === name)?.textContent ?? '').trim();
    return items.map((item) => {
      if (itextRef === undefined) return { value: field(item, valueRef), labels: { '': field(item, labelRef) } };
      const id = field(item, itextRef);
      const labels: Record<string, string> = {};
      for (const [lang, texts] of translations) {
        const text = texts.get(id);
        if (text !== undefined) labels[lang] = text;
      }
      return { value: field(item, valueRef), labels };
    });
  }

  const questions: Question[] = [];
  function walk(element: Element, context: string, inRepeat: boolean) {
    for (const child of Array.from(element.children)) {
      const name = child.localName;
      const ref = child.getAttribute('ref') ?? child.getAttribute('nodeset');
      const absolute = ref === null ? context : ref.startsWith('/') ? ref : `${context}/${ref}`;
      if (name === 'group') walk(child, absolute, inRepeat);
      else if (name === 'repeat') {
        questions.push({ key: keyOf(absolute), type: 'repeat', labels: labelsOf(element), choices: null, inRepeat });
        walk(child, absolute, true);
      } else if (CONTROLS.has(name) || CONTROLS.has(child.tagName)) {
        if (ref === null) continue;
        const itemset = Array.from(child.children).find((c) => c.localName === 'itemset');
        const choices = itemset !== undefined ? itemsetChoices(itemset) : Array.from(child.children)
          .filter((item) => item.localName === 'item')
          .map((item) => ({ value: (Array.from(item.children).find((c) => c.localName === 'value')?.textContent ?? '').trim(), labels: labelsOf(item) }));
        const type = name === 'upload' ? (child.getAttribute('mediatype') ?? 'binary').split('/')[0]! : name === 'select' ? 'select_multiple' : name === 'select1' ? 'select_one' : name === 'input' && notes.has(absolute) ? 'note' : (types.get(absolute) ?? 'string');
        questions.push({ key: keyOf(absolute), type, labels: labelsOf(child), choices: choices.length > 0 ? choices : null, inRepeat });
      }
    }
  }
  const body = doc.getElementsByTagNameNS('*', 'body')[0];
  if (body !== undefined) walk(body, '', false);
  return { languages, defaultLanguage, questions };
}

/** `/data/household/district` → `household/district`. */
function keyOf(path: string): string {
  return path.split('/').filter(Boolean).slice(1).join('/');
}

export function labelIn(labels: Record<string, string>, language: string, fallback: string): string {
  return labels[language] ?? labels[''] ?? Object.values(labels)[0] ?? fallback;
}

/** An answer as people read it: choice labels instead of values when asked for. */
export function displayAnswer(question: Question | undefined, value: unknown, language: string, showLabels: boolean): string {
  if (value === null || value === undefined) return '';
  if (Array.isArray(value)) return question?.type === 'repeat' ? `${value.length} ×` : value.map((v) => displayAnswer(question, v, language, showLabels)).join(', ');
  if (typeof value === 'object') return JSON.stringify(value);
  const text = String(value);
  if (!showLabels || question?.choices == null) return text;
  const values = question.type === 'select_multiple' ? text.split(' ') : [text];
  return values.map((v) => { const choice = question.choices!.find((c) => c.value === v); return choice ? labelIn(choice.labels, language, v) : v; }).join(', ');
}
