/** A problem found in an XLSForm: a warning (conversion continues) or an error (it stops). */
export interface XlsFormIssue {
  /** Stable dotted code, e.g. `xlsform.unknown_type`. */
  code: string;
  /** What is wrong and how to fix it, worded like pyxform's message for the same problem. */
  message: string;
  /** The sheet the problem is on, when known. */
  sheet?: string;
  /** The 1-based spreadsheet row, when known. */
  row?: number;
}

export interface IssueLocation {
  sheet?: string;
  row?: number;
}

/** Thrown inside the converter to stop at the first error, as pyxform does. */
export class XlsFormError extends Error {
  readonly code: string;
  readonly sheet?: string;
  readonly row?: number;

  constructor(code: string, message: string, location: IssueLocation = {}) {
    super(message);
    this.name = 'XlsFormError';
    this.code = code;
    if (location.sheet !== undefined) this.sheet = location.sheet;
    if (location.row !== undefined) this.row = location.row;
  }

  toIssue(): XlsFormIssue {
    return issue(this.code, this.message, { sheet: this.sheet, row: this.row });
  }
}

export function issue(code: string, message: string, location: IssueLocation = {}): XlsFormIssue {
  const result: XlsFormIssue = { code, message };
  if (location.sheet !== undefined) result.sheet = location.sheet;
  if (location.row !== undefined) result.row = location.row;
  return result;
}

/** pyxform's row prefix, kept so messages read the same as the tools users already know. */
export function rowPrefix(row: number | undefined): string {
  return `[row : ${row ?? 'unknown'}]`;
}

/** Collects warnings in the order they are found. */
export class Warnings {
  readonly list: XlsFormIssue[] = [];

  add(code: string, message: string, location: IssueLocation = {}): void {
    this.list.push(issue(code, message, location));
  }
}
