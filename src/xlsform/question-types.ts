/*
 * Type-specific rules for survey rows: parameters each type accepts, what they turn into
 * (bind or body attributes), and pyxform's checks and messages for bad values.
 */
import { isSingleReference, isXmlTag } from './expression.js';
import type { DraftRow } from './draft.js';
import type { Warnings } from './issues.js';
import { XlsFormError, rowPrefix } from './issues.js';
import type { Action } from './model.js';
import { PARAMETER_KEYS, checkParameterKeys } from './parameters.js';
import { isPyFloat, isPyInt } from './python.js';
import type { CellMap } from './sheets.js';
import { subMap, text } from './sheets.js';
import { yesNo } from './vocabulary.js';

function surveyError(row: number, message: string, code = 'xlsform.bad_parameters'): XlsFormError {
  return new XlsFormError(code, message, { sheet: 'survey', row });
}

function parametersInvalid(row: number, detail: string): XlsFormError {
  return surveyError(row, `${rowPrefix(row)} On the 'survey' sheet, the 'parameters' value is invalid. ${detail}`);
}

export function ensureMap(cells: CellMap, key: string): CellMap {
  const existing = subMap(cells, key);
  if (existing) return existing;
  const created: CellMap = new Map();
  cells.set(key, created);
  return created;
}

function trueOrFalse(value: string): boolean {
  return value === 'true' || value === 'false';
}

export function processAudit(draft: DraftRow): void {
  const { cells, parameters: p, row } = draft;
  checkParameterKeys(p, PARAMETER_KEYS.audit, row);
  const bind = (): CellMap => ensureMap(cells, 'bind');
  for (const key of ['track-changes', 'identify-user'] as const) {
    const value = p.get(key);
    if (value === undefined) continue;
    if (!trueOrFalse(value)) throw surveyError(row, `${key} must be set to true or false: '${value}' is an invalid value.`);
    bind().set(`odk:${key}`, value);
  }
  const reasons = p.get('track-changes-reasons');
  if (reasons !== undefined) {
    if (reasons !== 'on-form-edit') throw surveyError(row, 'track-changes-reasons must be set to on-form-edit');
    bind().set('odk:track-changes-reasons', 'on-form-edit');
  }
  const locationKeys = ['location-priority', 'location-min-interval', 'location-max-age'];
  if (!locationKeys.some((k) => p.has(k))) return;
  if (!locationKeys.every((k) => p.has(k))) {
    throw surveyError(row, "To include location information in the audit, 'location-priority', 'location-min-interval', and 'location-max-age' are required parameters.");
  }
  const priority = p.get('location-priority') ?? '';
  if (!['no-power', 'low-power', 'balanced', 'high-accuracy'].includes(priority)) {
    throw surveyError(row, `Parameter location-priority must be set to no-power, low-power, balanced, or high-accuracy:'${priority}' is an invalid value`);
  }
  const minInterval = p.get('location-min-interval') ?? '';
  const maxAge = p.get('location-max-age') ?? '';
  if (!isPyInt(minInterval)) throw surveyError(row, 'Parameter location-min-interval must have an integer value.');
  if (Number(minInterval) < 0) throw surveyError(row, 'Parameter location-min-interval must be greater than or equal to zero.');
  if (!isPyInt(maxAge)) throw surveyError(row, 'Parameter location-max-age must have an integer value.');
  if (Number(maxAge) < 0) throw surveyError(row, 'Parameter location-max-age must be greater  than or equal to zero.');
  if (Number(maxAge) < Number(minInterval)) throw surveyError(row, 'Parameter location-max-age must be greater than or equal to location-min-interval.');
  bind().set('odk:location-max-age', maxAge);
  bind().set('odk:location-min-interval', minInterval);
  bind().set('odk:location-priority', priority);
}

export function processText(draft: DraftRow): void {
  const { parameters: p, row } = draft;
  checkParameterKeys(p, PARAMETER_KEYS.text, row);
  const rows = p.get('rows');
  if (rows === undefined) return;
  if (!isPyInt(rows)) throw surveyError(row, `${rowPrefix(row)} Parameter rows must have an integer value.`);
  ensureMap(draft.cells, 'control').set('rows', rows);
}

export function processImage(draft: DraftRow, warnings: Warnings): void {
  const { cells, parameters: p, row } = draft;
  const defaultValue = text(cells, 'default');
  if (defaultValue && !defaultValue.includes('jr://images/')) cells.set('default', `jr://images/${defaultValue}`);
  checkParameterKeys(p, PARAMETER_KEYS.image, row);
  const maxPixels = p.get('max-pixels');
  if (maxPixels !== undefined) {
    if (!isPyInt(maxPixels)) throw surveyError(row, 'Parameter max-pixels must have an integer value.');
    ensureMap(cells, 'bind').set('orx:max-pixels', maxPixels);
  } else {
    warnings.add(
      'xlsform.image_without_max_pixels',
      `${rowPrefix(row)} Use the max-pixels parameter to speed up submission sending and save storage space. Learn more: https://xlsform.org/#image`,
      { sheet: 'survey', row },
    );
  }
  const app = p.get('app');
  const appearance = text(subMap(cells, 'control'), 'appearance');
  if (app !== undefined && (appearance === undefined || appearance === 'annotate')) {
    const problem = androidPackageProblem(app);
    if (problem !== undefined) throw surveyError(row, `${rowPrefix(row)} ${problem}`);
    ensureMap(cells, 'control').set('intent', app);
  }
}

