/*
 * XPaths of form elements and `${name}` expansion.
 *
 * `${name}` becomes the absolute path padded with one space each side (" /data/age "),
 * or, when the referring element and the target share a repeat, a relative path
 * (" ../age ") so each repeat instance refers to its own sibling. Inside the predicate of
 * a secondary-instance path (a choice filter) the relative path starts with current()/.
 * In labels, references and `instance(...)` paths become <output value="…"/> elements.
 */
import { PYXFORM_REF, mayHaveReference, tokenize } from './expression.js';
import { XlsFormError } from './issues.js';
import type { FormElement, Section } from './model.js';
import { ancestors, descendants, isSection } from './model.js';

export const LAST_SAVED_INSTANCE = '__last-saved';

/** A piece of label text: plain text, or an <output value="…"/>. */
export type LabelPart = string | { output: string };

export interface ExpandOptions {
  /** Prefix relative paths with current()/ (choice filters). */
  useCurrent?: boolean;
  /** Point at the shared repeat's parent (selects whose options come from a repeat). */
  referenceParent?: boolean;
}

const isRepeat = (e: FormElement): boolean => e.kind === 'repeat';

export class PathResolver {
  private readonly byName = new Map<string, FormElement | null>();
  private readonly absolute = new Map<FormElement, string>();

  constructor(survey: Section) {
    for (const element of descendants(survey)) {
      if (element.kind !== 'question' && !isSection(element)) continue;
      this.byName.set(element.name, this.byName.has(element.name) ? null : element);
    }
  }

  xpath(element: FormElement, relativeTo?: Section): string {
    if (relativeTo === undefined) {
      const cached = this.absolute.get(element);
      if (cached !== undefined) return cached;
    }
    const names: string[] = [];
    for (const ancestor of ancestors(element)) {
      if (ancestor === relativeTo) break;
      if (ancestor.kind === 'survey' || !ancestor.flat) names.push(ancestor.name);
    }
    names.reverse();
    if (element.kind === 'survey' || !element.flat) names.push(element.kind === 'attribute' ? `@${element.name}` : element.name);
    const path = `/${names.join('/')}`;
    if (relativeTo === undefined) this.absolute.set(element, path);
    return path;
  }

  /** The element a `${name}` points at, with pyxform's error when it is missing or ambiguous. */
  element(name: string, errorPrefix?: string): FormElement {
    const found = this.byName.get(name);
    const prefix = errorPrefix ? `${errorPrefix} ` : '';
    if (found === undefined) throw new XlsFormError('xlsform.unknown_reference', `${prefix}There is no survey element named '${name}'.`);
    if (found === null) throw new XlsFormError('xlsform.ambiguous_reference', `${prefix}There are multiple survey elements named '${name}'.`);
    return found;
  }

  /** Replaces every `${name}` in an expression. `context` is the element the expression belongs to. */
  expand(value: string, context: FormElement | null, options: ExpandOptions = {}): string {
    if (!mayHaveReference(value)) return value;
    return value.replace(PYXFORM_REF, (...args: unknown[]) => this.replacement(value, args, context, options));
  }

  private replacement(whole: string, args: unknown[], context: FormElement | null, options: ExpandOptions): string {
    const match = args[0] as string;
    const offset = args[args.length - 3] as number;
    const groups = args[args.length - 1] as { name: string; lastSaved?: string };
    const name = groups.name;
    const lastSaved = groups.lastSaved !== undefined;
    const intro = `There has been a problem trying to replace ${match} with the XPath to the survey element named '${name}'.`;
    const target = this.element(name, intro);
    const span = { start: offset, end: offset + match.length };
    if (!lastSaved && context && relativeAllowed(whole, span, name)) {
      const useCurrent = options.useCurrent === true || inSecondaryInstancePredicate(whole, span);
      const relative = this.relativePath(target, context, name, useCurrent, options.referenceParent === true);
      if (relative !== undefined) return relative;
    }
    return ` ${lastSaved ? `instance('${LAST_SAVED_INSTANCE}')` : ''}${this.xpath(target)} `;
  }

