/*
 * Safe XML reading: every XML document Fieldkeep touches goes through here.
 *
 * Why this layer exists: submissions, forms and encryption manifests arrive from phones and
 * uploads, so they are hostile until proven otherwise. saxes never expands DTD entities or fetches
 * external ones; on top of that we refuse any DOCTYPE outright (no legitimate XForm, submission
 * or OpenRosa document has one), which rules out billion-laughs and XXE entirely. Everything else
 * that could exhaust memory or time is capped: total bytes (checked before the bytes reach the
 * parser), nesting depth (checked when a tag opens, so a 10,000-deep document stops at the cap),
 * element count, attributes per element and the length of any one text run or attribute value.
 * Input must be UTF-8 (what ODK clients send); invalid UTF-8 or another declared encoding is refused.
 *
 * Two ways in: `XmlStreamParser` (push chunks, get start/text/end events; memory stays flat) and
 * `parseXmlTree` (a small element tree for documents that fit comfortably in memory).
 */
import { SaxesParser } from 'saxes';
import type { SaxesAttributeNS, SaxesTagNS } from 'saxes';
import { XmlError } from './errors.js';

export interface XmlLimits {
  /** Total UTF-8 bytes of the document. */
  maxBytes: number;
  /** Deepest element nesting; the root element is depth 1. */
  maxDepth: number;
  /** Elements in the whole document. */
  maxElements: number;
  /** Attributes on one element (namespace declarations included). */
  maxAttributesPerElement: number;
  /** Characters in one text run, CDATA section or attribute value. */
  maxTextLength: number;
}

export const DEFAULT_XML_LIMITS: Readonly<XmlLimits> = Object.freeze({
  maxBytes: 16 * 1024 * 1024,
  maxDepth: 64,
  maxElements: 250_000,
  maxAttributesPerElement: 64,
  maxTextLength: 1024 * 1024,
});

export interface XmlName {
  /** Qualified name as written, e.g. `orx:meta`. */
  name: string;
  /** Local part, e.g. `meta`. */
  local: string;
  prefix: string;
  /** Namespace URI, `''` when none. */
  uri: string;
}

export interface XmlAttribute extends XmlName {
  value: string;
}

export interface XmlStartTag extends XmlName {
  /** Attributes in document order; namespace declarations are not included. */
  attributes: readonly XmlAttribute[];
  /** 1 for the root element. */
  depth: number;
}

export interface XmlHandlers {
  startElement?(tag: XmlStartTag): void;
  /** Character data (text and CDATA) inside the root element, at the depth of its parent element. */
  text?(text: string, depth: number): void;
  endElement?(tag: XmlName, depth: number): void;
}

/**
 * Names that would reach Object.prototype through plain objects keyed by element names
 * (`o.__proto__`, `o.constructor.prototype`); no ODK document needs them.
 */
const FORBIDDEN_NAMES = new Set(['__proto__', 'constructor']);
const UTF8_LABELS = new Set(['utf-8', 'utf8', 'us-ascii', 'ascii']);

export class XmlStreamParser {
  readonly #saxes = new SaxesParser({ xmlns: true, position: true });
  readonly #decoder = new TextDecoder('utf-8', { fatal: true });
  readonly #limits: XmlLimits;
  readonly #handlers: XmlHandlers;
  #bytes = 0;
  #depth = 0;
  #elements = 0;
  #attributesOnTag = 0;
  #started = false;
  #failure: unknown;

  constructor(handlers: XmlHandlers, limits: Partial<XmlLimits> = {}) {
    this.#handlers = handlers;
    this.#limits = { ...DEFAULT_XML_LIMITS, ...limits };
    this.#listen();
  }

