import { beforeAll, expect, it } from 'vitest';
import { describeEachDatabase } from '../../test/support/databases.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';

const xform = (version: string, extraQuestion = '') => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>Wells</h:title><model>
  <itext>
   <translation lang="English (en)" default="true()"><text id="/data/site:label"><value>Site</value></text><text id="/data/site/depth:label"><value>Depth (m)</value></text><text id="/data/site/depth:hint"><value>Measured at noon</value></text><text id="/data/kind/dug:label"><value>Dug</value></text></translation>
   <translation lang="Français (fr)"><text id="/data/site:label"><value>Site</value></text><text id="/data/site/depth:label"><value>Profondeur (m)</value></text><text id="/data/site/depth:hint"><value>Mesurée à midi</value></text><text id="/data/kind/dug:label"><value>Creusé</value></text></translation>
  </itext>
  <instance><data id="wells" version="${version}"><site><depth/><where/></site><kind/>${extraQuestion ? '<extra/>' : ''}<visits jr:template=""><day/></visits><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/site/depth" type="decimal" required="true()" constraint=". &gt; 0"/>
  <bind nodeset="/data/site/where" type="geopoint"/>
  <bind nodeset="/data/kind" type="string" relevant="/data/site/depth &gt; 1"/>
  ${extraQuestion ? '<bind nodeset="/data/extra" type="string"/>' : ''}
  <bind nodeset="/data/visits/day" type="date"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body>
  <group ref="/data/site"><label ref="jr:itext('/data/site:label')"/>
   <input ref="/data/site/depth"><label ref="jr:itext('/data/site/depth:label')"/><hint ref="jr:itext('/data/site/depth:hint')"/></input>
   <input ref="/data/site/where"><label>Location</label></input>
  </group>
  <select1 ref="/data/kind"><label>Kind</label><item><label ref="jr:itext('/data/kind/dug:label')"/><value>dug</value></item><item><label>Drilled</label><value>drilled</value></item></select1>
  ${extraQuestion ? `<input ref="/data/extra"><label>${extraQuestion}</label></input>` : ''}
  <group ref="/data/visits"><label>Visits</label><repeat nodeset="/data/visits"><input ref="/data/visits/day"><label>Day</label></input></repeat></group>
 </h:body>
</h:html>`;

describeEachDatabase('form schemas for the preview', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  let owner: TestUser;
  let collector: TestUser;
  let outsider: TestUser;
  let forms: string;

  const upload = (url: string, body: string) => fetch(url, { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body }).then((r) => r.status);

  beforeAll(async () => {
    owner = await createTestUser(env(), 'schema_owner');
    collector = await createTestUser(env(), 'schema_collector');
    outsider = await createTestUser(env(), 'schema_outsider');
    const project = (await call(`${env().url}/api/v1/projects`, 'POST', owner.headers, { name: 'Wells' })).body.id;
    await call(`${env().url}/api/v1/projects/${project}/members`, 'POST', owner.headers, { username: 'schema_collector', role: 'collector' });
    forms = `${env().url}/api/v1/projects/${project}/forms`;
  });

  it('has no published schema before publishing, but the draft has one', async () => {
    expect(await upload(forms, xform('1'))).toBe(201);
    const published = await call(`${forms}/wells/schema`, 'GET', owner.headers);
    expect([published.status, published.body.code]).toEqual([404, 'form.not_published']);
    const draft = await call(`${forms}/wells/draft/schema`, 'GET', owner.headers);
    expect(draft.status).toBe(200);
    expect(draft.body).toMatchObject({ formId: 'wells', version: '1', title: 'Wells', languages: ['English (en)', 'Français (fr)'], defaultLanguage: 'English (en)', encrypted: false });
  });

  it('lists groups, repeats and questions in form order with labels, hints, choices and binds', async () => {
    expect((await call(`${forms}/wells/draft/publish`, 'POST', owner.headers)).status).toBe(200);
    const { status, body } = await call(`${forms}/wells/schema`, 'GET', collector.headers);
    expect(status).toBe(200);
    const byPath = new Map<string, any>(body.fields.map((f: { path: string }) => [f.path, f]));
    expect(body.fields.map((f: { path: string }) => f.path)).toEqual(['/data/site', '/data/site/depth', '/data/site/where', '/data/kind', '/data/visits', '/data/visits/day', '/data/meta', '/data/meta/instanceID']);
    expect(byPath.get('/data/site')).toMatchObject({ kind: 'group', labels: { 'English (en)': 'Site' } });
    expect(byPath.get('/data/site/depth')).toMatchObject({
      kind: 'question',
      type: 'decimal',
      parent: '/data/site',
      labels: { 'English (en)': 'Depth (m)', 'Français (fr)': 'Profondeur (m)' },
      hints: { 'Français (fr)': 'Mesurée à midi' },
      bind: { required: 'true()', constraint: '. > 0', relevant: null },
    });
    expect(byPath.get('/data/kind')).toMatchObject({ type: 'select1', bind: { relevant: '/data/site/depth > 1' } });
    expect(byPath.get('/data/kind').choices).toEqual([
      { value: 'dug', labels: { 'English (en)': 'Dug', 'Français (fr)': 'Creusé' } },
      { value: 'drilled', labels: { default: 'Drilled' } },
    ]);
    expect(byPath.get('/data/visits/day')).toMatchObject({ type: 'date', repeat: '/data/visits' });
    // Only what the preview needs crosses the wire: no preload internals, no storage details.
    expect(Object.keys(byPath.get('/data/site/depth').bind).sort()).toEqual(['calculate', 'constraint', 'readonly', 'relevant', 'required']);
  });

  it('serves the draft and the published version apart while a new draft waits', async () => {
    expect(await upload(`${forms}/wells/draft`, xform('2', 'Water colour'))).toBe(201);
    const draft = (await call(`${forms}/wells/draft/schema`, 'GET', owner.headers)).body;
    const published = (await call(`${forms}/wells/schema`, 'GET', owner.headers)).body;
    expect(draft.version).toBe('2');
    expect(draft.fields.some((f: { path: string }) => f.path === '/data/extra')).toBe(true);
    expect(published.version).toBe('1');
    expect(published.fields.some((f: { path: string }) => f.path === '/data/extra')).toBe(false);
  });

  it('answers clearly for a form without a draft, an unknown form, and someone outside the project', async () => {
    expect((await call(`${forms}/wells/draft`, 'DELETE', owner.headers)).status).toBe(204);
    expect((await call(`${forms}/wells/draft/schema`, 'GET', owner.headers)).body.code).toBe('form.no_draft');
    expect((await call(`${forms}/nothing/schema`, 'GET', owner.headers)).body.code).toBe('form.not_found');
    expect((await call(`${forms}/wells/schema`, 'GET', outsider.headers)).body.code).toBe('project.not_found');
  });
});
