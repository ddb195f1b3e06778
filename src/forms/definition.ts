/**
 * A form definition as it arrives (an XLSForm workbook or an XForm) turned into what the server
 * keeps and serves: the exact XForm bytes (their MD5 is the OpenRosa `hash`), the field schema,
 * the media files the form expects, and the warnings a person should see. Pure: bytes in, values out.
 */
import { XFormError, XmlError, parseXForm, parseXmlTree, type FormSchema, type XmlElement } from '../xform/index.js';
import type { XlsFormIssue } from '../xlsform/index.js';

export type DefinitionSource = 'xlsform' | 'xform';

export interface MediaReference {
  /** The plain file name the form refers to, e.g. `villages.csv`. */
  name: string;
  /** The `jr://` kind: images, audio, video, file, file-csv. */
  kind: string;
}

export interface DefinitionIssue {
  code: string;
  message: string;
  sheet?: string;
  row?: number;
}

export interface FormDefinition {
  source: DefinitionSource;
  xform: Buffer;
  schema: FormSchema;
  media: MediaReference[];
  warnings: DefinitionIssue[];
}

export type FormDefinitionErrorCode = 'form.unrecognised_file' | 'form.invalid_xlsform' | 'form.invalid_xform';

export class FormDefinitionError extends Error {
  constructor(
    readonly code: FormDefinitionErrorCode,
    message: string,
    readonly issues: DefinitionIssue[] = [],
  ) {
    super(message);
    this.name = 'FormDefinitionError';
  }
}

const ZIP_MAGIC = Buffer.from('PK\x03\x04', 'latin1');
const OLE_MAGIC = Buffer.from('d0cf11e0a1b11ae1', 'hex');

export function detectSource(bytes: Uint8Array): DefinitionSource | null {
  const head = Buffer.from(bytes.subarray(0, 8));
  if (head.subarray(0, 4).equals(ZIP_MAGIC) || head.equals(OLE_MAGIC)) return 'xlsform';
  const text = Buffer.from(bytes.subarray(0, 64)).toString('utf8').replace(/^\uFEFF/, '').trimStart();
  return text.startsWith('<') ? 'xform' : null;
}

export async function prepareFormDefinition(bytes: Uint8Array, fileName: string): Promise<FormDefinition> {
  const source = detectSource(bytes);
  if (source === null) {
    throw new FormDefinitionError('form.unrecognised_file', `${fileName} is neither an XLSForm (.xlsx, .xls) nor an XForm (.xml).`);
  }
  if (source === 'xform') return { source, ...readXForm(Buffer.from(bytes)), warnings: [] };
  // The converter is loaded with the first XLSForm: a server whose forms are all uploaded already never needs it.
  const { convertXlsForm } = await import('../xlsform/index.js');
  const converted = await convertXlsForm(bytes, fileName);
  if (converted.errors.length > 0) {
    throw new FormDefinitionError(
      'form.invalid_xlsform',
      `The XLSForm has ${converted.errors.length} error(s): ${converted.errors.map(describeIssue).join('; ')}`,
      converted.errors.map(toIssue),
    );
  }
  return { source, ...readXForm(Buffer.from(converted.xform, 'utf8')), warnings: converted.warnings.map(toIssue) };
}

function readXForm(xform: Buffer): Pick<FormDefinition, 'xform' | 'schema' | 'media'> {
  try {
    return { xform, schema: parseXForm(xform), media: mediaReferences(parseXmlTree(xform)) };
  } catch (err) {
    if (err instanceof XmlError || err instanceof XFormError) {
      throw new FormDefinitionError('form.invalid_xform', err.message, [{ code: err.code, message: err.message }]);
    }
    throw err;
  }
}

const JR_URL = /jr:\/\/(images|audio|video|file-csv|file)\/([^\s"'<>]+)/g;

/** Every `jr://kind/name` the form mentions, in attributes (instance `src`) or text (itext media). */
export function mediaReferences(root: XmlElement): MediaReference[] {
  const found = new Map<string, MediaReference>();
  const visit = (element: XmlElement) => {
    const texts = [...element.attributes.map((a) => a.value), ...element.children.filter((c): c is string => typeof c === 'string')];
    for (const text of texts) {
      for (const match of text.matchAll(JR_URL)) {
        const [, kind = '', name = ''] = match;
        if (!found.has(name)) found.set(name, { name, kind });
      }
    }
    for (const child of element.children) if (typeof child !== 'string') visit(child);
  };
  visit(root);
  return [...found.values()];
}

function toIssue(issue: XlsFormIssue): DefinitionIssue {
  return {
    code: issue.code,
    message: issue.message,
    ...(issue.sheet !== undefined ? { sheet: issue.sheet } : {}),
    ...(issue.row !== undefined ? { row: issue.row } : {}),
  };
}

function describeIssue(issue: XlsFormIssue): string {
  const where = [issue.sheet && `sheet ${issue.sheet}`, issue.row !== undefined && `row ${issue.row}`].filter(Boolean).join(', ');
  return where ? `${issue.message} (${where})` : issue.message;
}
