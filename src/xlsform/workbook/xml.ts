/*
 * XML for workbook parts: a small, strict pull scanner over a part's inflated bytes.
 *
 * Workbook parts are plain data (no DTD, no entities beyond the predefined five), so a
 * general-purpose parser's per-character state machine is mostly wasted work; this
 * scanner jumps from markup to markup with indexOf and tight character-code loops, and
 * only turns the attributes a reader asks for into strings. It is not lenient: a DOCTYPE is refused outright (no
 * entity tricks can follow), and everything XML 1.0 requires of a well-formed document
 * without a DTD is checked — characters, names, attribute syntax and uniqueness, references,
 * matching end tags, one root element, comments, CDATA and processing instructions — with
 * nesting depth capped. Line ends and attribute white space are normalised as the XML
 * specification says. Element names are reduced to their local part so prefixed
 * spreadsheets (`<x:row>`) read like plain ones; attribute names are passed as written
 * (SpreadsheetML attributes are unprefixed, except relationship ids such as `r:id`).
 *
 * The bytes are decoded a window at a time, so a very large part never becomes one huge
 * string; a single piece of markup is capped at `maxXmlMarkupChars`, and longer text is
 * handed over in pieces.
 */
import { WorkbookError } from './errors.js';
import { maxXmlDepth, maxXmlMarkupChars } from './limits.js';

/** The attributes of the element being opened; valid only during the `open` call. */
export interface XmlAttributes {
  /** The value of the attribute written as `name` (with its prefix, if any). */
  get(name: string): string | undefined;
  /** Every attribute name as written, in document order. */
  names(): string[];
}

export interface XmlHandler {
  open?(name: string, attrs: XmlAttributes): void;
  close?(name: string): void;
  /** Character data inside the root element; one run may arrive in several pieces. */
  text?(text: string): void;
}

export interface ScanSizes {
  /** Bytes decoded at a time. */
  windowBytes: number;
  /** Longest tag, comment, CDATA section or processing instruction accepted. */
  maxMarkupChars: number;
}

// Real parts fit in one window, which matters: a window joined to the rest of the previous
// one is a concatenated string, and scanning those is much slower.
const defaultSizes: ScanSizes = Object.freeze({ windowBytes: 8 * 1024 * 1024, maxMarkupChars: maxXmlMarkupChars });

const TAB = 0x09;
const LF = 0x0a;
const CR = 0x0d;
const SPACE = 0x20;
const BANG = 0x21;
const DOUBLE_QUOTE = 0x22;
const SINGLE_QUOTE = 0x27;
const SLASH = 0x2f;
const LESS_THAN = 0x3c;
const EQUALS = 0x3d;
const GREATER_THAN = 0x3e;
const QUESTION = 0x3f;

const S = '[ \\t\\r\\n]';
// XML 1.0 names, matched on UTF-16 code units (a Unicode-mode regex is markedly slower):
// characters beyond the BMP that names allow (U+10000–U+EFFFF) are surrogate pairs.
const NAME_START = ':A-Z_a-z\\u00C0-\\u00D6\\u00D8-\\u00F6\\u00F8-\\u02FF\\u0370-\\u037D\\u037F-\\u1FFF\\u200C\\u200D'
  + '\\u2070-\\u218F\\u2C00-\\u2FEF\\u3001-\\uD7FF\\uF900-\\uFDCF\\uFDF0-\\uFFFD';
const ASTRAL = '[\\uD800-\\uDB7F][\\uDC00-\\uDFFF]';
const NAME = new RegExp(`(?:[${NAME_START}]|${ASTRAL})(?:[${NAME_START}\\-.0-9\\u00B7\\u0300-\\u036F\\u203F\\u2040]|${ASTRAL})*`, 'y');

// Names are nearly always ASCII: classify those code units by table, and leave the rest to NAME.
const ASCII_NAME_START = 1;
const ASCII_NAME_CHAR = 2;
const ASCII_NAME = new Uint8Array(128);
for (let code = 0; code < 128; code++) {
  const char = String.fromCharCode(code);
  if (/[:A-Z_a-z]/.test(char)) ASCII_NAME[code] = ASCII_NAME_START | ASCII_NAME_CHAR;
  else if (/[-.0-9]/.test(char)) ASCII_NAME[code] = ASCII_NAME_CHAR;
}

