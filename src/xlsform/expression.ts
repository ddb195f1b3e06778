/*
 * Lexical facts about XLSForm expressions, as pyxform 4.5.0 sees them.
 *
 * - Names: pyxform's NCName pattern, including its quirk that the range U+00C0–U+00D6 is
 *   written without its opening bracket, so those letters cannot start a name.
 * - Tokens: a first-match lexer over pyxform's token rules in priority order. It decides
 *   whether a `default` is dynamic and where `instance(...)` paths in labels begin and end.
 * - References: `${name}` and `${last-saved#name}`, with pyxform's syntax errors.
 */
import { XlsFormError } from './issues.js';

const NAME_START =
  '(?:[A-Z]|_|[a-z]|\\xc0-\\xd6\\]|[\\xd8-\\xf6]|[\\xf8-\\u02ff]|[\\u0370-\\u037d]|[\\u037f-\\u1fff]|' +
  '[\\u200c-\\u200d]|[\\u2070-\\u218f]|[\\u2c00-\\u2fef]|[\\u3001-\\uD7FF]|[\\uF900-\\uFDCF]|' +
  '[\\uFDF0-\\uFFFD]|[\\u{10000}-\\u{EFFFF}])';
const NAME_EXTRA = '[\\-.0-9\\xb7\\u0300-\\u036f\\u203f-\\u2040]';
export const NCNAME = `${NAME_START}(?:${NAME_START}|${NAME_EXTRA})*`;
const NCNAME_NS = `${NCNAME}(?::${NCNAME})?`;

const XML_TAG = new RegExp(`^${NCNAME_NS}$`, 'u');

/** Is the text a valid element name (optionally prefixed)? */
export function isXmlTag(value: string | undefined): boolean {
  return value !== undefined && value !== '' && XML_TAG.test(value);
}

export type TokenType =
  | 'DATETIME' | 'DATE' | 'TIME' | 'NUMBER' | 'OPS_MATH' | 'OPS_COMP' | 'OPS_BOOL' | 'OPS_UNION'
  | 'OPEN_PAREN' | 'CLOSE_PAREN' | 'BRACKET' | 'PARENT_REF' | 'SELF_REF' | 'PATH_SEP'
  | 'SYSTEM_LITERAL' | 'COMMA' | 'WHITESPACE' | 'PYXFORM_REF' | 'FUNC_CALL' | 'XPATH_PRED_START'
  | 'XPATH_PRED_END' | 'URI_SCHEME' | 'NAME' | 'PYXFORM_REF_START' | 'PYXFORM_REF_END' | 'OTHER';

export interface Token {
  type: TokenType;
  value: string;
  start: number;
  end: number;
}

const DATE = '-?\\d{4}-\\d{2}-\\d{2}';
const TIME = '\\d{2}:\\d{2}:\\d{2}(?:\\.\\s+)?(?:(?:(?:\\+|-)\\d{2}:\\d{2})|Z)?';

// Highest priority first; at each position the first rule that matches wins.
const TOKEN_RULES: ReadonlyArray<[TokenType, string]> = [
  ['DATETIME', `${DATE}T${TIME}`],
  ['DATE', DATE],
  ['TIME', TIME],
  ['NUMBER', '-?\\d+\\.\\d*|-?\\.\\d+|-?\\d+'],
  ['OPS_MATH', '[*+\\-]| mod | div '],
  ['OPS_COMP', '=|!=|<|>|<=|>='],
  ['OPS_BOOL', ' and | or '],
  ['OPS_UNION', '\\|'],
  ['OPEN_PAREN', '\\('],
  ['CLOSE_PAREN', '\\)'],
  ['BRACKET', '[\\[{}]'],
  ['PARENT_REF', '\\.\\.'],
  ['SELF_REF', '\\.'],
  ['PATH_SEP', '\\/'],
  ['SYSTEM_LITERAL', '"[^"]*"|\'[^\']*\''],
  ['COMMA', ','],
  ['WHITESPACE', '\\s+'],
  ['PYXFORM_REF', `\\$\\{(?:last-saved#)?${NCNAME}\\}`],
  ['FUNC_CALL', `${NCNAME_NS}\\(`],
  ['XPATH_PRED_START', `${NCNAME_NS}\\[`],
  ['XPATH_PRED_END', '\\]'],
  ['URI_SCHEME', `${NCNAME}:\\/\\/`],
  ['NAME', NCNAME_NS],
  ['PYXFORM_REF_START', '\\$\\{'],
  ['PYXFORM_REF_END', '\\}'],
  ['OTHER', '.'],
];

const TOKEN_REGEX = new RegExp(TOKEN_RULES.map(([type, pattern]) => `(?<${type}>${pattern})`).join('|'), 'uy');

