/*
 * A minimal XML tree and serializer for the XForm we emit.
 *
 * Elements keep attributes in insertion order; text is escaped on output. Output is
 * indented like pyxform's, with mixed content (labels holding <output/>) written inline
 * so that no whitespace is added inside text. Characters XML 1.0 forbids are dropped so
 * that a stray control character in a cell cannot make the whole form unreadable.
 */

export interface XmlElement {
  readonly name: string;
  readonly attributes: Array<[string, string]>;
  readonly children: XmlNode[];
}

export type XmlNode = XmlElement | string;

export function el(name: string, attributes: Record<string, string | undefined> = {}, children: Array<XmlNode | null | undefined> = []): XmlElement {
  const attrs: Array<[string, string]> = [];
  for (const [key, value] of Object.entries(attributes)) if (value !== undefined) attrs.push([key, value]);
  return { name, attributes: attrs, children: children.filter((c): c is XmlNode => c !== null && c !== undefined) };
}

/** Sets or replaces an attribute, keeping its first position. */
export function setAttribute(element: XmlElement, name: string, value: string): void {
  const existing = element.attributes.find(([key]) => key === name);
  if (existing) existing[1] = value;
  else element.attributes.push([name, value]);
}

// XML 1.0 Char production, minus what we must escape.
const FORBIDDEN_CHARS = /[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/gu;

const NEEDS_ESCAPE = /[&<>"]|[^\t\n\r\u0020-\uD7FF\uE000-\uFFFD\u{10000}-\u{10FFFF}]/u;
const ENTITIES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;' };

function escapeText(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(FORBIDDEN_CHARS, '').replace(/[&<>]/g, (c) => ENTITIES[c] ?? c);
}

function escapeAttribute(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return text;
  return text.replace(FORBIDDEN_CHARS, '').replace(/[&<>"]/g, (c) => ENTITIES[c] ?? c);
}

export function serialize(root: XmlElement): string {
  const out: string[] = ['<?xml version="1.0"?>\n'];
  write(root, '', out);
  return out.join('');
}

function write(node: XmlElement, indent: string, out: string[]): void {
  out.push(indent, '<', node.name);
  for (const [key, value] of node.attributes) out.push(' ', key, '="', escapeAttribute(value), '"');
  if (node.children.length === 0) {
    out.push('/>\n');
    return;
  }
  out.push('>');
  if (node.children.some((child) => typeof child === 'string')) {
    for (const child of node.children) {
      if (typeof child === 'string') out.push(escapeText(child));
      else writeInline(child, out);
    }
  } else {
    out.push('\n');
    for (const child of node.children) write(child as XmlElement, `${indent}  `, out);
    out.push(indent);
  }
  out.push('</', node.name, '>\n');
}

function writeInline(node: XmlElement, out: string[]): void {
  out.push('<', node.name);
  for (const [key, value] of node.attributes) out.push(' ', key, '="', escapeAttribute(value), '"');
  if (node.children.length === 0) {
    out.push('/>');
    return;
  }
  out.push('>');
  for (const child of node.children) {
    if (typeof child === 'string') out.push(escapeText(child));
    else writeInline(child, out);
  }
  out.push('</', node.name, '>');
}