function androidPackageProblem(name: string): string | undefined {
  const prefix = "Parameter 'app' has an invalid Android package name - ";
  if (name.trim() === '') return `${prefix}package name is missing.`;
  if (!name.includes('.')) return `${prefix}the package name must have at least one '.' separator.`;
  if (name.endsWith('.')) return `${prefix}the package name cannot end in a '.' separator.`;
  const segments = name.split('.');
  if (segments.some((s) => s === '')) return `${prefix}package segments must be of non-zero length.`;
  if (segments.some((s) => s.startsWith('_'))) return `${prefix}the character '_' cannot be the first character in a package name segment.`;
  if (segments.some((s) => /^\d/.test(s))) return `${prefix}a digit cannot be the first character in a package name segment.`;
  if (segments.some((s) => /[^a-zA-Z0-9._]/.test(s))) {
    return `${prefix}the package name can only include letters (a-z, A-Z), numbers (0-9), dots (.), and underscores (_).`;
  }
  return undefined;
}

export function processAudio(draft: DraftRow, background: boolean): void {
  const { parameters: p, row } = draft;
  checkParameterKeys(p, PARAMETER_KEYS.audio, row);
  const quality = p.get('quality');
  const allowed = background ? ['voice-only', 'low', 'normal'] : ['voice-only', 'low', 'normal', 'external'];
  if (quality !== undefined && !allowed.includes(quality)) throw surveyError(row, 'Invalid value for quality.');
  if (background) {
    const action: Action = { name: 'odk:recordaudio', event: 'odk-instance-load' };
    if (quality !== undefined) action.quality = quality;
    draft.actions.push(action);
  } else if (quality !== undefined) {
    ensureMap(draft.cells, 'bind').set('odk:quality', quality);
  }
}

export function processGeo(draft: DraftRow, type: string, geoReferences: Array<[string, number]>): void {
  const { cells, parameters: p, row } = draft;
  const control = ensureMap(cells, 'control');
  if (type === 'geopoint') {
    checkParameterKeys(p, PARAMETER_KEYS.geopoint, row);
    const capture = p.get('capture-accuracy');
    if (capture !== undefined) {
      if (!isPyFloat(capture)) throw parametersInvalid(row, "The 'capture-accuracy' parameter must have a numeric value.");
      control.set('accuracyThreshold', capture);
    }
    const warning = p.get('warning-accuracy');
    if (warning !== undefined) {
      if (!isPyFloat(warning)) throw parametersInvalid(row, "The 'warning-accuracy' parameter must have a numeric value.");
      control.set('unacceptableAccuracyThreshold', warning);
    }
  } else {
    checkParameterKeys(p, PARAMETER_KEYS.geo, row);
    const incremental = p.get('incremental');
    if (incremental !== undefined) {
      if (yesNo(incremental) !== true) {
        throw surveyError(
          row,
          `${rowPrefix(row)} On the 'survey' sheet, the 'parameters' value is invalid. For geoshape and geotrace questions, the 'incremental' parameter may either be 'true' or not included.`,
        );
      }
      control.set('incremental', 'true');
    }
  }
  const mock = p.get('allow-mock-accuracy');
  if (mock !== undefined) {
    if (!trueOrFalse(mock)) throw parametersInvalid(row, "The 'allow-mock-accuracy' parameter must be either 'true' or 'false'.");
    ensureMap(cells, 'bind').set('odk:allow-mock-accuracy', mock);
  }
  const geometry = p.get('reference-geometry');
  if (geometry !== undefined) {
    geoReferences.push([geometry, row]);
    cells.set('itemset', geometry);
  }
}

export function checkReferenceGeometry(
  references: Array<[string, number]>,
  known: { instances: Set<string>; repeats: Set<string>; choiceLists: Set<string>; entityLists: Set<string> },
): void {
  for (const [target, row] of references) {
    if (known.instances.has(target) || known.choiceLists.has(target) || known.entityLists.has(target)) continue;
    if (isSingleReference(target) && known.repeats.has(target.slice(2, -1))) continue;
    throw parametersInvalid(
      row,
      "The 'reference-geometry' parameter must either match a secondary instance name (a choices list_name, an entities list_name, or the base name of an attached file), or be a reference variable containing the name of a repeat.",
    );
  }
}

export function checkSelectParameters(draft: DraftRow, fromFile: boolean): void {
  const { parameters: p, row } = draft;
  if (fromFile) {
    checkParameterKeys(p, PARAMETER_KEYS.selectFromFile, row);
    for (const key of ['value', 'label'] as const) {
      const value = p.get(key);
      if (value !== undefined && !isXmlTag(value)) {
        throw new XlsFormError(
          'xlsform.invalid_name',
          `${rowPrefix(row)} On the 'survey' sheet, the 'parameters (${key})' value is invalid. Names must begin with a letter or underscore. After the first character, names may contain letters, digits, underscores, hyphens, or periods.`,
          { sheet: 'survey', row },
        );
      }
    }
  } else {
    checkParameterKeys(p, PARAMETER_KEYS.select, row);
  }
  const randomize = p.get('randomize');
  const seed = p.get('seed');
  if (randomize !== undefined) {
    if (!trueOrFalse(randomize)) throw surveyError(row, `randomize must be set to true or false: '${randomize}' is an invalid value`);
    if (seed !== undefined && !isSingleReference(seed) && !isPyFloat(seed)) {
      throw surveyError(row, 'seed value must be a number or a reference to another field.');
    }
  } else if (seed !== undefined) {
    throw surveyError(row, 'Parameters must include randomize=true to use a seed.');
  }
}
