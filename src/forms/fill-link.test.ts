/**
 * Where a form is filled in a browser: `fieldkeep form link` prints the address for members, or
 * creates a public link (optionally single-use) and prints its address, and the API gives the same
 * addresses (a form's fillUrl, a new public link's fillUrl). The browser side is in
 * test/browser/web-forms.test.ts.
 */
import { beforeAll, expect, it } from 'vitest';
import { collectGet, collectXmlBody, parseCollectFormList } from '../../test/support/collect.js';
import { describeEachDatabase } from '../../test/support/databases.js';
import { runFieldkeep } from '../../test/support/fieldkeep-cli.js';
import { call } from '../../test/support/http.js';
import { useTestServer } from '../../test/support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../../test/support/test-users.js';

const PUBLIC_URL = 'https://fieldkeep.test';
/** Each command starts a Node process from the sources (several seconds on a busy machine). */
const COMMANDS = { timeout: 120_000 };

const xform = (formId: string) => `<?xml version="1.0"?>
<h:html xmlns="http://www.w3.org/2002/xforms" xmlns:h="http://www.w3.org/1999/xhtml" xmlns:jr="http://openrosa.org/javarosa">
 <h:head><h:title>${formId}</h:title><model>
  <instance><data id="${formId}" version="1"><rain/><meta><instanceID/></meta></data></instance>
  <bind nodeset="/data/rain" type="decimal"/>
  <bind nodeset="/data/meta/instanceID" type="string" readonly="true()" jr:preload="uid"/>
 </model></h:head>
 <h:body><input ref="/data/rain"><label>Rain (mm)</label></input></h:body>
</h:html>`;

describeEachDatabase('fill addresses from the command line and the API', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_PUBLIC_URL: PUBLIC_URL });
  let owner: TestUser;
  let project: number;
  const api = (p: string) => `${env().url}/api/v1${p}`;
  const cli = (args: string[]) => runFieldkeep(['form', 'link', '--project', String(project), ...args], { ...env().storage.env, FIELDKEEP_PUBLIC_URL: PUBLIC_URL });
  const links = async () => (await call(api(`/projects/${project}/forms/rain/public-links`), 'GET', owner.headers)).body as Array<{ label: string; once: boolean; state: string }>;

  beforeAll(async () => {
    owner = await createTestUser(env(), 'fl_owner');
    project = (await call(api('/projects'), 'POST', owner.headers, { name: 'Rainfall' })).body.id;
    for (const [formId, publish] of [['rain', true], ['draft_only', false]] as const) {
      const created = await fetch(api(`/projects/${project}/forms${publish ? '?publish=true' : ''}`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/xml' }, body: xform(formId) });
      expect(created.status).toBe(201);
    }
  });

  it("prints the members' address, the one the API gives as the form's fillUrl", COMMANDS, async () => {
    const printed = await cli(['--form', 'rain']);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout).toBe(`${PUBLIC_URL}/fill/${project}/rain\n`);
    expect((await call(api(`/projects/${project}/forms/rain`), 'GET', owner.headers)).body.fillUrl).toBe(printed.stdout.trim());
  });

  it('creates a public link (single-use with --single) and prints its address, the token in the fragment', COMMANDS, async () => {
    const single = await cli(['--form', 'rain', '--public', '--single', '--label', 'Market poster']);
    expect(single.code, single.stderr).toBe(0);
    const match = new RegExp(`^${PUBLIC_URL}/fill/${project}/rain#key=(fk_pub_[A-Za-z0-9]{43})\\n$`).exec(single.stdout);
    expect(match, single.stdout).not.toBeNull();
    expect(await links()).toEqual([expect.objectContaining({ label: 'Market poster', once: true, state: 'active' })]);
    // The token is a working public link: through it Collect (and the fill page) see the one form.
    const list = parseCollectFormList(collectXmlBody(await collectGet(`${env().url}/key/${match![1]}/projects/${project}/formList`)));
    expect(list.map((f) => f.formID)).toEqual(['rain']);

    const reusable = await cli(['--form', 'rain', '--public', '--expires-days', '30']);
    expect(reusable.code, reusable.stderr).toBe(0);
    expect((await links())[1]).toMatchObject({ label: 'Command line', once: false, state: 'active' });
    const audit = await env().server.database.db.selectFrom('audit_log').select(['actor_label']).where('action', '=', 'public_link.create').execute();
    expect(audit.map((entry) => entry.actor_label)).toEqual(['command line', 'command line']);

    const viaApi = await call(api(`/projects/${project}/forms/rain/public-links`), 'POST', owner.headers, { label: 'From the API' });
    expect(viaApi.body.fillUrl).toBe(`${PUBLIC_URL}/fill/${project}/rain#key=${viaApi.body.token}`);
  });

  it('says what is wrong: an unknown or unpublished form, an unknown project, --single without --public', COMMANDS, async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--form', 'nope'], /no form "nope"/],
      [['--form', 'draft_only'], /no published version yet: publish it first/],
      [['--form', 'rain', '--single'], /add --public/],
    ];
    for (const [args, message] of cases) {
      const run = await cli(args);
      expect(run.code, args.join(' ')).toBe(1);
      expect(run.stderr, args.join(' ')).toMatch(message);
      expect(run.stdout).toBe('');
    }
    const elsewhere = await runFieldkeep(['form', 'link', '--project', '999999', '--form', 'rain'], { ...env().storage.env, FIELDKEEP_PUBLIC_URL: PUBLIC_URL });
    expect(elsewhere.code).toBe(1);
    expect(elsewhere.stderr).toMatch(/no project 999999/);
    expect(await links()).toHaveLength(3);
  });
});
