/*
 * Whole-workbook checks that produce pyxform's warnings and errors: missing translation
 * columns, sheet names that look misspelt, and `${name}` references that point nowhere.
 */
import { ReferenceSyntaxError, parseReferences, referenceSyntaxIssue } from './expression.js';
import type { Warnings } from './issues.js';
import { XlsFormError } from './issues.js';
import type { RawSheet } from './sheets.js';
import { SUPPORTED_SHEETS, TRANSLATABLE_CHOICE_COLUMNS, TRANSLATABLE_SURVEY_COLUMNS } from './vocabulary.js';

/** Which languages each translatable column appears in, for one sheet. */
class SheetLanguages {
  readonly seen = new Map<string, string[]>();
  readonly columns = new Set<string>();
  readonly missing = new Map<string, string[]>();

  constructor(columns: readonly string[][], translatable: ReadonlyMap<string, string>) {
    for (const column of columns) {
      const path = column.length > 1 && (column[0] === 'media' || column[0] === 'bind') ? column.slice(1) : column;
      const [head = '', language] = path;
      const name = translatable.get(head);
      if (name === undefined) continue;
      if (path.length === 1) this.note('default', name);
      else if (path.length === 2 && language !== undefined) this.note(language, name);
      this.columns.add(name);
    }
    if (this.defaultOnly()) return;
    for (const [language, names] of this.seen) {
      for (const column of this.columns) {
        if (!names.includes(column)) this.missing.set(language, [...(this.missing.get(language) ?? []), column]);
      }
    }
  }

  private note(language: string, column: string): void {
    this.seen.set(language, [...(this.seen.get(language) ?? []), column]);
  }

  defaultOnly(): boolean {
    return this.seen.size === 0 || (this.seen.size === 1 && this.seen.has('default'));
  }
}

export class TranslationChecks {
  private readonly survey: SheetLanguages;
  private readonly choices: SheetLanguages;
  orOtherSeen = false;

  constructor(surveyColumns: readonly string[][], choiceColumns: readonly string[][]) {
    this.survey = new SheetLanguages(surveyColumns, TRANSLATABLE_SURVEY_COLUMNS);
    this.choices = new SheetLanguages(choiceColumns, TRANSLATABLE_CHOICE_COLUMNS);
  }

  warnMissing(warnings: Warnings): void {
    const parts = [missingMessage('survey', this.survey.missing), missingMessage('choices', this.choices.missing)].filter(
      (m): m is string => m !== undefined,
    );
    if (parts.length > 0) warnings.add('xlsform.missing_translation', parts.join('\n'));
  }

  warnOrOther(warnings: Warnings): void {
    if (this.orOtherSeen && (!this.survey.defaultOnly() || !this.choices.defaultOnly())) {
      warnings.add(
        'xlsform.or_other_with_translations',
        "This form uses or_other and translations, which is not recommended. An untranslated input question label and choice label is generated for 'other'. Learn more: https://xlsform.org/en/#specify-other).",
      );
    }
  }
}

// Python's sorted() on str compares code points, which JavaScript's default sort does not.
function codePointSort(values: Iterable<string>): string[] {
  return [...values].sort((a, b) => {
    const x = [...a].map((c) => c.codePointAt(0) ?? 0);
    const y = [...b].map((c) => c.codePointAt(0) ?? 0);
    for (let i = 0; i < Math.min(x.length, y.length); i += 1) if (x[i] !== y[i]) return (x[i] ?? 0) - (y[i] ?? 0);
    return x.length - y.length;
  });
}

function missingMessage(sheet: string, missing: Map<string, string[]>): string | undefined {
  if (missing.size === 0) return undefined;
  const lines = codePointSort(missing.keys()).map((language) => {
    const columns = missing.get(language) ?? [];
    return columns.length === 1
      ? `Language '${language}' is missing the ${sheet} ${columns[0]} column.`
      : `Language '${language}' is missing the ${sheet} columns ${codePointSort(columns).join(', ')}.`;
  });
  return lines.join('\n');
}

function levenshtein(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 0; i < a.length; i += 1) {
    const current = [i + 1];
    for (let j = 0; j < b.length; j += 1) {
      current[j + 1] = Math.min((previous[j + 1] ?? 0) + 1, (current[j] ?? 0) + 1, (previous[j] ?? 0) + (a[i] === b[j] ? 0 : 1));
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

/** pyxform's hint when a required or optional sheet seems to be misspelt. */
export function sheetMisspellings(sheet: string, sheetNames: readonly string[]): string | undefined {
  const candidates = sheetNames.filter((name) => levenshtein(name.toLowerCase(), sheet) <= 2 && !SUPPORTED_SHEETS.has(name) && !name.startsWith('_'));
  if (candidates.length === 0) return undefined;
  return `When looking for a sheet named '${sheet}', the following sheets with similar names were found: ${candidates.map((c) => `'${c}'`).join(', ')}.`;
}

export const SUPPRESS_SPELLING_HINT =
  " If you do not mean to include a sheet, to suppress this message, prefix the sheet name with an underscore. For example 'setting' becomes '_setting'.";

export interface ReferenceScope {
  sheet: string;
  /** Only these original headers are checked, when given. */
  onlyHeaders?: ReadonlySet<string>;
  skipHeaders?: ReadonlySet<string>;
}

/** Every `${name}` in the sheet must name exactly one survey element. */
export function checkReferences(sheet: RawSheet | undefined, scope: ReferenceScope, names: ReadonlyMap<string, number>): void {
  if (!sheet) return;
  sheet.rows.forEach((row, index) => {
    const rowNumber = index + 2;
    for (const [column, value] of row) {
      if (scope.onlyHeaders && !scope.onlyHeaders.has(column)) continue;
      if (scope.skipHeaders?.has(column)) continue;
      const at = { sheet: scope.sheet, row: rowNumber, column };
      let references;
      try {
        references = parseReferences(value);
      } catch (error) {
        if (error instanceof ReferenceSyntaxError) throw referenceSyntaxIssue(error, at);
        throw error;
      }
      for (const reference of references) {
        const count = names.get(reference.name);
        if (count === 1) continue;
        const where = `[row : ${rowNumber}] On the '${scope.sheet}' sheet, the '${column}' value is invalid.`;
        throw new XlsFormError(
          count === undefined ? 'xlsform.unknown_reference' : 'xlsform.ambiguous_reference',
          count === undefined
            ? `${where} Reference variables must contain a name from the 'survey' sheet. Could not find the name '${reference.name}'.`
            : `${where} Reference variables names must be unique anywhere in the 'survey'. The name '${reference.name}' appears more than once.`,
          { sheet: scope.sheet, row: rowNumber },
        );
      }
    }
  });
}