  /** Feeds the next chunk of the document. Strings are treated as already-decoded text. */
  write(chunk: Uint8Array | string): this {
    this.#guard(() => {
      this.#countBytes(typeof chunk === 'string' ? utf8Length(chunk) : chunk.byteLength);
      const text = typeof chunk === 'string' ? chunk : this.#decode(chunk, true);
      this.#feed(text);
    });
    return this;
  }

  /** Declares the document complete and runs the final well-formedness checks. */
  end(): void {
    this.#guard(() => {
      this.#feed(this.#decode(new Uint8Array(0), false));
      this.#saxes.close();
    });
  }

  #guard(step: () => void): void {
    if (this.#failure !== undefined) throw this.#failure;
    try {
      step();
    } catch (error) {
      this.#failure = error;
      throw error;
    }
  }

  #feed(text: string): void {
    if (!this.#started && text.length > 0) {
      this.#started = true;
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
    }
    if (text.length > 0) this.#saxes.write(text);
  }

  #decode(bytes: Uint8Array, stream: boolean): string {
    try {
      return this.#decoder.decode(bytes, { stream });
    } catch {
      throw this.#error('xml.malformed', 'The document is not valid UTF-8 text. Save it as UTF-8 and try again.');
    }
  }

  #countBytes(count: number): void {
    this.#bytes += count;
    if (this.#bytes > this.#limits.maxBytes) {
      throw this.#error(
        'xml.too_large',
        `The XML document is larger than the limit of ${this.#limits.maxBytes} bytes.`,
      );
    }
  }

  #listen(): void {
    const saxes = this.#saxes;
    saxes.on('error', (err) => {
      throw this.#error('xml.malformed', `The XML is malformed: ${stripPosition(err.message)}.`);
    });
    saxes.on('doctype', () => {
      throw this.#error(
        'xml.doctype_forbidden',
        'The XML contains a DOCTYPE declaration, which is refused for safety (it enables entity expansion attacks). Remove the <!DOCTYPE …> line.',
      );
    });
    saxes.on('xmldecl', (decl) => {
      if (decl.encoding !== undefined && !UTF8_LABELS.has(decl.encoding.toLowerCase())) {
        throw this.#error(
          'xml.unsupported_encoding',
          `The XML declares encoding "${decl.encoding}"; only UTF-8 is accepted. Save the document as UTF-8.`,
        );
      }
    });
    saxes.on('opentagstart', () => this.#openingTag());
    saxes.on('attribute', (attribute) => this.#attribute(attribute.value.length));
    saxes.on('opentag', (tag) => this.#startElement(tag));
    saxes.on('closetag', (tag) => this.#endElement(tag));
    saxes.on('text', (text) => this.#text(text));
    saxes.on('cdata', (text) => this.#text(text));
  }

  #openingTag(): void {
    this.#elements += 1;
    this.#attributesOnTag = 0;
    if (this.#depth + 1 > this.#limits.maxDepth) {
      throw this.#error('xml.too_deep', `The XML nests elements deeper than the limit of ${this.#limits.maxDepth} levels.`);
    }
    if (this.#elements > this.#limits.maxElements) {
      throw this.#error('xml.too_many_elements', `The XML has more than the limit of ${this.#limits.maxElements} elements.`);
    }
  }

  #attribute(valueLength: number): void {
    this.#attributesOnTag += 1;
    if (this.#attributesOnTag > this.#limits.maxAttributesPerElement) {
      throw this.#error(
        'xml.too_many_attributes',
        `An element has more than the limit of ${this.#limits.maxAttributesPerElement} attributes.`,
      );
    }
    this.#checkTextLength(valueLength);
  }

  #startElement(tag: SaxesTagNS): void {
    this.#checkName(tag.local);
    const attributes: XmlAttribute[] = [];
    for (const key in tag.attributes) {
      const { name, local, prefix, uri, value } = tag.attributes[key] as SaxesAttributeNS;
      if (prefix === 'xmlns' || name === 'xmlns') continue;
      this.#checkName(local);
      attributes.push({ name, local, prefix, uri, value });
    }
    this.#depth += 1;
    const { name, local, prefix, uri } = tag;
    this.#handlers.startElement?.({ name, local, prefix, uri, attributes, depth: this.#depth });
  }

  #endElement(tag: SaxesTagNS): void {
    const { name, local, prefix, uri } = tag;
    this.#handlers.endElement?.({ name, local, prefix, uri }, this.#depth);
    this.#depth -= 1;
  }

  #text(text: string): void {
    if (this.#depth === 0) return;
    this.#checkTextLength(text.length);
    this.#handlers.text?.(text, this.#depth);
  }

  #checkTextLength(length: number): void {
    if (length > this.#limits.maxTextLength) {
      throw this.#error('xml.text_too_long', `A text or attribute value is longer than the limit of ${this.#limits.maxTextLength} characters.`);
    }
  }

  #checkName(local: string): void {
    if (FORBIDDEN_NAMES.has(local)) {
      throw this.#error('xml.forbidden_name', `The XML uses the reserved name "${local}"; rename that element or attribute.`);
    }
  }

  #error(code: ConstructorParameters<typeof XmlError>[0], message: string): XmlError {
    const line = this.#saxes.line;
    const column = this.#saxes.column + 1;
    return new XmlError(code, `${message} (line ${line}, column ${column})`, line, column);
  }
}

