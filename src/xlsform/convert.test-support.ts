/*
 * Helpers for tests that describe a form as small in-memory sheets:
 * `form({ survey: [['type', 'name', 'label'], ['text', 'q', 'Q']] })`.
 */
import type { XlsFormResult } from './index.js';
import { convertWorkbook } from './index.js';
import type { TreeElement, TreeNode } from './xml-tree.test-support.js';
import { parseTree } from './xml-tree.test-support.js';

export function convertSheets(sheets: Record<string, string[][]>, fileName = 'test_form.xlsx'): XlsFormResult {
  return convertWorkbook(
    Object.entries(sheets).map(([name, rows]) => ({ name, rows })),
    fileName,
  );
}

/** Converts and parses, failing loudly if the form was rejected. */
export function formTree(sheets: Record<string, string[][]>): TreeElement {
  const result = convertSheets(sheets);
  if (result.errors.length > 0) throw new Error(`conversion failed: ${result.errors[0]?.message}`);
  return parseTree(result.xform);
}

function isElement(node: TreeNode | undefined): node is TreeElement {
  return node !== undefined && typeof node !== 'string';
}

/** All elements named `name` anywhere under `root`, in document order. */
export function findAll(root: TreeElement, name: string): TreeElement[] {
  const found: TreeElement[] = [];
  const visit = (node: TreeElement): void => {
    if (node.name === name) found.push(node);
    node.children.filter(isElement).forEach(visit);
  };
  visit(root);
  return found;
}

export function find(root: TreeElement, name: string, attribute?: [string, string]): TreeElement {
  const match = findAll(root, name).find((e) => !attribute || e.attributes[attribute[0]] === attribute[1]);
  if (!match) throw new Error(`no <${name}${attribute ? ` ${attribute[0]}="${attribute[1]}"` : ''}>`);
  return match;
}

export function childElements(node: TreeElement): TreeElement[] {
  return node.children.filter(isElement);
}
