import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseXForm } from '../xform/index.js';
import { compareSchemas } from './compatibility.js';
import { detectSource, FormDefinitionError, prepareFormDefinition } from './definition.js';

const corpus = path.resolve(import.meta.dirname, '../../../shared/testdata/xlsform');
const expectedXForm = (form: string) => readFileSync(path.join(corpus, 'expected', `${form}.xml`));

const xform = (fields: string, binds: string, extraModel = '') => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>T</h:title><model>
  <instance><data id="t" version="1">${fields}<meta><instanceID/></meta></data></instance>${extraModel}
  ${binds}
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/age"><label>Age</label></input></h:body>
</h:html>`;

describe('form definitions', () => {
  it('tells XLSForms from XForms by their bytes, not their names', () => {
    expect(detectSource(readFileSync(path.join(corpus, 'forms', 'kpi__gps.xls')))).toBe('xlsform');
    expect(detectSource(Buffer.from('\uFEFF  <?xml version="1.0"?><h:html/>'))).toBe('xform');
    expect(detectSource(Buffer.from('%PDF-1.7'))).toBeNull();
  });

  it('keeps an uploaded XForm byte for byte, with its schema and the media it names', async () => {
    const bytes = Buffer.from(
      xform('<age/><photo/>', '<bind nodeset="/data/age" type="int"/><bind nodeset="/data/photo" type="binary"/>', '<instance id="villages" src="jr://file-csv/villages.csv"/><itext><translation lang="en"><text id="q"><value form="image">jr://images/cow.png</value></text></translation></itext>'),
    );
    const definition = await prepareFormDefinition(bytes, 'form.xml');
    expect(definition.source).toBe('xform');
    expect(definition.xform.equals(bytes)).toBe(true);
    expect(definition.schema.formId).toBe('t');
    expect(definition.media).toEqual([
      { name: 'villages.csv', kind: 'file-csv' },
      { name: 'cow.png', kind: 'images' },
    ]);
  });

  it.each([
    ['a PDF', Buffer.from('%PDF-1.7 ...'), 'form.unrecognised_file'],
    ['an XForm with a DOCTYPE', Buffer.from('<?xml version="1.0"?><!DOCTYPE x [<!ENTITY a "b">]><h:html/>'), 'form.invalid_xform'],
    ['XML that is not an XForm', Buffer.from('<svg></svg>'), 'form.invalid_xform'],
    ['truncated XML', Buffer.from('<h:html xmlns:h="http://www.w3.org/1999/xhtml"><h:head>'), 'form.invalid_xform'],
  ])('refuses %s with a clear code', async (_label, bytes, code) => {
    await expect(prepareFormDefinition(bytes, 'upload')).rejects.toMatchObject({ code });
  });

  it('refuses an XLSForm with errors, listing each with its sheet and row', async () => {
    const error = await prepareFormDefinition(readFileSync(path.join(corpus, 'forms', 'onadata__group_names_must_be_unique.xlsx')), 'x.xlsx').catch((e: unknown) => e);
    if (!(error instanceof FormDefinitionError)) return expect(error).toBeInstanceOf(FormDefinitionError);
    expect(error.code).toBe('form.invalid_xlsform');
    expect(error.issues.length).toBeGreaterThan(0);
  });

  it('converts an XLSForm and keeps its warnings', async () => {
    const definition = await prepareFormDefinition(readFileSync(path.join(corpus, 'forms', 'kpi__gps.xls')), 'gps.xls');
    expect(definition.source).toBe('xlsform');
    expect(definition.schema.fields.some((f) => f.type === 'geopoint')).toBe(true);
  });
});

describe('schema changes between versions', () => {
  const schema = (binds: string, fields = '<age/><name/>') => parseXForm(xform(fields, binds));

  it('finds nothing to say about an identical form', () => {
    const household = parseXForm(expectedXForm('kpi__household.xls'));
    expect(compareSchemas(household, household)).toEqual([]);
  });

  it('accepts widening changes and flags narrowing ones', () => {
    const before = schema('<bind nodeset="/data/age" type="int"/><bind nodeset="/data/name" type="string"/>');
    const widened = schema('<bind nodeset="/data/age" type="decimal"/><bind nodeset="/data/name" type="string"/>');
    expect(compareSchemas(before, widened)).toEqual([expect.objectContaining({ path: '/data/age', kind: 'type_changed', compatible: true })]);
    const narrowed = schema('<bind nodeset="/data/age" type="int"/><bind nodeset="/data/name" type="int"/>');
    expect(compareSchemas(before, narrowed)).toEqual([expect.objectContaining({ path: '/data/name', from: 'string', to: 'int', compatible: false })]);
  });

  it('flags a question that becomes a group, and notes removed fields as harmless', () => {
    const before = schema('<bind nodeset="/data/age" type="int"/>');
    const after = schema('', '<age><years/></age>');
    const changes = compareSchemas(before, after);
    expect(changes).toContainEqual(expect.objectContaining({ path: '/data/age', kind: 'structure_changed', compatible: false }));
    expect(changes).toContainEqual(expect.objectContaining({ path: '/data/name', kind: 'removed', compatible: true }));
  });
});
