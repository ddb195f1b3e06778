/*
 * Element-tree comparison for XForms: same elements in the same order, the same
 * attributes in any order, the same text once trimmed. Whitespace-only text between
 * elements is layout and is ignored.
 */
import { SaxesParser } from 'saxes';

export interface TreeElement {
  name: string;
  attributes: Record<string, string>;
  children: TreeNode[];
}

export type TreeNode = TreeElement | string;

export function parseTree(xml: string): TreeElement {
  const parser = new SaxesParser({ xmlns: false });
  const stack: TreeElement[] = [];
  let root: TreeElement | undefined;
  let pendingText = '';
  const flushText = (): void => {
    const text = pendingText.trim();
    pendingText = '';
    if (text !== '') stack[stack.length - 1]?.children.push(text);
  };
  parser.on('opentag', (tag) => {
    flushText();
    const element: TreeElement = { name: tag.name, attributes: { ...(tag.attributes as Record<string, string>) }, children: [] };
    stack[stack.length - 1]?.children.push(element);
    stack.push(element);
    root ??= element;
  });
  parser.on('text', (text) => {
    pendingText += text;
  });
  parser.on('cdata', (text) => {
    pendingText += text;
  });
  parser.on('closetag', () => {
    flushText();
    stack.pop();
  });
  parser.write(xml).close();
  if (!root) throw new Error('no root element');
  return root;
}

function describe(node: TreeNode): string {
  if (typeof node === 'string') return JSON.stringify(node.length > 80 ? `${node.slice(0, 80)}…` : node);
  const attributes = Object.entries(node.attributes)
    .map(([k, v]) => `${k}="${v}"`)
    .join(' ');
  return `<${node.name}${attributes ? ` ${attributes}` : ''}>`;
}

/** The first difference between two trees as `path: expected … actual …`, or null when equal. */
export function firstDifference(expected: TreeNode, actual: TreeNode, path = ''): string | null {
  if (typeof expected === 'string' || typeof actual === 'string') {
    return expected === actual ? null : `${path}: expected ${describe(expected)}, got ${describe(actual)}`;
  }
  const here = `${path}/${expected.name}`;
  if (expected.name !== actual.name) return `${path}: expected ${describe(expected)}, got ${describe(actual)}`;
  const keys = new Set([...Object.keys(expected.attributes), ...Object.keys(actual.attributes)]);
  for (const key of keys) {
    if (expected.attributes[key] !== actual.attributes[key]) {
      return `${here}/@${key}: expected ${JSON.stringify(expected.attributes[key])}, got ${JSON.stringify(actual.attributes[key])}`;
    }
  }
  const count = Math.max(expected.children.length, actual.children.length);
  for (let i = 0; i < count; i += 1) {
    const e = expected.children[i];
    const a = actual.children[i];
    if (e === undefined || a === undefined) {
      return `${here}[${i}]: expected ${e === undefined ? 'nothing' : describe(e)}, got ${a === undefined ? 'nothing' : describe(a)}`;
    }
    const difference = firstDifference(e, a, `${here}[${i}]`);
    if (difference) return difference;
  }
  return null;
}
