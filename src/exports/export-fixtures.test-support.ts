/**
 * A household form for export tests, in two versions and two languages, with a group, a repeat
 * inside which another repeat nests, a select_one, a select_multiple, the three geo types and a
 * photo; and a way to post its submissions through the real OpenRosa endpoint.
 */
import { expect } from 'vitest';
import type { TestServer } from '../../test/support/server.js';
import type { TestUser } from '../../test/support/test-users.js';
import { collectHeaders, multipartBody, send, type Part } from '../openrosa/submission-client.test-support.js';

const labels: Record<string, [en: string, fr: string]> = {
  hh: ['Household', 'Ménage'],
  'hh/district': ['District', 'District'],
  'hh/district/north': ['North', 'Nord'],
  'hh/district/south': ['South', 'Sud'],
  'hh/size': ['Size', 'Taille'],
  'hh/old_q': ['Old question', 'Ancienne question'],
  'hh/phone': ['Phone', 'Téléphone'],
  colors: ['Colours', 'Couleurs'],
  'colors/red': ['Red', 'Rouge'],
  'colors/blue': ['Blue', 'Bleu'],
  'colors/green': ['Green', 'Vert'],
  where: ['Location', 'Lieu'],
  route: ['Route', 'Itinéraire'],
  area: ['Area', 'Zone'],
  photo: ['Photo', 'Photo'],
  member: ['Member', 'Membre'],
  'member/name': ['Name', 'Nom'],
  'member/age': ['Age', 'Âge'],
  'member/visit': ['Visit', 'Visite'],
  'member/visit/date': ['Date', 'Date'],
  'member/visit/place': ['Place', 'Endroit'],
};

const label = (path: string) => `<label ref="jr:itext('/data/${path}:label')"/>`;
const translation = (lang: string, index: 0 | 1, isDefault: boolean) =>
  `<translation lang="${lang}"${isDefault ? ' default="true()"' : ''}>${Object.entries(labels)
    .map(([path, texts]) => `<text id="/data/${path}:label"><value>${texts[index]}</value></text>`)
    .join('')}</translation>`;
const item = (list: string, value: string) => `<item>${label(`${list}/${value}`)}<value>${value}</value></item>`;

/** Version 1 has `hh/old_q`; version 2 drops it and adds `hh/phone`. */
export function householdForm(version: '1' | '2'): string {
  const extra = version === '1' ? 'old_q' : 'phone';
  return `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
 <h:head><h:title>Household export</h:title><model>
  <itext>${translation('English (en)', 0, true)}${translation('French (fr)', 1, false)}</itext>
  <instance><data id="household" version="${version}"><hh><district/><size/><${extra}/></hh><colors/><where/><route/><area/><photo/><member jr:template=""><name/><age/><visit jr:template=""><date/><place/></visit></member><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/hh/district" type="string"/><bind nodeset="/data/hh/size" type="int"/><bind nodeset="/data/hh/${extra}" type="string"/>
  <bind nodeset="/data/colors" type="string"/><bind nodeset="/data/where" type="geopoint"/><bind nodeset="/data/route" type="geotrace"/><bind nodeset="/data/area" type="geoshape"/>
  <bind nodeset="/data/photo" type="binary"/><bind nodeset="/data/member/name" type="string"/><bind nodeset="/data/member/age" type="int"/>
  <bind nodeset="/data/member/visit/date" type="date"/><bind nodeset="/data/member/visit/place" type="geopoint"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body>
  <group ref="/data/hh">${label('hh')}
   <select1 ref="/data/hh/district">${label('hh/district')}${item('hh/district', 'north')}${item('hh/district', 'south')}</select1>
   <input ref="/data/hh/size">${label('hh/size')}</input><input ref="/data/hh/${extra}">${label(`hh/${extra}`)}</input>
  </group>
  <select ref="/data/colors">${label('colors')}${item('colors', 'red')}${item('colors', 'blue')}${item('colors', 'green')}</select>
  <input ref="/data/where">${label('where')}</input><input ref="/data/route">${label('route')}</input><input ref="/data/area">${label('area')}</input>
  <upload ref="/data/photo" mediatype="image/*">${label('photo')}</upload>
  <group ref="/data/member">${label('member')}<repeat nodeset="/data/member">
   <input ref="/data/member/name">${label('member/name')}</input><input ref="/data/member/age">${label('member/age')}</input>
   <group ref="/data/member/visit">${label('member/visit')}<repeat nodeset="/data/member/visit">
    <input ref="/data/member/visit/date">${label('member/visit/date')}</input><input ref="/data/member/visit/place">${label('member/visit/place')}</input>
   </repeat></group>
  </repeat></group>
 </h:body>
</h:html>`;
}

