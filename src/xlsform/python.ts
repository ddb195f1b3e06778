/*
 * Small reproductions of Python behaviours that show up in pyxform's output and messages:
 * how a dict prints, how a file name splits into stem and extension, what counts as space.
 * They exist so that messages and edge cases read exactly as users of pyxform know them.
 */

/** Python's str.isspace() characters. */
const PY_SPACE_CLASS = '\\t\\n\\v\\f\\r\\x1c-\\x20\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const PY_EDGE_SPACE = new RegExp(`^[${PY_SPACE_CLASS}]+|[${PY_SPACE_CLASS}]+$`, 'g');
const PY_ONLY_SPACE = new RegExp(`^[${PY_SPACE_CLASS}]*$`);

const PY_SPACE_CHAR = new RegExp(`[${PY_SPACE_CLASS}]`);

export function pyStrip(text: string): string {
  // Most cells have no edge space; skip the regex for them.
  if (text === '' || (!PY_SPACE_CHAR.test(text[0] ?? '') && !PY_SPACE_CHAR.test(text[text.length - 1] ?? ''))) return text;
  return text.replace(PY_EDGE_SPACE, '');
}

/** True for the empty string and strings of whitespace only. */
export function isBlank(text: string): boolean {
  return text === '' || (PY_SPACE_CHAR.test(text[0] ?? '') && PY_ONLY_SPACE.test(text));
}

/** Python's `os.path.splitext`: the extension is the last dot-part, unless the name starts with it. */
export function splitExt(path: string): [stem: string, ext: string] {
  const slash = path.lastIndexOf('/');
  const dot = path.lastIndexOf('.');
  if (dot <= slash) return [path, ''];
  const base = path.slice(slash + 1, dot);
  if (/^\.*$/.test(base)) return [path, ''];
  return [path.slice(0, dot), path.slice(dot)];
}

/** Python's `pathlib.PurePath(name).suffixes`. */
export function pathSuffixes(path: string): string[] {
  const name = path.slice(path.lastIndexOf('/') + 1);
  if (name.endsWith('.')) return [];
  return name.replace(/^\.+/, '').split('.').slice(1).map((part) => `.${part}`);
}

/** A value as Python's repr() prints it: strings quoted, maps as dicts. */
export type PyValue = string | number | boolean | null | ReadonlyMap<string, PyValue> | readonly PyValue[];

export function pyRepr(value: PyValue): string {
  if (value === null) return 'None';
  if (typeof value === 'string') return pyStringRepr(value);
  if (typeof value === 'number') return String(value);
  if (typeof value === 'boolean') return value ? 'True' : 'False';
  if (Array.isArray(value)) return `[${value.map((item: PyValue) => pyRepr(item)).join(', ')}]`;
  const entries = [...(value as ReadonlyMap<string, PyValue>)].map(([k, v]) => `${pyStringRepr(k)}: ${pyRepr(v)}`);
  return `{${entries.join(', ')}}`;
}

function pyStringRepr(text: string): string {
  const quote = text.includes("'") && !text.includes('"') ? '"' : "'";
  let out = '';
  for (const ch of text) {
    const code = ch.codePointAt(0) ?? 0;
    if (ch === '\\') out += '\\\\';
    else if (ch === quote) out += `\\${quote}`;
    else if (ch === '\n') out += '\\n';
    else if (ch === '\r') out += '\\r';
    else if (ch === '\t') out += '\\t';
    else if (code < 0x20 || (code >= 0x7f && code < 0xa0)) out += `\\x${code.toString(16).padStart(2, '0')}`;
    else out += ch;
  }
  return `${quote}${out}${quote}`;
}

/** Python's `float(text)` succeeds: decimal or exponent forms, inf/nan, surrounding space allowed. */
export function isPyFloat(text: string): boolean {
  const trimmed = pyStrip(text).replaceAll('_', '');
  return /^[+-]?((\d+\.?\d*|\.\d+)(e[+-]?\d+)?|inf(inity)?|nan)$/i.test(trimmed) && trimmed !== '';
}

/** Python's `int(text)` succeeds. */
export function isPyInt(text: string): boolean {
  return /^[+-]?\d+(_\d+)*$/.test(pyStrip(text));
}