/** Splits an expression into pyxform's tokens; text no rule matches (a lone newline) is skipped. */
export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let pos = 0;
  while (pos < text.length) {
    TOKEN_REGEX.lastIndex = pos;
    const match = TOKEN_REGEX.exec(text);
    const groups = match?.groups;
    if (!match || !groups || match[0] === '') {
      pos += 1;
      continue;
    }
    const type = TOKEN_RULES.find(([name]) => groups[name] !== undefined)?.[0] ?? 'OTHER';
    tokens.push({ type, value: match[0], start: pos, end: pos + match[0].length });
    pos += match[0].length;
  }
  return tokens;
}

const GEO_OR_DATE_TYPES = new Set(['date', 'dateTime', 'geopoint', 'geotrace', 'geoshape']);
const DYNAMIC_TOKENS = new Set<TokenType>(['OPS_MATH', 'OPS_UNION', 'PYXFORM_REF', 'FUNC_CALL']);

/** Does a `default` need evaluating (set by setvalue) rather than being a literal instance value? */
export function isDynamicDefault(value: string | undefined, questionType?: string): boolean {
  if (!value) return false;
  for (const token of tokenize(value)) {
    if (questionType !== undefined && GEO_OR_DATE_TYPES.has(questionType) && token.type === 'OPS_MATH' && token.value === '-') {
      return false;
    }
    if (DYNAMIC_TOKENS.has(token.type)) return true;
  }
  return false;
}

/** `${name}` or `${last-saved#name}` as substituted in expressions and labels. */
export const PYXFORM_REF = new RegExp(`\\$\\{(?<lastSaved>last-saved#)?(?<name>${NCNAME})\\}`, 'gu');
const REF_OUTER = /\$\{(?<inner>[^}]+)\}|\$\{[^}]*$/g;
const REF_INNER = new RegExp(`^(?<lastSaved>last-saved#)?(?<name>${NCNAME})$`, 'u');

export interface ParsedReference {
  name: string;
  lastSaved: boolean;
}

/** Why a reference could not be parsed; callers add the sheet, row and column. */
export class ReferenceSyntaxError extends Error {
  constructor(readonly kind: 'malformed' | 'too_many') {
    super(kind);
  }
}

/** Cheap pre-check before parsing: could the text hold a reference at all? */
export function mayHaveReference(value: string): boolean {
  return value.length > 2 && value.includes('${');
}

/**
 * All references in the text. Throws ReferenceSyntaxError for `${` not followed by a name
 * and `}`, or for more references than `limit`.
 */
export function parseReferences(value: string, limit?: number): ParsedReference[] {
  if (!mayHaveReference(value)) return [];
  const found: ParsedReference[] = [];
  for (const match of value.matchAll(REF_OUTER)) {
    const inner = match.groups?.['inner'];
    const parsed = inner === undefined ? null : REF_INNER.exec(inner);
    if (!parsed?.groups) throw new ReferenceSyntaxError('malformed');
    if (limit !== undefined && found.length >= limit) throw new ReferenceSyntaxError('too_many');
    found.push({ name: parsed.groups['name'] ?? '', lastSaved: parsed.groups['lastSaved'] !== undefined });
  }
  return found;
}

/** Is the whole text exactly one well-formed reference? */
export function isSingleReference(value: string): boolean {
  if (!mayHaveReference(value)) return false;
  const match = /^\$\{(?<inner>[^}]+)\}$/.exec(value);
  return match?.groups !== undefined && REF_INNER.test(match.groups['inner'] ?? '');
}

/** Does the text contain at least one well-formed reference (and no malformed one)? */
export function hasReference(value: string | undefined): boolean {
  if (value === undefined) return false;
  try {
    return parseReferences(value).length > 0;
  } catch (error) {
    if (error instanceof ReferenceSyntaxError) return false;
    throw error;
  }
}

export function hasLastSavedReference(value: string | undefined): boolean {
  if (value === undefined || value.length <= 14) return false;
  try {
    return parseReferences(value).some((ref) => ref.lastSaved);
  } catch (error) {
    if (error instanceof ReferenceSyntaxError) return false;
    throw error;
  }
}

export interface ReferenceContext {
  sheet: string;
  row: number;
  column: string;
}

/** pyxform's messages for a malformed reference in a given cell. */
export function referenceSyntaxIssue(error: ReferenceSyntaxError, at: ReferenceContext): XlsFormError {
  const where = `[row : ${at.row}] On the '${at.sheet}' sheet, the '${at.column}' value is invalid.`;
  const message =
    error.kind === 'malformed'
      ? `${where} Reference variables must start with '\${', then a question name, and end with '}'.`
      : `${where} Reference variable lists must have a comma between each variable.`;
  return new XlsFormError('xlsform.bad_reference', message, { sheet: at.sheet, row: at.row });
}
