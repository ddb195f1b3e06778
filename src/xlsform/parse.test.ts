import { describe, expect, it } from 'vitest';
import { convertSheets } from './convert.test-support.js';

const HEADER = ['type', 'name', 'label'];

function firstError(sheets: Record<string, string[][]>): { code: string; message: string; sheet?: string; row?: number } | undefined {
  return convertSheets(sheets).errors[0];
}

describe('errors name the sheet, the row and the problem', () => {
  it('unknown question type', () => {
    expect(firstError({ survey: [HEADER, ['text', 'a', 'A'], ['texte', 'b', 'B']] })).toEqual({
      code: 'xlsform.unknown_type',
      message: "Unknown question type 'texte'.",
      sheet: 'survey',
      row: 3,
    });
  });

  it('duplicate names in the same group', () => {
    expect(firstError({ survey: [HEADER, ['text', 'a', 'A'], ['integer', 'a', 'B']] })).toMatchObject({
      code: 'xlsform.duplicate_name',
      row: 3,
      message: expect.stringContaining("[row : 3] On the 'survey' sheet, the 'name' value 'a' is invalid."),
    });
  });

  it('the reserved name meta', () => {
    expect(firstError({ survey: [HEADER, ['text', 'meta', 'A']] })?.message).toContain("The name 'meta' is reserved for form metadata.");
  });

  it('a choice list that does not exist', () => {
    const error = firstError({ survey: [HEADER, ['select_one colours', 'c', 'C']], choices: [['list_name', 'name', 'label'], ['sizes', 's', 'S']] });
    expect(error).toMatchObject({ code: 'xlsform.unknown_list', message: '[row : 2] List name not in choices sheet: colours', row: 2 });
  });

  it('unbalanced groups, both ways', () => {
    expect(firstError({ survey: [HEADER, ['begin_group', 'g', 'G'], ['text', 'a', 'A']] })?.message).toBe(
      "[row : 2] Unmatched 'begin_group'. No matching 'end_group' was found for the name 'g'.",
    );
    expect(firstError({ survey: [HEADER, ['text', 'a', 'A'], ['end_repeat', '', '']] })?.message).toBe(
      "[row : 3] Unmatched 'end_repeat'. No matching 'begin_repeat' was found for the name 'unknown'.",
    );
  });

  it('a malformed reference', () => {
    expect(firstError({ survey: [[...HEADER, 'relevant'], ['text', 'a', 'A', '${a b} = 1']] })?.message).toBe(
      "[row : 2] On the 'survey' sheet, the 'relevant' value is invalid. Reference variables must start with '${', then a question name, and end with '}'.",
    );
  });

  it('a name that is not an XML name', () => {
    expect(firstError({ survey: [HEADER, ['text', '1st', 'A']] })?.message).toContain("[row : 2] On the 'survey' sheet, the 'name' value is invalid.");
  });

  it('a missing survey sheet, suggesting a close spelling', () => {
    expect(firstError({ surveys: [HEADER], choices: [['list_name', 'name', 'label']] })?.message).toBe(
      "You must have a sheet named 'survey'. When looking for a sheet named 'survey', the following sheets with similar names were found: 'surveys'.",
    );
  });

  it('two headers for the same column', () => {
    expect(firstError({ survey: [['type', 'name', 'label', 'relevant', 'relevance'], ['text', 'a', 'A', '', '']] })?.message).toBe(
      "Invalid headers provided for sheet: 'survey'. Headers that are different names for the same column were found: 'relevant', 'relevance'. Rename or remove one of these columns.",
    );
  });

  it('a repeat named like the survey root', () => {
    expect(firstError({ survey: [HEADER, ['begin_repeat', 'data', 'R'], ['text', 'a', 'A'], ['end_repeat', '', '']] })?.message).toContain(
      'Repeat names must not be the same as the survey root',
    );
  });
});

describe('warnings', () => {
  it('keeps converting a row with no type but skips it, showing what it held', () => {
    const result = convertSheets({ survey: [[...HEADER, 'hint'], ['', '', '', 'a note to self'], ['text', 'a', 'A', '']] });
    expect(result.errors).toEqual([]);
    expect(result.warnings.map((w) => w.message)).toEqual(["[row : 2] Row without name, text, or label is being skipped:\n{'hint': 'a note to self'}"]);
  });

  it('notes language names without a code, after the conversion', () => {
    const result = convertSheets({ survey: [['type', 'name', 'label::English', 'label::French (fr)'], ['text', 'a', 'A', 'A']] });
    expect(result.warnings.map((w) => w.message)).toEqual([
      'The following language declarations do not contain valid machine-readable codes: English. Learn more: http://xlsform.org#multiple-language-support',
    ]);
  });
});

describe('form-level results', () => {
  it('uses the file name as form id and title when settings give none', () => {
    const xform = convertSheets({ survey: [HEADER, ['text', 'a', 'A']] }, 'folder/My_Form.xlsx').xform;
    expect(xform).toContain('<h:title>My_Form</h:title>');
    expect(xform).toContain('<data id="My_Form">');
  });

  it('takes title, id, version, style, key and submission URL from settings', () => {
    const xform = convertSheets({
      survey: [HEADER, ['text', 'a', 'A']],
      settings: [
        ['form_title', 'form_id', 'version', 'style', 'public_key', 'submission_url', 'instance_name'],
        ['Title', 'form1', '2024010101', 'pages', 'KEY', 'https://example.org/submit', "concat('x', ${a})"],
      ],
    }).xform;
    expect(xform).toContain('<h:title>Title</h:title>');
    expect(xform).toContain('<data id="form1" version="2024010101">');
    expect(xform).toContain('<h:body class="pages">');
    expect(xform).toContain('<submission action="https://example.org/submit" method="post" base64RsaPublicKey="KEY"/>');
    expect(xform).toContain('<bind nodeset="/data/meta/instanceName" type="string" calculate="concat(\'x\',  /data/a )"/>');
  });
});
