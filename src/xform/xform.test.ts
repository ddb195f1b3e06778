import { readFileSync, readdirSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { XFormError, XmlError, parseXForm } from './index.js';
import type { FormField, FormSchema } from './index.js';

const EXPECTED = '/work/shared/testdata/xlsform/expected';
const corpusForm = (name: string): FormSchema => parseXForm(readFileSync(`${EXPECTED}/${name}`));

function field(schema: FormSchema, path: string): FormField {
  const found = schema.fields.find((candidate) => candidate.path === path);
  if (!found) throw new Error(`no field ${path}`);
  return found;
}

function xformCode(xml: string): string {
  try {
    parseXForm(xml);
  } catch (error) {
    if (error instanceof XFormError || error instanceof XmlError) return error.code;
    throw error;
  }
  return 'accepted';
}

describe('parseXForm on the pyxform corpus', () => {
  const files = readdirSync(EXPECTED).filter((name) => name.endsWith('.xml'));

  it('parses every expected XForm into a consistent schema', () => {
    expect(files.length).toBe(177);
    for (const name of files) {
      const schema = corpusForm(name);
      expect(schema.formId, name).not.toBe('');
      const root = `/${schema.rootName}/`;
      const paths = schema.fields.map((f) => f.path);
      expect(new Set(paths).size, name).toBe(paths.length);
      expect(paths, name).toContain(`${root}meta/instanceID`);
      for (const f of schema.fields) {
        expect(f.path.startsWith(root), name).toBe(true);
        expect(f.parent === null || paths.includes(f.parent), `${name} ${f.path}`).toBe(true);
      }
    }
  });

  it('reads groups inside a repeat (kpi groups_in_repeats)', () => {
    const schema = corpusForm('kpi__groups_in_repeats.xls.xml');
    expect(schema).toMatchObject({ formId: 'kpi__groups_in_repeats', version: null, title: 'kpi__groups_in_repeats', rootName: 'data', languages: [] });
    expect(schema.fields.map((f) => [f.path.slice(6), f.kind, f.type])).toEqual([
      ['name', 'question', 'string'],
      ['age', 'question', 'int'],
      ['picture', 'question', 'binary'],
      ['has_children', 'question', 'select1'],
      ['gps', 'question', 'geopoint'],
      ['web_browsers', 'question', 'select'],
      ['children', 'repeat', 'repeat'],
      ['children/childs_info', 'group', 'group'],
      ['children/childs_info/name', 'question', 'string'],
      ['children/childs_info/age', 'question', 'int'],
      ['children/immunization', 'group', 'group'],
      ['children/immunization/immunization_received', 'question', 'select'],
      ['meta', 'group', 'group'],
      ['meta/instanceID', 'question', 'string'],
    ]);
    expect(field(schema, '/data/children')).toMatchObject({ labels: { default: '7 Children' }, control: 'repeat', parent: null, repeat: '/data/children' });
    expect(field(schema, '/data/children/immunization/immunization_received')).toMatchObject({
      parent: '/data/children/immunization',
      repeat: '/data/children',
      choiceList: 'immunizations',
      choices: [
        { value: 'polio_1', labels: { default: 'Polio 1' } },
        { value: 'polio_2', labels: { default: 'Polio 2' } },
      ],
    });
    expect(field(schema, '/data/picture')).toMatchObject({ binary: true, control: 'upload', mediaType: 'image/*' });
    expect(field(schema, '/data/meta/instanceID').bind).toMatchObject({ readonly: 'true()', preload: 'uid' });
  });

  it('reads translated labels and choices (kpi good_eats_multilang)', () => {
    const schema = corpusForm('kpi__good_eats_multilang.xls.xml');
    expect(schema.languages).toEqual(['English', 'French']);
    expect(schema.defaultLanguage).toBeNull();
    const foodType = field(schema, '/data/food_type');
    expect(foodType.labels).toEqual({ English: 'Type of Eat', French: 'Type of Eat Fr' });
    expect(foodType.choices?.[0]).toEqual({ value: 'morning_food', labels: { English: 'Morning Food', French: 'Morning Food Fr' } });
    expect(foodType.choices).toHaveLength(13);
    expect(field(schema, '/data/food_type_other')).toMatchObject({ labels: { default: 'Specify other.' }, bind: { relevant: "selected(../food_type, 'other')" } });
    expect(field(schema, '/data/amount')).toMatchObject({ type: 'decimal', hints: { default: 'In local currency' } });
    expect(field(schema, '/data/imei').bind).toMatchObject({ preload: 'property', preloadParams: 'deviceid' });
    expect(schema.fields.filter((f) => f.binary).map((f) => f.name)).toEqual(['food_photo', 'location_photo']);
  });

  it('reads nested repeats (kpi nested_repeats)', () => {
    const schema = corpusForm('kpi__nested_repeats.xls.xml');
    expect(field(schema, '/data/kids/kids_details')).toMatchObject({ kind: 'repeat', parent: '/data/kids', repeat: '/data/kids/kids_details' });
    const inner = field(schema, '/data/kids/kids_details/kids_immunization');
    expect(inner).toMatchObject({ kind: 'repeat', parent: '/data/kids/kids_details', repeat: '/data/kids/kids_details/kids_immunization' });
    expect(field(schema, '/data/kids/nested_group').repeat).toBeNull();
  });

  it('reads the public key and submission URL of an encrypted form', () => {
    const schema = corpusForm('kpi__transportation_encrypted.xls.xml');
    expect(schema.submissionUrl).toBe('http://testserver/bob/submission');
    expect(schema.base64RsaPublicKey).toMatch(/^MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA4o9yv747EEFNJNP4Egj0[A-Za-z0-9+/]+={0,2}$/);
    expect(corpusForm('kpi__tutorial.xls.xml').base64RsaPublicKey).toBeNull();
  });

  it('shows <output> references as ${name} and keeps external choice lists by id', () => {
    const tutorial = corpusForm('kpi__tutorial.xls.xml');
    expect(tutorial.fields.some((f) => Object.values(f.labels).some((label) => label.includes('${name}')))).toBe(true);
    const external = corpusForm('pyxform__UCL_Biomass_Plot_Form.xlsx.xml');
    const regions = external.fields.find((f) => f.choiceList === 'UCL_regions');
    expect(regions).toMatchObject({ type: 'select1', choices: null });
  });
});

const HANDWRITTEN = `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa"
        xmlns:orx="http://openrosa.org/xforms" xmlns:odk="http://www.opendatakit.org/xforms" xmlns:xsd="http://www.w3.org/2001/XMLSchema">
  <h:head>
    <h:title>  Hand written  </h:title>
    <model>
      <submission base64RsaPublicKey="  MIIB
        AAAA  " action="https://example.org/submit" method="post"/>
      <itext>
        <translation lang="English (en)" default="true()">
          <text id="q-label"><value>How old is <output value="/survey/g/name"/>?</value><value form="image">jr://images/a.png</value></text>
          <text id="yes"><value form="long">Yes</value></text>
        </translation>
        <translation lang="Français (fr)">
          <text id="q-label"><value>Quel âge a <output value=" /survey/g/name "/> ?</value></text>
          <text id="yes"><value>Oui</value></text>
        </translation>
      </itext>
      <instance>
        <survey id="hand" orx:version="7">
          <g><name/><age/><ok/><order/><score/><done/><city/></g>
          <orx:meta><orx:instanceID/></orx:meta>
        </survey>
      </instance>
      <instance id="cities" src="jr://file-csv/cities.csv"/>
      <bind nodeset="/survey/g/name" type="xsd:string" required="true()"/>
      <bind id="age-bind" nodeset="g/age" type="xsd:integer"/>
      <bind nodeset="/survey/g/order" type="odk:rank"/>
      <bind nodeset="/survey/g/score" type="decimal"/>
      <bind nodeset="/survey/orx:meta/orx:instanceID" type="string" jr:preload="uid"/>
    </model>
  </h:head>
  <h:body>
    <group ref="/survey/g">
      <input ref="name"><label>Name</label></input>
      <input bind="age-bind"><label ref="jr:itext('q-label')"/></input>
      <select1 ref="./ok">
        <label>OK?</label>
        <item><label ref="jr:itext('yes')"/><value> yes </value></item>
        <item><label>No</label><value>no</value></item>
      </select1>
      <odk:rank ref="order"><label>Order</label><item><label>A</label><value>a</value></item></odk:rank>
      <range ref="score" start="0" end="1" step="0.5"><label>Score</label></range>
      <trigger ref="done"><label>Done</label></trigger>
      <select1 ref="city"><label>City</label><itemset nodeset="instance('cities')/root/item[region = ../region]"><value ref="name"/><label ref="label"/></itemset></select1>
    </group>
  </h:body>
</h:html>`;

describe('parseXForm on hand-written XForms', () => {
  const schema = parseXForm(HANDWRITTEN);

  it('reads identity, languages and submission settings', () => {
    expect(schema).toMatchObject({
      formId: 'hand',
      version: '7',
      title: 'Hand written',
      rootName: 'survey',
      languages: ['English (en)', 'Français (fr)'],
      defaultLanguage: 'English (en)',
      base64RsaPublicKey: 'MIIBAAAA',
      submissionUrl: 'https://example.org/submit',
    });
  });

  it('resolves relative refs, bind ids, prefixed steps and type aliases', () => {
    expect(field(schema, '/survey/g/name')).toMatchObject({ type: 'string', labels: { default: 'Name' }, bind: { required: 'true()' } });
    expect(field(schema, '/survey/g/age')).toMatchObject({
      type: 'int',
      labels: { 'English (en)': 'How old is ${name}?', 'Français (fr)': 'Quel âge a ${name} ?' },
    });
    expect(field(schema, '/survey/meta/instanceID')).toMatchObject({ parent: '/survey/meta', bind: { preload: 'uid' } });
  });

  it('reads inline items, rank, range, trigger and external itemsets', () => {
    expect(field(schema, '/survey/g/ok')).toMatchObject({
      type: 'select1',
      choices: [
        { value: 'yes', labels: { 'English (en)': 'Yes', 'Français (fr)': 'Oui' } },
        { value: 'no', labels: { default: 'No' } },
      ],
    });
    expect(field(schema, '/survey/g/order')).toMatchObject({ type: 'odk:rank', dataType: 'odk:rank', control: 'rank', choices: [{ value: 'a' }] });
    expect(field(schema, '/survey/g/score')).toMatchObject({ type: 'decimal', control: 'range' });
    expect(field(schema, '/survey/g/done')).toMatchObject({ type: 'string', control: 'trigger' });
    expect(field(schema, '/survey/g/city')).toMatchObject({ choiceList: 'cities', choices: null });
  });

  it('refuses documents that are not usable XForms', () => {
    expect(xformCode('<data id="x"/>')).toBe('xform.not_an_xform');
    expect(xformCode('<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head/></h:html>')).toBe('xform.no_model');
    expect(xformCode('<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head><model><instance/></model></h:head></h:html>')).toBe('xform.no_primary_instance');
    expect(xformCode(HANDWRITTEN.replace('<survey id="hand"', '<survey'))).toBe('xform.missing_form_id');
    expect(xformCode(HANDWRITTEN.replace('AAAA  "', 'AA$A  "'))).toBe('xform.bad_public_key');
    expect(xformCode(HANDWRITTEN.replace('lang="Français (fr)"', 'lang="__proto__"'))).toBe('xform.bad_language');
    expect(xformCode(`<!DOCTYPE h:html>${HANDWRITTEN.replace('<?xml version="1.0"?>', '')}`)).toBe('xml.doctype_forbidden');
  });
});
