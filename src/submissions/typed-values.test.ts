import { describe, expect, it } from 'vitest';
import { parseSubmission, parseXForm } from '../xform/index.js';
import { readGeopoint, selectMultiplePaths, splitSelected, typedAnswers, typedAnswersJson, typeText } from './typed-values.js';

const xform = `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>Typed</h:title><model>
  <instance><data id="typed"><age/><weight/><ok/><born/><seen/><where/><path/><area/><colors/><grp><note/><count/></grp>
   <member jr:template=""><name/><years/></member><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/age" type="int"/><bind nodeset="/data/weight" type="decimal"/><bind nodeset="/data/ok" type="boolean"/>
  <bind nodeset="/data/born" type="date"/><bind nodeset="/data/seen" type="dateTime"/><bind nodeset="/data/where" type="geopoint"/>
  <bind nodeset="/data/path" type="geotrace"/><bind nodeset="/data/area" type="geoshape"/><bind nodeset="/data/colors" type="string"/>
  <bind nodeset="/data/grp/note" type="string"/><bind nodeset="/data/grp/count" type="int"/>
  <bind nodeset="/data/member/name" type="string"/><bind nodeset="/data/member/years" type="int"/>
 </model></h:head>
 <h:body><input ref="/data/age"/><select ref="/data/colors"><item><label>R</label><value>red</value></item><item><label>B</label><value>blue</value></item></select>
 <repeat nodeset="/data/member"><input ref="/data/member/name"/><input ref="/data/member/years"/></repeat></h:body>
</h:html>`;

const schema = parseXForm(xform);

describe('typed submission answers', () => {
  it('types every answer of a submission by its field, keeping Kobo keys, groups and repeats', () => {
    const instance = `<data id="typed"><age>42</age><weight>70.5</weight><ok>true</ok><born>1990-02-03</born><seen>2024-05-01T12:30:00.000+02:00</seen>
      <where>-1.5 36.8 1700 5</where><path>1 2 0 0;3 4 0 0;</path><area>1 2;3 4;5 6;1 2</area><colors>red blue</colors>
      <grp><note>hi</note><count>7</count></grp><member><name>Ann</name><years>9</years></member><member><name>Bo</name><years>x</years></member>
      <meta><instanceID>uuid:1</instanceID></meta></data>`;
    const { fields } = parseSubmission(instance, schema);
    expect(typedAnswers(fields, schema)).toEqual({
      age: 42,
      weight: 70.5,
      ok: true,
      born: '1990-02-03',
      seen: '2024-05-01T10:30:00.000Z',
      where: [-1.5, 36.8, 1700, 5],
      path: [
        [1, 2, 0, 0],
        [3, 4, 0, 0],
      ],
      area: [
        [1, 2, null, null],
        [3, 4, null, null],
        [5, 6, null, null],
        [1, 2, null, null],
      ],
      colors: 'red blue',
      'grp/note': 'hi',
      'grp/count': 7,
      member: [
        { 'member/name': 'Ann', 'member/years': 9 },
        { 'member/name': 'Bo', 'member/years': 'x' },
      ],
      'meta/instanceID': 'uuid:1',
    });
  });

  it('keeps the text of an answer that does not read as its type', () => {
    expect(typeText('12abc', 'int')).toBe('12abc');
    expect(typeText('9999999999999999', 'int')).toBe('9999999999999999');
    expect(typeText('1e999', 'decimal')).toBe('1e999');
    expect(typeText('yes', 'boolean')).toBe('yes');
    expect(typeText('91 10', 'geopoint')).toBe('91 10');
    expect(typeText('1 2 3 4 5', 'geopoint')).toBe('1 2 3 4 5');
    expect(typeText('1 2;oops', 'geotrace')).toBe('1 2;oops');
    expect(typeText('2024-13-45T99:00:00Z', 'dateTime')).toBe('2024-13-45T99:00:00Z');
    expect(typeText('02/03/1990', 'date')).toBe('02/03/1990');
    expect(typeText('anything', 'barcode')).toBe('anything');
  });

  it('reads numbers, booleans and offsets in the forms clients write them', () => {
    expect(typeText(' -7 ', 'int')).toBe(-7);
    expect(typeText('.5', 'decimal')).toBe(0.5);
    expect(typeText('1.5e3', 'decimal')).toBe(1500);
    expect(typeText('0', 'boolean')).toBe(false);
    expect(typeText('2024-05-01T12:30:00+0530', 'dateTime')).toBe('2024-05-01T07:00:00.000Z');
    expect(typeText('2024-05-01T12:30:00+05', 'dateTime')).toBe('2024-05-01T07:30:00.000Z');
    expect(typeText('2024-05-01T12:30', 'dateTime')).toBe('2024-05-01T12:30');
    expect(readGeopoint('10 20')).toEqual([10, 20, null, null]);
  });

  it('leaves answers the schema does not know as text', () => {
    expect(typedAnswers({ extra: '5' }, schema)).toEqual({ extra: '5' });
  });

  it('gives ingest the JSON to store, and nothing for an encrypted envelope', () => {
    expect(typedAnswersJson('{"age":"7","grp/note":"x"}', schema)).toBe('{"age":7,"grp/note":"x"}');
    expect(typedAnswersJson(null, schema)).toBeNull();
  });

  it('splits a select_multiple answer and names those questions', () => {
    expect(splitSelected(' red  blue ')).toEqual(['red', 'blue']);
    expect(splitSelected('')).toEqual([]);
    expect(selectMultiplePaths(schema)).toEqual(['colors']);
  });
});
