import { describe, expect, it } from 'vitest';
import { parseSubmission, parseXForm } from '../xform/index.js';
import { checkChanges, editInstance } from './instance-edit.js';

const form = parseXForm(`<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
 <h:head><h:title>Visit</h:title><model>
  <instance><data id="visit" version="3"><name/><age/><score/><ok/><day/><at/><loc/><region/><crops/><grp><note/></grp><photo/><member jr:template=""><pic/></member><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/name" type="string"/><bind nodeset="/data/age" type="int"/><bind nodeset="/data/score" type="decimal"/>
  <bind nodeset="/data/ok" type="boolean"/><bind nodeset="/data/day" type="date"/><bind nodeset="/data/at" type="dateTime"/>
  <bind nodeset="/data/loc" type="geopoint"/><bind nodeset="/data/region" type="string"/><bind nodeset="/data/crops" type="string"/>
  <bind nodeset="/data/grp/note" type="string"/><bind nodeset="/data/photo" type="binary"/><bind nodeset="/data/member/pic" type="binary"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body>
  <input ref="/data/name"/><input ref="/data/age"/><input ref="/data/score"/><input ref="/data/ok"/><input ref="/data/day"/><input ref="/data/at"/><input ref="/data/loc"/>
  <select1 ref="/data/region"><item><label>N</label><value>north</value></item><item><label>S</label><value>south</value></item></select1>
  <select ref="/data/crops"><item><label>M</label><value>maize</value></item><item><label>B</label><value>beans</value></item></select>
  <group ref="/data/grp"><input ref="/data/grp/note"/></group><upload ref="/data/photo" mediatype="image/*"/>
  <repeat nodeset="/data/member"><upload ref="/data/member/pic" mediatype="image/*"/></repeat>
 </h:body>
</h:html>`);

const instance = `<?xml version='1.0' ?><data id="visit" version="3" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms"><name>Ada &amp; co</name><age>30</age><region>north</region><photo>a.jpg</photo><member><pic>b.jpg</pic></member><orx:meta><orx:instanceID>uuid:one</orx:instanceID></orx:meta></data>`;

const ids = { newInstanceId: 'uuid:two', replacedInstanceId: 'uuid:one' };

describe('checkChanges', () => {
  it('writes each type as ODK does', () => {
    const checked = checkChanges(form, { age: 41, score: '2.5', ok: true, day: '2026-05-01', at: '2026-05-01T09:30:00.000+02:00', loc: [1.5, 2.5, 10, 4], region: 'south', crops: ['maize', 'beans'], 'grp/note': 'x', name: null });
    expect(Object.fromEntries(checked)).toEqual({ age: '41', score: '2.5', ok: 'true', day: '2026-05-01', at: '2026-05-01T09:30:00.000+02:00', loc: '1.5 2.5 10 4', region: 'south', crops: 'maize beans', 'grp/note': 'x', name: '' });
  });

  it.each([
    [{ nope: 'x' }, 'submission.edit_unknown_field', 'nope'],
    [{ age: 'forty' }, 'submission.edit_invalid_value', 'age'],
    [{ age: 4.5 }, 'submission.edit_invalid_value', 'age'],
    [{ name: 12 }, 'submission.edit_invalid_value', 'name'],
    [{ day: '01/05/2026' }, 'submission.edit_invalid_value', 'day'],
    [{ loc: '91 0' }, 'submission.edit_invalid_value', 'loc'],
    [{ region: 'east' }, 'submission.edit_invalid_value', 'region'],
    [{ crops: 'maize rice' }, 'submission.edit_invalid_value', 'crops'],
    [{ photo: 'c.jpg' }, 'submission.edit_field_not_editable', 'photo'],
    [{ 'member/pic': 'c.jpg' }, 'submission.edit_field_not_editable', 'member/pic'],
    [{ 'meta/instanceID': 'uuid:x' }, 'submission.edit_field_not_editable', 'meta/instanceID'],
    [{ grp: 'x' }, 'submission.edit_field_not_editable', 'grp'],
    [{ name: { $set: 'x' } }, 'submission.edit_invalid_value', 'name'],
    [{ ok: 'yes' }, 'submission.edit_invalid_value', 'ok'],
  ])('refuses %j naming the field', (changes, code, field) => {
    expect(() => checkChanges(form, changes)).toThrow(expect.objectContaining({ code, extra: { field }, message: expect.stringContaining(JSON.stringify(field)) }));
  });
});

describe('editInstance', () => {
  it('sets answers, creates missing elements, and renames the instance with deprecatedID', () => {
    const xml = editInstance(Buffer.from(instance), checkChanges(form, { name: 'Bea <3', age: null, 'grp/note': 'new' }), ids, 1 << 20);
    const parsed = parseSubmission(xml, form);
    expect(parsed).toMatchObject({ formId: 'visit', version: '3', instanceId: 'uuid:two', deprecatedId: 'uuid:one' });
    expect(parsed.fields).toEqual({
      name: 'Bea <3',
      region: 'north',
      photo: 'a.jpg',
      member: [{ 'member/pic': 'b.jpg' }],
      'grp/note': 'new',
      'meta/instanceID': 'uuid:two',
      'meta/deprecatedID': 'uuid:one',
    });
    expect(xml.toString('utf8')).toContain('<orx:meta xmlns:orx="http://openrosa.org/xforms"><orx:instanceID>uuid:two</orx:instanceID><orx:deprecatedID>uuid:one</orx:deprecatedID></orx:meta>');
  });

  it('replaces the deprecatedID of an earlier edit and keeps a default namespace', () => {
    const edited = `<data xmlns="http://example.org/ns" id="visit" version="3"><name>A</name><meta><instanceID>uuid:two</instanceID><deprecatedID>uuid:one</deprecatedID></meta></data>`;
    const xml = editInstance(Buffer.from(edited), new Map([['name', 'B']]), { newInstanceId: 'uuid:three', replacedInstanceId: 'uuid:two' }, 1 << 20).toString('utf8');
    expect(xml).toContain('<data xmlns="http://example.org/ns" id="visit" version="3"><name>B</name><meta><instanceID>uuid:three</instanceID><deprecatedID>uuid:two</deprecatedID></meta></data>');
  });
});
