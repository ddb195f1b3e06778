/*
 * The `parameters` column: `key=value` pairs separated by spaces, commas or semicolons.
 * Keys are case-insensitive; values too, except `label` and `value`, which name columns
 * of a user's file.
 */
import { XlsFormError, rowPrefix } from './issues.js';

const CASE_SENSITIVE = new Set(['label', 'value']);

export function parseParameters(raw: string | undefined, row: number): Map<string, string> {
  const result = new Map<string, string>();
  if (raw === undefined || raw.trim() === '') return result;
  const tokens = raw.match(/[^\s=,;]+|=/g) ?? [];
  for (let i = 0; i < tokens.length; i += 3) {
    const [key, equals, value] = [tokens[i], tokens[i + 1], tokens[i + 2]];
    if (key === undefined || key === '=' || equals !== '=' || value === undefined || value === '=') {
      throw new XlsFormError(
        'xlsform.bad_parameters',
        `${rowPrefix(row)} On the 'survey' sheet, the 'parameters' value is invalid. Parameters must be in the form of 'key1=value1 key2=value2.`,
        { sheet: 'survey', row },
      );
    }
    const name = key.toLowerCase();
    result.set(name, CASE_SENSITIVE.has(name) ? value : value.toLowerCase());
  }
  return result;
}

/** Rejects keys the question type does not accept, listing the accepted ones. */
export function checkParameterKeys(parameters: Map<string, string>, accepted: readonly string[], row: number): void {
  const rejected = [...parameters.keys()].filter((k) => !accepted.includes(k)).sort();
  if (rejected.length === 0) return;
  throw new XlsFormError(
    'xlsform.unknown_parameter',
    `${rowPrefix(row)} On the 'survey' sheet, the 'parameters' value is invalid. The accepted parameter keys for this question type are '${[...accepted].sort().join(', ')}'. The following are invalid parameter key(s): '${rejected.join(', ')}'.`,
    { sheet: 'survey', row },
  );
}

export const PARAMETER_KEYS = {
  audio: ['quality'],
  audit: ['identify-user', 'location-max-age', 'location-min-interval', 'location-priority', 'track-changes', 'track-changes-reasons'],
  geo: ['allow-mock-accuracy', 'incremental', 'reference-geometry'],
  geopoint: ['allow-mock-accuracy', 'capture-accuracy', 'reference-geometry', 'warning-accuracy'],
  image: ['app', 'max-pixels'],
  range: ['end', 'placeholder', 'start', 'step', 'tick_interval', 'tick_labelset'],
  select: ['randomize', 'seed'],
  selectFromFile: ['label', 'randomize', 'seed', 'value'],
  text: ['rows'],
} as const;