  private relativePath(target: FormElement, context: FormElement, name: string, useCurrent: boolean, referenceParent: boolean): string | undefined {
    const shared = commonAncestor(context, target, ['repeat']);
    if (!shared) return undefined;
    let [steps, path] = this.pathFromSharedRepeat(target, context, shared.contextSteps, shared.ancestor, referenceParent);
    if (!steps) return undefined;
    if (!path.endsWith(name)) path = `/${name}`;
    const prefix = useCurrent ? ' current()/' : ' ';
    return `${prefix}${Array.from({ length: steps }, () => '..').join('/')}${path} `;
  }

  private pathFromSharedRepeat(target: FormElement, source: FormElement, steps: number, repeat: Section, referenceParent: boolean): [number, string] {
    if (referenceParent) {
      const sourceRepeat = first(ancestors(source), isRepeat);
      const targetRepeat = first(ancestors(target), isRepeat);
      const repeatNotInRepeat = first(ancestors(repeat), isRepeat) === undefined;
      if (repeat === targetRepeat && (repeatNotInRepeat || sourceRepeat !== repeat) && repeat.parent) {
        return [steps + 1, this.xpath(target, repeat.parent)];
      }
    }
    const nearest = commonAncestor(source, target, ['group', 'repeat']);
    if (!nearest) return [0, ''];
    return [nearest.contextSteps, this.xpath(target, nearest.ancestor)];
  }

  /**
   * Label or hint text with references turned into outputs. pyxform escapes the text, then
   * substitutes; `instance(...)` paths in the escaped text keep that escaping in their output
   * value, which this reproduces.
   */
  labelParts(textValue: string, context: FormElement | null): LabelPart[] {
    if (textValue === '-') return [textValue];
    const escaped = escapeXmlText(textValue);
    let marked = outputInstanceExpressions(escaped, (expression) => this.expand(expression, context));
    if (mayHaveReference(marked)) {
      marked = marked.replace(PYXFORM_REF, (...args: unknown[]) => `\u0000${this.replacement(marked, args, context, {})}\u0001`);
    }
    if (marked === escaped) return [textValue];
    return splitMarked(marked);
  }
}

function first(elements: Iterable<Section>, test: (e: Section) => boolean): Section | undefined {
  for (const element of elements) if (test(element)) return element;
  return undefined;
}

/** pyxform's lowest common ancestor search: both ancestor chains are climbed in turn. */
function commonAncestor(self: FormElement, other: FormElement, kinds: string[]): { contextSteps: number; ancestor: Section } | undefined {
  const selfSeen = new Map<Section, number>();
  const otherSeen = new Map<Section, number>();
  let selfCurrent = self.parent;
  let otherCurrent = other.parent;
  let selfDistance = 1;
  let otherDistance = 1;
  while (selfCurrent || otherCurrent) {
    if (selfCurrent) {
      selfSeen.set(selfCurrent, selfDistance);
      if (kinds.includes(selfCurrent.kind) && otherSeen.has(selfCurrent)) return { contextSteps: selfDistance, ancestor: selfCurrent };
      selfDistance += 1;
      selfCurrent = selfCurrent.parent;
    }
    if (otherCurrent) {
      otherSeen.set(otherCurrent, otherDistance);
      if (kinds.includes(otherCurrent.kind) && selfSeen.has(otherCurrent)) {
        return { contextSteps: selfSeen.get(otherCurrent) ?? 0, ancestor: otherCurrent };
      }
      otherDistance += 1;
      otherCurrent = otherCurrent.parent;
    }
  }
  return undefined;
}

const INDEXED_REPEAT = /indexed-repeat\([^)]+\)/g;
const RELATIVE_ARG_POSITIONS = [0, 1, 3, 5];

/**
 * Inside indexed-repeat(), only the repeat-index arguments (3rd, 5th, …) may be relative;
 * the node and repeat arguments must stay absolute.
 */
function relativeAllowed(whole: string, span: { start: number; end: number }, name: string): boolean {
  if (!whole.includes('indexed-repeat(')) return true;
  const calls = [...whole.matchAll(INDEXED_REPEAT)];
  for (let i = 0; i < calls.length; i += 1) {
    const call = calls[i] as RegExpMatchArray;
    const callStart = call.index ?? 0;
    const callEnd = callStart + call[0].length;
    if (span.end > callEnd) {
      // pyxform advances past the next call here as well, so it is skipped.
      i += 1;
      if (i >= calls.length) return true;
      continue;
    }
    if (span.end < callStart || span.start > callEnd) return true;
    const args = (/\b[^()]+\((.*)\)$/.exec(call[0])?.[1] ?? '').split(',');
    let index: number | undefined;
    args.forEach((arg, position) => {
      if (arg.trim().includes(`\${${name}}`)) index = position;
    });
    return index !== undefined && !RELATIVE_ARG_POSITIONS.includes(index);
  }
  return false;
}

