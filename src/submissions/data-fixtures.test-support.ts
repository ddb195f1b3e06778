/**
 * A survey form and a way to post answers to it through the real OpenRosa endpoint, shared by the
 * data API and Kobo API tests.
 */
import { expect } from 'vitest';
import { call } from '../../test/support/http.js';
import type { TestServer } from '../../test/support/server.js';
import type { TestUser } from '../../test/support/test-users.js';
import { collectHeaders, multipartBody, send, type Part } from '../openrosa/submission-client.test-support.js';

export const surveyForm = (formId = 'survey', version = '1') => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa" xmlns:orx="http://openrosa.org/xforms">
 <h:head><h:title>Survey ${formId}</h:title><model>
  <instance><data id="${formId}" version="${version}"><district/><age/><weight/><seen/><where/><colors/><note/><photo/><member jr:template=""><name/></member><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/district" type="string"/><bind nodeset="/data/age" type="int"/><bind nodeset="/data/weight" type="decimal"/>
  <bind nodeset="/data/seen" type="dateTime"/><bind nodeset="/data/where" type="geopoint"/><bind nodeset="/data/colors" type="string"/>
  <bind nodeset="/data/note" type="string"/><bind nodeset="/data/photo" type="binary"/><bind nodeset="/data/member/name" type="string"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body>
  <select1 ref="/data/district"><label>District</label><item><label>N</label><value>north</value></item><item><label>S</label><value>south</value></item><item><label>E</label><value>east</value></item></select1>
  <input ref="/data/age"><label>Age</label></input><input ref="/data/weight"><label>Weight</label></input><input ref="/data/seen"><label>Seen</label></input>
  <input ref="/data/where"><label>Where</label></input>
  <select ref="/data/colors"><label>Colors</label><item><label>R</label><value>red</value></item><item><label>B</label><value>blue</value></item><item><label>G</label><value>green</value></item></select>
  <input ref="/data/note"><label>Note</label></input><upload ref="/data/photo" mediatype="image/*"><label>Photo</label></upload>
  <repeat nodeset="/data/member"><input ref="/data/member/name"><label>Name</label></input></repeat>
 </h:body>
</h:html>`;

export interface Answers {
  district?: string;
  age?: string;
  weight?: string;
  seen?: string;
  where?: string;
  colors?: string;
  note?: string;
  photo?: string;
  members?: string[];
}

const escape = (text: string) => text.replace(/&/g, '&amp;').replace(/</g, '&lt;');

export function surveyXml(formId: string, instanceId: string, answers: Answers, deprecatedId?: string, version = '1'): string {
  const simple = (['district', 'age', 'weight', 'seen', 'where', 'colors', 'note', 'photo'] as const)
    .map((name) => (answers[name] === undefined ? `<${name}/>` : `<${name}>${escape(answers[name]!)}</${name}>`))
    .join('');
  const members = (answers.members ?? []).map((name) => `<member><name>${escape(name)}</name></member>`).join('');
  const meta = `<orx:meta><orx:instanceID>${instanceId}</orx:instanceID>${deprecatedId ? `<orx:deprecatedID>${deprecatedId}</orx:deprecatedID>` : ''}</orx:meta>`;
  return `<?xml version='1.0' ?><data id="${formId}" version="${version}" xmlns:orx="http://openrosa.org/xforms">${simple}${members}${meta}</data>`;
}

let serial = 0;
export const newInstanceId = () => `uuid:da7a0000-0000-4000-8000-${String(++serial).padStart(12, '0')}`;

/** Posts answers as Collect would, as `user`; the new submission's instanceID. */
export async function submit(
  server: TestServer,
  projectId: number,
  user: TestUser,
  answers: Answers,
  options: { formId?: string; files?: Record<string, Buffer>; instanceId?: string; deprecatedId?: string } = {},
): Promise<string> {
  const instanceId = options.instanceId ?? newInstanceId();
  const parts: Part[] = [
    { name: 'xml_submission_file', filename: 'instance.xml', contentType: 'text/xml', body: surveyXml(options.formId ?? 'survey', instanceId, answers, options.deprecatedId) },
    ...Object.entries(options.files ?? {}).map(([name, body]) => ({ name, filename: name, contentType: 'image/jpeg', body })),
  ];
  const body = multipartBody(parts, { partLengths: true });
  const response = await send(`${server.url}/projects/${projectId}/submission`, 'POST', collectHeaders({ ...user.headers, 'content-type': body.contentType }), body.body);
  expect(response.status, response.body).toBe(201);
  return instanceId;
}

export async function publishSurvey(server: TestServer, projectId: number, owner: TestUser, formId = 'survey'): Promise<void> {
  const response = await fetch(`${server.url}/api/v1/projects/${projectId}/forms?publish=true`, { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: surveyForm(formId) });
  expect(response.status, await response.text()).toBe(201);
}

export async function addMemberTo(server: TestServer, projectId: number, owner: TestUser, username: string, role: string, rowFilter?: unknown): Promise<void> {
  const added = await call(`${server.url}/api/v1/projects/${projectId}/members`, 'POST', owner.headers, { username, role, ...(rowFilter ? { rowFilter } : {}) });
  expect(added.status, JSON.stringify(added.body)).toBe(201);
}
