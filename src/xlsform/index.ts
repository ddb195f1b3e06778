/*
 * XLSForm → XForm, matching pyxform 4.5.0.
 *
 * Stages: the workbook reader turns bytes into sheets of text; `sheets.ts` finds the
 * sheets and groups headers; `parse.ts` reads settings, choices, entities and survey rows
 * into a checked draft tree; `build.ts` resolves types into the form model; `xform.ts`
 * writes the XForm. Conversion stops at the first error, as pyxform does, and reports it
 * with the sheet and row; warnings are collected along the way.
 */
import { buildForm } from './build.js';
import type { XlsFormIssue } from './issues.js';
import { Warnings, XlsFormError, issue } from './issues.js';
import { parseWorkbook } from './parse.js';
import type { WorkbookSheet } from './sheets.js';
import { readSheets } from './sheets.js';
import { readWorkbook, WorkbookError } from './workbook/index.js';
import { serialize } from './xml.js';
import { writeXForm } from './xform.js';

export type { XlsFormIssue } from './issues.js';
export { XlsFormError } from './issues.js';

export interface XlsFormResult {
  /** The XForm document; empty when there are errors. */
  xform: string;
  warnings: XlsFormIssue[];
  errors: XlsFormIssue[];
}

export interface ConvertOptions {
  /** Name of the primary instance's root element (pyxform's `form_name`); default `data`. */
  formName?: string;
  /** Limits for reading the workbook (sizes, rows, columns); defaults suit real forms. */
  limits?: Parameters<typeof readWorkbook>[2];
}

/** The form id pyxform falls back to: the file name without folder and extension. */
function fileStem(fileName: string): string {
  const base = fileName.slice(Math.max(fileName.lastIndexOf('/'), fileName.lastIndexOf('\\')) + 1);
  const dot = base.lastIndexOf('.');
  return dot > 0 ? base.slice(0, dot) : base;
}

/** Converts sheets already read into text (the workbook reader's output, or a CSV/markdown table). */
export function convertWorkbook(sheets: readonly WorkbookSheet[], fileName: string, options: Pick<ConvertOptions, 'formName'> = {}): XlsFormResult {
  const warnings = new Warnings();
  try {
    const draft = parseWorkbook(readSheets(sheets), fileStem(fileName), warnings, options.formName);
    const { root, badLanguages } = writeXForm(buildForm(draft));
    if (badLanguages.length > 0) {
      warnings.add(
        'xlsform.language_without_code',
        `The following language declarations do not contain valid machine-readable codes: ${badLanguages.join(', ')}. Learn more: http://xlsform.org#multiple-language-support`,
      );
    }
    return { xform: serialize(root), warnings: warnings.list, errors: [] };
  } catch (error) {
    if (error instanceof XlsFormError) return { xform: '', warnings: warnings.list, errors: [error.toIssue()] };
    throw error;
  }
}

/** Converts an .xlsx/.xls workbook to an XForm. Never throws for a bad form: problems come back as errors. */
export async function convertXlsForm(bytes: Uint8Array, fileName: string, options: ConvertOptions = {}): Promise<XlsFormResult> {
  let sheets;
  try {
    sheets = (await readWorkbook(bytes, fileName, options.limits)).sheets;
  } catch (error) {
    if (error instanceof WorkbookError) {
      return { xform: '', warnings: [], errors: [issue(error.code, error.message, { sheet: error.sheet, row: error.row })] };
    }
    throw error;
  }
  return convertWorkbook(sheets, fileName, options);
}
