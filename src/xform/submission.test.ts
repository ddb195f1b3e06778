import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { XFormError, XmlError, parseSubmission, parseXForm } from './index.js';

const PLAIN_VECTOR = readFileSync('/work/shared/testdata/odk-encryption/plain/submission.xml');
const ENCRYPTED_VECTOR = readFileSync('/work/shared/testdata/odk-encryption/enc/submission.xml');
const nestedRepeats = parseXForm(readFileSync('/work/shared/testdata/xlsform/expected/kpi__nested_repeats.xls.xml'));
const groupsInRepeats = parseXForm(readFileSync('/work/shared/testdata/xlsform/expected/kpi__groups_in_repeats.xls.xml'));

function submissionCode(xml: string, schema = groupsInRepeats): string {
  try {
    parseSubmission(xml, schema);
  } catch (error) {
    if (error instanceof XFormError || error instanceof XmlError) return error.code;
    throw error;
  }
  return 'accepted';
}

const GROUPS_IN_REPEATS = `<?xml version='1.0' ?>
<data id="kpi__groups_in_repeats" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
  <name>Mary</name>
  <age>35</age>
  <picture>1712345678901.jpg</picture>
  <has_children>1</has_children>
  <gps>-1.28 36.81 1700 5</gps>
  <web_browsers>firefox chrome</web_browsers>
  <children>
    <childs_info><name>Ann</name><age>3</age></childs_info>
    <immunization><immunization_received>polio_1 polio_2</immunization_received></immunization>
  </children>
  <children>
    <childs_info><name>Ben</name><age/></childs_info>
    <immunization><immunization_received/></immunization>
  </children>
  <children><childs_info><name/><age/></childs_info><immunization><immunization_received/></immunization></children>
  <meta>
    <instanceID>uuid:11111111-2222-4333-8444-555555555555</instanceID>
    <deprecatedID>uuid:00000000-2222-4333-8444-555555555555</deprecatedID>
    <instanceName>Mary's household</instanceName>
  </meta>
</data>`;