/** Parses a whole document held in memory, delivering events to `handlers`. */
export function parseXml(input: Uint8Array | string, handlers: XmlHandlers, limits: Partial<XmlLimits> = {}): void {
  const parser = new XmlStreamParser(handlers, limits);
  parser.write(input);
  parser.end();
}

export interface XmlElement extends XmlName {
  attributes: readonly XmlAttribute[];
  /** Child elements and text, in document order; adjacent text is merged into one string. */
  children: XmlNode[];
}

export type XmlNode = XmlElement | string;

/** Builds an element tree of a small document (forms, submissions, manifests) and returns its root. */
export function parseXmlTree(input: Uint8Array | string, limits: Partial<XmlLimits> = {}): XmlElement {
  const stack: XmlElement[] = [];
  let root: XmlElement | undefined;
  parseXml(
    input,
    {
      startElement(tag) {
        const element: XmlElement = {
          name: tag.name,
          local: tag.local,
          prefix: tag.prefix,
          uri: tag.uri,
          attributes: tag.attributes,
          children: [],
        };
        stack.at(-1)?.children.push(element);
        root ??= element;
        stack.push(element);
      },
      text(text) {
        const children = stack.at(-1)?.children;
        if (!children) return;
        const last = children.at(-1);
        if (typeof last === 'string') children[children.length - 1] = last + text;
        else children.push(text);
      },
      endElement() {
        stack.pop();
      },
    },
    limits,
  );
  if (!root) throw new XmlError('xml.malformed', 'The document has no root element.');
  return root;
}

/**
 * The value of the attribute with this local name. With `uri` the namespace must match exactly;
 * without it any namespace matches, an un-namespaced attribute winning (so `version` and
 * `orx:version` are both found, as ODK servers read them).
 */
export function attributeValue(element: XmlElement, local: string, uri?: string): string | undefined {
  let found: XmlAttribute | undefined;
  for (const attribute of element.attributes) {
    if (attribute.local !== local) continue;
    if (uri !== undefined ? attribute.uri === uri : attribute.uri === '') return attribute.value;
    if (uri === undefined) found ??= attribute;
  }
  return found?.value;
}

/** Child elements, optionally only those with this local name (namespaces ignored). */
export function childElements(element: XmlElement, local?: string): XmlElement[] {
  return element.children.filter(
    (child): child is XmlElement => typeof child !== 'string' && (local === undefined || child.local === local),
  );
}

export function firstChildElement(element: XmlElement, local: string): XmlElement | undefined {
  return element.children.find((child): child is XmlElement => typeof child !== 'string' && child.local === local);
}

/** All text inside the element, descendants included, in document order. */
export function textContent(element: XmlElement): string {
  let text = '';
  for (const child of element.children) text += typeof child === 'string' ? child : textContent(child);
  return text;
}

/** saxes prefixes its messages with `line:column: `; we report the position ourselves. */
function stripPosition(message: string): string {
  return message.replace(/^\d+:\d+: /, '').replace(/\.$/, '');
}

function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code >= 0x800 && (code < 0xd800 || code > 0xdfff)) bytes += 2;
    else if (code >= 0x80 && code < 0x800) bytes += 1;
    // a surrogate pair is 2 units for 4 bytes: each half adds one more byte
    else if (code >= 0xd800 && code <= 0xdfff) bytes += 1;
  }
  return bytes;
}
