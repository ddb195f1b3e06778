/*
 * The development corpus: 196 XLSForms with pyxform 4.5.0's output for each.
 *
 * A converted form passes when its XForm equals pyxform's as an element tree and its
 * warnings are pyxform's, word for word; a rejected form passes when our first error
 * is pyxform's message and points at the same row. Forms known to differ are listed with
 * the reason; a listed form that starts passing fails the run, so the list stays true.
 */
import { readFileSync } from 'node:fs';
import { afterAll, describe, expect, it } from 'vitest';
import { convertXlsForm } from './index.js';
import { firstDifference, parseTree } from './xml-tree.test-support.js';

const CORPUS = '/work/shared/testdata/xlsform';

interface ManifestEntry {
  form: string;
  result: 'ok' | 'warnings' | 'error';
  expected?: string;
  warnings?: string[];
  error?: string;
}

const manifest = JSON.parse(readFileSync(`${CORPUS}/manifest.json`, 'utf8')) as ManifestEntry[];

/** Forms we knowingly convert differently from pyxform, with why. Empty: every form matches. */
const KNOWN_DIFFERENCES: Record<string, string> = {};

/** The pass count this suite must not fall below. */
const PASS_FLOOR = 196;

/** Why the form's conversion differs from pyxform's, or null when it matches. */
async function difference(entry: ManifestEntry): Promise<string | null> {
  const file = entry.form.replace(/^forms\//, '');
  const result = await convertXlsForm(readFileSync(`${CORPUS}/${entry.form}`), file);
  if (entry.result === 'error') {
    const [first] = result.errors;
    if (!first) return 'converted, but pyxform rejects it';
    if (first.message !== entry.error) return `error ${JSON.stringify(first.message)}, pyxform: ${JSON.stringify(entry.error)}`;
    const row = /^\[row : (\d+)\]/.exec(entry.error ?? '')?.[1];
    if (row !== undefined && first.row !== Number(row)) return `error row ${first.row}, pyxform: ${row}`;
    return null;
  }
  if (result.errors.length > 0) return `rejected: ${result.errors[0]?.message}`;
  const expected = parseTree(readFileSync(`${CORPUS}/${entry.expected}`, 'utf8'));
  const treeDifference = firstDifference(expected, parseTree(result.xform));
  if (treeDifference) return treeDifference;
  const warnings = result.warnings.map((w) => w.message);
  const expectedWarnings = entry.warnings ?? [];
  if (JSON.stringify(warnings) !== JSON.stringify(expectedWarnings)) {
    return `warnings ${JSON.stringify(warnings)}, pyxform: ${JSON.stringify(expectedWarnings)}`;
  }
  return null;
}

describe('XLSForm corpus against pyxform 4.5.0', () => {
  let passed = 0;

  it.each(manifest.map((entry) => [entry.form, entry] as const))('%s', async (form, entry) => {
    const found = await difference(entry);
    const known = KNOWN_DIFFERENCES[form];
    if (known !== undefined) {
      expect(found, `${form} now matches pyxform: remove it from KNOWN_DIFFERENCES`).not.toBeNull();
      return;
    }
    expect(found).toBeNull();
    passed += 1;
  });

  afterAll(() => {
    console.info(`XLSForm corpus: ${passed}/${manifest.length} forms match pyxform`);
  });

  it('keeps the pass count at or above the recorded floor', () => {
    expect(manifest.length).toBe(196);
    expect(Object.keys(KNOWN_DIFFERENCES).every((form) => manifest.some((e) => e.form === form))).toBe(true);
    expect(passed).toBeGreaterThanOrEqual(PASS_FLOOR);
  });
});