describe('parseSubmission', () => {
  it('reads the plain test-vector submission', () => {
    expect(parseSubmission(PLAIN_VECTOR)).toEqual({
      formId: 'kat_form',
      version: '2024010101',
      instanceId: 'uuid:6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60',
      deprecatedId: null,
      instanceName: null,
      encrypted: false,
      fields: { name: 'Alice', photo: 'photo.jpg', 'meta/instanceID': 'uuid:6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60' },
    });
  });

  it("produces KoBoToolbox's shape: flattened groups, repeats as arrays of full-path objects, empties left out", () => {
    const parsed = parseSubmission(GROUPS_IN_REPEATS, groupsInRepeats);
    expect(parsed).toMatchObject({
      instanceId: 'uuid:11111111-2222-4333-8444-555555555555',
      deprecatedId: 'uuid:00000000-2222-4333-8444-555555555555',
      instanceName: "Mary's household",
      version: null,
    });
    expect(parsed.fields).toEqual({
      name: 'Mary',
      age: '35',
      picture: '1712345678901.jpg',
      has_children: '1',
      gps: '-1.28 36.81 1700 5',
      web_browsers: 'firefox chrome',
      children: [
        {
          'children/childs_info/name': 'Ann',
          'children/childs_info/age': '3',
          'children/immunization/immunization_received': 'polio_1 polio_2',
        },
        { 'children/childs_info/name': 'Ben' },
      ],
      'meta/instanceID': 'uuid:11111111-2222-4333-8444-555555555555',
      'meta/deprecatedID': 'uuid:00000000-2222-4333-8444-555555555555',
      'meta/instanceName': "Mary's household",
    });
    expect(Object.keys(parsed.fields)[6]).toBe('children');
  });

  it('uses the schema to make a repeat answered once an array, and nests repeats', () => {
    const xml = `<data id="nested_repeats"><kids><has_kids>1</has_kids>
      <kids_details><kids_name>Tom</kids_name>
        <kids_immunization><kids_immunization_info>polio</kids_immunization_info></kids_immunization>
        <kids_immunization><kids_immunization_info>measles</kids_immunization_info></kids_immunization>
      </kids_details>
      <nested_group><nested_group_info>x</nested_group_info></nested_group></kids>
      <meta><instanceID>uuid:n</instanceID></meta></data>`;
    expect(parseSubmission(xml, nestedRepeats).fields).toEqual({
      'kids/has_kids': '1',
      'kids/kids_details': [
        {
          'kids/kids_details/kids_name': 'Tom',
          'kids/kids_details/kids_immunization': [
            { 'kids/kids_details/kids_immunization/kids_immunization_info': 'polio' },
            { 'kids/kids_details/kids_immunization/kids_immunization_info': 'measles' },
          ],
        },
      ],
      'kids/nested_group/nested_group_info': 'x',
      'meta/instanceID': 'uuid:n',
    });
    const withoutSchema = parseSubmission(xml).fields;
    expect(withoutSchema['kids/kids_details/kids_name']).toBe('Tom');
    expect(withoutSchema['kids/kids_details/kids_immunization']).toHaveLength(2);
  });

  it('reads orx:meta, orx:version, and the fallbacks for instanceID', () => {
    const orx = '<data xmlns:orx="http://openrosa.org/xforms" id="f" orx:version="2"><orx:meta><orx:instanceID> uuid:a </orx:instanceID></orx:meta></data>';
    expect(parseSubmission(orx)).toMatchObject({ version: '2', instanceId: 'uuid:a', fields: { 'meta/instanceID': ' uuid:a ' } });
    expect(parseSubmission('<data id="f"><instanceID>uuid:b</instanceID></data>').instanceId).toBe('uuid:b');
    expect(parseSubmission('<data id="f" instanceID="uuid:c"><q>1</q></data>').instanceId).toBe('uuid:c');
  });

  it('reads an encrypted envelope as identity only', () => {
    expect(parseSubmission(ENCRYPTED_VECTOR, { ...groupsInRepeats, formId: 'kat_form' })).toEqual({
      formId: 'kat_form',
      version: '2024010101',
      instanceId: 'uuid:6f1b6b2e-7a3c-4e59-9d0a-1b2c3d4e5f60',
      deprecatedId: null,
      instanceName: null,
      encrypted: true,
      fields: {},
    });
  });

  it('refuses submissions without an instanceID, for another form, or with another root', () => {
    expect(submissionCode('<data id="kpi__groups_in_repeats"><name>x</name><meta><instanceID>  </instanceID></meta></data>')).toBe('submission.missing_instance_id');
    expect(submissionCode('<data id="other"><meta><instanceID>uuid:1</instanceID></meta></data>')).toBe('submission.wrong_form');
    expect(submissionCode('<survey id="kpi__groups_in_repeats"><meta><instanceID>uuid:1</instanceID></meta></survey>')).toBe('submission.wrong_root');
    expect(submissionCode('<data><meta><instanceID>uuid:1</instanceID></meta></data>')).toBe('submission.missing_form_id');
    expect(submissionCode(`<data id="kpi__groups_in_repeats"><meta><instanceID>uuid:${'x'.repeat(300)}</instanceID></meta></data>`)).toBe('submission.bad_instance_id');
    expect(submissionCode('<data id="kpi__groups_in_repeats"><meta><instanceID>uuid:1</instanceID><deprecatedID>uuid:a b</deprecatedID></meta></data>')).toBe('submission.bad_instance_id');
  });

  it('refuses hostile XML: DOCTYPE, entity bomb, deep nesting, prototype keys', () => {
    const bomb = '<!DOCTYPE data [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><data id="kpi__groups_in_repeats">&b;</data>';
    expect(submissionCode(bomb)).toBe('xml.doctype_forbidden');
    expect(submissionCode('<!DOCTYPE data SYSTEM "http://evil/x.dtd"><data id="kpi__groups_in_repeats"/>')).toBe('xml.doctype_forbidden');
    const deep = `<data id="kpi__groups_in_repeats">${'<g>'.repeat(10_000)}${'</g>'.repeat(10_000)}</data>`;
    expect(submissionCode(deep)).toBe('xml.too_deep');
    expect(submissionCode('<data id="kpi__groups_in_repeats"><__proto__><polluted>1</polluted></__proto__></data>')).toBe('xml.forbidden_name');
    expect(submissionCode('<data id="kpi__groups_in_repeats"><name>unclosed</data>')).toBe('xml.malformed');
  });

  it('applies caller limits', () => {
    const xml = `<data id="f"><meta><instanceID>uuid:1</instanceID></meta>${'<q>1</q>'.repeat(100)}</data>`;
    expect(() => parseSubmission(xml, undefined, { maxElements: 50 })).toThrow(XmlError);
  });
});