function inSecondaryInstancePredicate(whole: string, span: { start: number; end: number }): boolean {
  if (!/instance\([^)]+.+/.test(whole)) return false;
  for (const bracket of whole.matchAll(/\[([^\]]+)\]/g)) {
    const start = bracket.index ?? 0;
    if (span.start >= start && span.end <= start + bracket[0].length) return true;
  }
  return false;
}

function escapeXmlText(value: string): string {
  return value.replaceAll('&', '&amp;').replaceAll('<', '&lt;').replaceAll('>', '&gt;');
}

function unescapeXml(value: string): string {
  return value.replace(/&(lt|gt|quot|apos|amp);/g, (_, name: string) => ({ lt: '<', gt: '>', quot: '"', apos: "'", amp: '&' })[name] ?? '');
}

/** Spans of `instance('x')/path[pred]` expressions in label text, as pyxform finds them. */
function instanceExpressionSpans(value: string): Array<[number, number]> {
  const tokens = tokenize(value);
  const bounds: number[] = [];
  let inInstance = false;
  let inPath = false;
  let inPredicate = false;
  let last: (typeof tokens)[number] | undefined;
  for (const token of tokens) {
    let emit = false;
    if (!inInstance && token.type === 'FUNC_CALL' && token.value === 'instance(') {
      inInstance = true;
      emit = true;
      bounds.push(token.start);
    } else if (inInstance && last) {
      if (token.type === 'SYSTEM_LITERAL' && last.type === 'FUNC_CALL' && last.value === 'instance(') emit = true;
      else if (last.type === 'SYSTEM_LITERAL' && token.type === 'CLOSE_PAREN') emit = true;
      else if (token.type === 'PATH_SEP' && (last.type === 'CLOSE_PAREN' || last.type === 'XPATH_PRED_END')) {
        emit = true;
        inPath = true;
      } else if (inPath) {
        if (token.type === 'WHITESPACE') inPath = false;
        else if (token.type !== 'XPATH_PRED_START') emit = true;
        else {
          emit = true;
          inPath = false;
          inPredicate = true;
        }
      } else if (inPredicate) {
        emit = true;
        if (token.type === 'XPATH_PRED_END') inPredicate = false;
      }
    }
    if (emit) last = token;
    else if (inInstance) {
      inInstance = false;
      bounds.push(last?.end ?? token.start);
    }
  }
  if (last !== undefined) bounds.push(last.end);
  const spans: Array<[number, number]> = [];
  for (let i = 0; i + 1 < bounds.length; i += 2) spans.push([bounds[i] as number, bounds[i + 1] as number]);
  return spans;
}

function outputInstanceExpressions(escaped: string, expand: (expression: string) => string): string {
  if (escaped.length <= 9 || !escaped.includes('instance(')) return escaped;
  let out = '';
  let position = 0;
  for (const [start, end] of instanceExpressionSpans(escaped)) {
    out += escaped.slice(position, start);
    // The escaped text becomes the attribute value, so its entities stay escaped once more.
    out += `\u0000${expand(escaped.slice(start, end))}\u0001`;
    position = end;
  }
  return out + escaped.slice(position);
}

/** Marked text (outputs between \0 and \1, text still XML-escaped) → label parts. */
function splitMarked(marked: string): LabelPart[] {
  const parts: LabelPart[] = [];
  let rest = marked;
  while (rest.length > 0) {
    const open = rest.indexOf('\u0000');
    if (open < 0) {
      parts.push(unescapeXml(rest));
      break;
    }
    if (open > 0) parts.push(unescapeXml(rest.slice(0, open)));
    const close = rest.indexOf('\u0001', open);
    parts.push({ output: rest.slice(open + 1, close) });
    rest = rest.slice(close + 1);
  }
  return parts;
}