/** End of the XML name starting at `start`, or `start` itself when none starts there. */
function nameEnd(source: string, start: number): number {
  let at = start;
  if ((ASCII_NAME[source.charCodeAt(at)]! & ASCII_NAME_START) !== 0) {
    do at++;
    while ((ASCII_NAME[source.charCodeAt(at)]! & ASCII_NAME_CHAR) !== 0);
    if (!(source.charCodeAt(at) >= 0x80)) return at;
  }
  NAME.lastIndex = start;
  return NAME.test(source) ? NAME.lastIndex : start;
}

function skipSpace(source: string, start: number): number {
  let at = start;
  for (let code = source.charCodeAt(at); code === SPACE || code === LF || code === TAB || code === CR; code = source.charCodeAt(at)) at++;
  return at;
}

const XML_DECLARATION = new RegExp(
  `<\\?xml${S}+version${S}*=${S}*(?:"1\\.[0-9]+"|'1\\.[0-9]+')`
  + `(?:${S}+encoding${S}*=${S}*(?:"[A-Za-z][\\w.-]*"|'[A-Za-z][\\w.-]*'))?`
  + `(?:${S}+standalone${S}*=${S}*(?:"(?:yes|no)"|'(?:yes|no)'))?${S}*\\?>`,
  'y',
);
const SPECIAL_IN_ATTRIBUTE = /[\t\n\r&]/;
const ONLY_SPACE = /^[ \t\r\n]*$/;
// Characters XML 1.0 does not allow: C0 controls other than tab and line ends, and
// U+FFFE/U+FFFF. (Unpaired surrogates cannot occur: the decoder replaces them, and any
// malformed byte sequence, by U+FFFD.)
const INVALID_CHAR = /[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/;
const REFERENCE = /&(?:(lt|gt|amp|apos|quot)|#([0-9]+)|#x([0-9a-fA-F]+));|&/g;
const PREDEFINED: Readonly<Record<string, string>> = { lt: '<', gt: '>', amp: '&', apos: "'", quot: '"' };

const isXmlChar = (code: number): boolean =>
  code === 0x9 || code === 0xa || code === 0xd || (code >= 0x20 && code <= 0xd7ff) || (code >= 0xe000 && code <= 0xfffd) || (code >= 0x10000 && code <= 0x10ffff);

const localName = (name: string): string => {
  const colon = name.indexOf(':');
  return colon < 0 ? name : name.slice(colon + 1);
};

// Beyond this many attributes in one tag, duplicates are found with a set instead of by pairs.
const PAIRWISE_DUPLICATE_CHECK = 8;

/**
 * One tag's attributes as spans of the source text, turned into strings only when asked
 * for: most attributes in workbook XML (row heights, spans, style flags) are never read.
 */
class AttributeList implements XmlAttributes {
  private source = '';
  /** Per attribute: name start, name end, value start, value end. */
  private readonly spans: number[] = [];
  private count = 0;
  private seen: Set<string> | undefined;

  constructor(private readonly resolve: (raw: string, position: number) => string) {}

  reset(source: string): void {
    this.source = source;
    this.count = 0;
    this.seen = undefined;
  }

  /** Adds an attribute; false when its name is already there. */
  add(nameStart: number, nameEnd: number, valueStart: number, valueEnd: number): boolean {
    if (this.count < PAIRWISE_DUPLICATE_CHECK) {
      if (this.indexOf(this.source.slice(nameStart, nameEnd)) >= 0) return false;
    } else {
      this.seen ??= new Set(this.names());
      const name = this.source.slice(nameStart, nameEnd);
      if (this.seen.has(name)) return false;
      this.seen.add(name);
    }
    const at = 4 * this.count++;
    this.spans[at] = nameStart;
    this.spans[at + 1] = nameEnd;
    this.spans[at + 2] = valueStart;
    this.spans[at + 3] = valueEnd;
    return true;
  }

  get(name: string): string | undefined {
    const index = this.indexOf(name);
    if (index < 0) return undefined;
    const raw = this.source.slice(this.spans[4 * index + 2], this.spans[4 * index + 3]);
    return SPECIAL_IN_ATTRIBUTE.test(raw) ? this.resolve(raw.replace(/\r\n|[\t\n\r]/g, ' '), this.spans[4 * index]!) : raw;
  }

  names(): string[] {
    return Array.from({ length: this.count }, (_, i) => this.source.slice(this.spans[4 * i], this.spans[4 * i + 1]));
  }

  private indexOf(name: string): number {
    for (let i = 0; i < this.count; i++) {
      const start = this.spans[4 * i]!;
      if (this.spans[4 * i + 1]! - start === name.length && this.source.startsWith(name, start)) return i;
    }
    return -1;
  }
}

class XmlScanner {
  private readonly decoder: TextDecoder;
  private source = '';
  private at = 0;
  private decodedBytes = 0;
  private linesDropped = 0;
  private readonly open: string[] = [];
  private sawRoot = false;
  private readonly attributes = new AttributeList((raw, position) => this.references(raw, position));
  /** Cached position of the next "&" at or after the last lookup (Infinity: none in the window). */
  private nextAmpersand = -1;

  constructor(
    private readonly part: string,
    private readonly bytes: Uint8Array,
    private readonly handler: XmlHandler,
    private readonly sizes: ScanSizes,
  ) {
    this.decoder = new TextDecoder(bytes[0] === 0xff && bytes[1] === 0xfe ? 'utf-16le' : 'utf-8');
  }

  run(): void {
    this.ensureAhead();
    XML_DECLARATION.lastIndex = 0;
    if (/^<\?xml[ \t\r\n?]/.test(this.source.slice(0, 6))) {
      if (!XML_DECLARATION.test(this.source)) throw this.malformed('invalid XML declaration');
      this.at = XML_DECLARATION.lastIndex;
    }
    for (;;) {
      this.ensureAhead();
      if (this.at >= this.source.length) break;
      if (this.source.charCodeAt(this.at) === LESS_THAN) this.markup();
      else this.characters();
    }
    if (this.open.length > 0) throw this.malformed(`the element <${this.open.at(-1)}> is never closed`);
    if (!this.sawRoot) throw this.malformed('there is no root element');
  }

  private get exhausted(): boolean {
    return this.decodedBytes >= this.bytes.length;
  }

  /** Keep at least one markup's worth of text ahead of the cursor (or all that is left). */
  private ensureAhead(): void {
    while (!this.exhausted && this.source.length - this.at < this.sizes.maxMarkupChars) {
      const end = Math.min(this.bytes.length, this.decodedBytes + this.sizes.windowBytes);
      const text = this.decoder.decode(this.bytes.subarray(this.decodedBytes, end), { stream: end < this.bytes.length });
      this.decodedBytes = end;
      for (let nl = this.source.indexOf('\n'); nl >= 0 && nl < this.at; nl = this.source.indexOf('\n', nl + 1)) this.linesDropped++;
      this.source = this.source.slice(this.at) + text;
      this.at = 0;
      this.nextAmpersand = -1;
      const invalid = text.search(INVALID_CHAR);
      if (invalid >= 0) throw this.malformed('it contains a character XML does not allow', this.source.length - text.length + invalid);
    }
  }

  /** Character data up to the next markup, or a piece of it when it runs past the window. */
  private characters(): void {
    const start = this.at;
    let end = this.source.indexOf('<', start);
    if (end < 0) end = this.exhausted ? this.source.length : this.pieceEnd(start);
    const raw = this.source.slice(start, end);
    this.at = end;
    if (this.open.length === 0) {
      if (!ONLY_SPACE.test(raw)) throw this.malformed('there is text outside the root element', start);
      return;
    }
    if (raw.includes(']]>') || this.source.startsWith(']]>', end - 2) || this.source.startsWith(']]>', end - 1)) {
      throw this.malformed('the text contains "]]>"', start);
    }
    const text = this.references(raw.includes('\r') ? raw.replace(/\r\n?/g, '\n') : raw, start);
    if (text !== '') this.handler.text?.(text);
  }

  /**
   * Where to cut a run of text that fills the window: not inside a reference or a CR LF
   * pair, and two characters short of the window's end, so that a "]]>" across the cut is
   * still seen by the check in `characters`.
   */
  private pieceEnd(start: number): number {
    let end = this.source.length - 2;
    const ampersand = this.source.lastIndexOf('&', end - 1);
    const semicolon = ampersand > start ? this.source.indexOf(';', ampersand) : -1;
    if (ampersand > start && (semicolon < 0 || semicolon >= end)) end = ampersand;
    return end - 1 > start && this.source.charCodeAt(end - 1) === CR ? end - 1 : end;
  }

  private markup(): void {
    const next = this.source.charCodeAt(this.at + 1);
    if (next === SLASH) this.endTag();
    else if (next === BANG) this.declaration();
    else if (next === QUESTION) this.processingInstruction();
    else this.startTag();
  }

  private startTag(): void {
    const source = this.source;
    const nameStart = this.at + 1;
    let position = nameEnd(source, nameStart);
    if (position === nameStart) throw this.malformed('a "<" does not start a valid tag');
    const name = source.slice(nameStart, position);
    if (this.open.length === 0 && this.sawRoot) throw this.malformed(`the element <${name}> follows the root element`);
    if (this.open.length >= maxXmlDepth) throw this.malformed(`elements nest deeper than ${maxXmlDepth} levels`);
    // No "<" may appear inside a tag, so the next one bounds every attribute value.
    const nextTag = source.indexOf('<', nameStart);
    const limit = nextTag < 0 ? source.length : nextTag;
    this.attributes.reset(source);
    for (;;) {
      const next = skipSpace(source, position);
      const code = source.charCodeAt(next);
      if (code === GREATER_THAN || (code === SLASH && source.charCodeAt(next + 1) === GREATER_THAN)) {
        this.at = next + (code === SLASH ? 2 : 1);
        this.sawRoot = true;
        const local = localName(name);
        this.handler.open?.(local, this.attributes);
        if (code === SLASH) this.handler.close?.(local);
        else this.open.push(name);
        return;
      }
      if (next === position) throw this.badTag(name, 'is not well-formed', position);
      position = this.attribute(name, next, limit);
    }
  }

  /** Checks `name="value"` at `start` and records it; returns where it ends. */
  private attribute(tag: string, start: number, limit: number): number {
    const source = this.source;
    const end = nameEnd(source, start);
    let at = skipSpace(source, end);
    if (end === start || source.charCodeAt(at) !== EQUALS) throw this.badTag(tag, 'has a malformed attribute', start);
    at = skipSpace(source, at + 1);
    const quote = source.charCodeAt(at);
    const close = quote === DOUBLE_QUOTE || quote === SINGLE_QUOTE ? source.indexOf(quote === DOUBLE_QUOTE ? '"' : "'", at + 1) : -1;
    if (close < 0 || close > limit) throw this.badTag(tag, 'has an attribute without a quoted value, or with "<" in it', start);
    if (!this.attributes.add(start, end, at + 1, close)) throw this.badTag(tag, `has the attribute ${source.slice(start, end)} twice`, start);
    if (this.ampersandFrom(at + 1) < close) this.references(source.slice(at + 1, close), start);
    return close + 1;
  }

  /** The error for a start tag; one that runs past the window is too long rather than malformed. */
  private badTag(name: string, problem: string, position: number): WorkbookError {
    const cut = !this.exhausted && this.source.indexOf('<', this.at + 1) < 0;
    return this.malformed(`the tag <${name}> ${cut ? `is longer than ${this.sizes.maxMarkupChars} characters` : problem}`, position);
  }

  private ampersandFrom(position: number): number {
    if (this.nextAmpersand < position) {
      const found = this.source.indexOf('&', position);
      this.nextAmpersand = found < 0 ? Number.POSITIVE_INFINITY : found;
    }
    return this.nextAmpersand;
  }

  private endTag(): void {
    const source = this.source;
    const nameStart = this.at + 2;
    const end = nameEnd(source, nameStart);
    const after = skipSpace(source, end);
    if (end === nameStart || source.charCodeAt(after) !== GREATER_THAN) throw this.malformed('an end tag is not well-formed');
    const name = source.slice(nameStart, end);
    const expected = this.open.pop();
    if (expected !== name) throw this.malformed(expected === undefined ? `the end tag </${name}> has no start tag` : `the end tag </${name}> does not match <${expected}>`);
    this.at = after + 1;
    this.handler.close?.(localName(name));
  }

  private declaration(): void {
    const source = this.source;
    if (source.startsWith('<!--', this.at)) {
      const end = this.terminator('-->', this.at + 4, 'a comment');
      const body = source.slice(this.at + 4, end);
      if (body.includes('--') || body.endsWith('-')) throw this.malformed('a comment contains "--"');
      this.at = end + 3;
    } else if (source.startsWith('<![CDATA[', this.at)) {
      if (this.open.length === 0) throw this.malformed('a CDATA section lies outside the root element');
      const end = this.terminator(']]>', this.at + 9, 'a CDATA section');
      const text = source.slice(this.at + 9, end);
      this.at = end + 3;
      if (text !== '') this.handler.text?.(text.includes('\r') ? text.replace(/\r\n?/g, '\n') : text);
    } else if (source.startsWith('<!DOCTYPE', this.at)) {
      throw new WorkbookError(
        'xml.doctype_forbidden',
        `The workbook part ${this.part} contains a DOCTYPE declaration, which spreadsheet files never need and which is refused for safety. Re-save the file from Excel or LibreOffice.`,
      );
    } else {
      throw this.malformed('"<!" starts neither a comment nor a CDATA section');
    }
  }

  private processingInstruction(): void {
    const targetStart = this.at + 2;
    const targetEnd = nameEnd(this.source, targetStart);
    if (targetEnd === targetStart || this.source.slice(targetStart, targetEnd).toLowerCase() === 'xml') {
      throw this.malformed('a processing instruction is not well-formed (an XML declaration may only open the part)');
    }
    const end = this.terminator('?>', targetEnd, 'a processing instruction');
    if (end > targetEnd && skipSpace(this.source, targetEnd) === targetEnd) throw this.malformed('a processing instruction is not well-formed');
    this.at = end + 2;
  }

  /** Index of `marker` closing the construct that starts at the cursor; it must lie within the window. */
  private terminator(marker: string, from: number, what: string): number {
    const end = this.source.indexOf(marker, from);
    if (end >= 0) return end;
    throw this.malformed(this.exhausted ? `${what} is never closed` : `${what} is longer than ${this.sizes.maxMarkupChars} characters`);
  }

  private references(text: string, position: number): string {
    if (!text.includes('&')) return text;
    return text.replace(REFERENCE, (_match, named: string | undefined, decimal: string | undefined, hex: string | undefined) => {
      if (named !== undefined) return PREDEFINED[named]!;
      const code = decimal !== undefined ? Number(decimal) : hex !== undefined ? Number.parseInt(hex, 16) : Number.NaN;
      if (!isXmlChar(code)) throw this.malformed('an "&" starts no valid entity or character reference', position);
      return String.fromCodePoint(code);
    });
  }

  private malformed(detail: string, position = this.at): WorkbookError {
    let line = this.linesDropped + 1;
    let lineStart = 0;
    for (let nl = this.source.indexOf('\n'); nl >= 0 && nl < position; nl = this.source.indexOf('\n', nl + 1)) {
      line++;
      lineStart = nl + 1;
    }
    return new WorkbookError(
      'xlsform.malformed_workbook',
      `The workbook part ${this.part} is not well-formed XML: ${detail} (line ${line}, column ${position - lineStart + 1}). The file is damaged or was not written by a spreadsheet program; re-save it from Excel or LibreOffice.`,
    );
  }
}

/** Scan one workbook part, calling `handler` for each element and piece of text. Throws WorkbookError. */
export function parseXml(part: string, bytes: Uint8Array, handler: XmlHandler, sizes: ScanSizes = defaultSizes): void {
  new XmlScanner(part, bytes, handler, sizes).run();
}