export const instanceIds = ['uuid:e0000000-0000-4000-8000-000000000001', 'uuid:e0000000-0000-4000-8000-000000000002', 'uuid:e0000000-0000-4000-8000-000000000003'] as const;

/** The submissions' bodies (inside the root), in the order they are sent. */
export const householdAnswers = [
  {
    version: '1',
    body: `<hh><district>north</district><size>3</size><old_q>legacy, "quoted"</old_q></hh><colors>red blue</colors><where>-1.5 36.8 1700 5</where><route>-1.5 36.8 0 0;-1.6 36.9 0 0</route><area>-1 36 0 0;-1 37 0 0;-2 37 0 0;-1 36 0 0</area><photo>p1.jpg</photo><member><name>Ann</name><age>34</age><visit><date>2024-05-01</date><place>-1.2 36.7</place></visit></member><member><name>Bo\nJr</name><age>5</age></member>`,
    file: 'p1.jpg',
  },
  {
    version: '2',
    body: `<hh><district>south</district><size>1</size><phone>0712</phone></hh><colors>green</colors><member><name>Cy</name><age>70</age><visit><date>2024-06-01</date></visit><visit><date>2024-06-02</date><place>1 2</place></visit></member>`,
  },
  { version: '2', body: `<hh><district>north</district><size>2</size></hh>` },
] as const;

export const photo = Buffer.concat([Buffer.from([0xff, 0xd8, 0xff, 0xe0]), Buffer.from('photo bytes '.repeat(50))]);

export async function submitHousehold(server: TestServer, projectId: number, user: TestUser, index: 0 | 1 | 2): Promise<void> {
  const answers = householdAnswers[index];
  const xml = `<?xml version='1.0' ?><data id="household" version="${answers.version}" xmlns:orx="http://openrosa.org/xforms">${answers.body}<orx:meta><orx:instanceID>${instanceIds[index]}</orx:instanceID></orx:meta></data>`;
  const parts: Part[] = [{ name: 'xml_submission_file', filename: 'instance.xml', contentType: 'text/xml', body: xml }];
  if ('file' in answers) parts.push({ name: answers.file, filename: answers.file, contentType: 'image/jpeg', body: photo });
  const body = multipartBody(parts, { partLengths: true });
  const response = await send(`${server.url}/projects/${projectId}/submission`, 'POST', collectHeaders({ ...user.headers, 'content-type': body.contentType }), body.body);
  expect(response.status, response.body).toBe(201);
}

/** RFC 4180 CSV into rows of fields (test support: tolerant of LF or CRLF line ends and a BOM). */
export function parseCsv(text: string): string[][] {
  const rows: string[][] = [];
  let row: string[] = [];
  let field = '';
  let quoted = false;
  const input = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < input.length; i += 1) {
    const c = input[i]!;
    if (quoted) {
      if (c === '"' && input[i + 1] === '"') (field += '"'), (i += 1);
      else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ',') row.push(field), (field = '');
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && input[i + 1] === '\n') i += 1;
      row.push(field);
      rows.push(row);
      (row = []), (field = '');
    } else field += c;
  }
  if (field !== '' || row.length > 0) rows.push([...row, field]);
  return rows;
}

