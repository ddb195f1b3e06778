/** Stable codes for every way a workbook can be refused. */
export type WorkbookErrorCode =
  | 'xlsform.not_a_workbook'
  | 'xlsform.empty_file'
  | 'xlsform.empty_workbook'
  | 'xlsform.too_large'
  | 'xlsform.zip_bomb'
  | 'xlsform.zip_unsafe_path'
  | 'xlsform.encrypted'
  | 'xlsform.malformed_workbook'
  | 'xlsform.legacy_format'
  | 'xlsform.invalid_date'
  | 'xml.doctype_forbidden';

export interface WorkbookErrorDetail {
  sheet?: string;
  /** 1-based row number as a spreadsheet program shows it. */
  row?: number;
}

export class WorkbookError extends Error {
  readonly code: WorkbookErrorCode;
  readonly sheet?: string;
  readonly row?: number;

  constructor(code: WorkbookErrorCode, message: string, detail: WorkbookErrorDetail = {}) {
    super(message);
    this.name = 'WorkbookError';
    this.code = code;
    if (detail.sheet !== undefined) this.sheet = detail.sheet;
    if (detail.row !== undefined) this.row = detail.row;
  }
}
