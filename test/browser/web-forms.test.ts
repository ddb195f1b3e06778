/**
 * Filling forms in the browser with ODK Web Forms (docs/web-forms.md), in Chromium, on both
 * databases: a collector fills a form from the XLSForm corpus (a constraint error first, answers
 * that switch questions on and off, a geopoint from a faked position, a photo) and the server
 * holds exactly the expected instance XML and photo, sent through the OpenRosa submission
 * endpoint; anyone holding a single-use public link fills a form with a repeat, once; without a
 * connection two submissions wait in the outbox and arrive once each when it returns, and a
 * retry after a lost answer adds nothing; a draft is saved, resumed and sent; a submission is
 * edited in the engine (deprecatedID); an encrypted project's submission leaves the browser as an
 * ODK envelope that the crypto module decrypts to the answers; and the refusals (closed form,
 * expired link, a viewer, an oversize photo, no session) say what is wrong. The form page is
 * photographed at phone width.
 */
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import type { Page, Request } from 'playwright-core';
import { describeEachDatabase } from '../support/databases.js';
import { call } from '../support/http.js';
import { useTestServer } from '../support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../support/test-users.js';
import { corpusDir } from '../support/xlsform-corpus.js';
import { decryptSubmission, loadPrivateKey, parseEncryptedManifest } from '../../src/crypto/index.js';
import { KAT_PUBLIC_KEY, readVector } from '../../src/project-keys/encrypted-fixtures.test-support.js';
import { FILL_CONTENT_SECURITY_POLICY, SPA_CONTENT_SECURITY_POLICY } from '../../src/web/routes.js';
import { ensureWebBuilt, openBrowser, screenshot, solidPng, type WebBrowser } from './web-app.support.js';

const PUBLIC_URL = 'https://fieldkeep.test';
/** The smallest limit the server allows, so the oversize photo is small to make. */
const MAX_SUBMISSION_BYTES = 1024 * 1024;
const PASSWORD = 'quiet lantern orbit 7 meadow';
const PHOTO = solidPng(160, 120, [70, 130, 110]);
const POSITION = { latitude: -1.2921, longitude: 36.8219, accuracy: 3 };

vi.setConfig({ testTimeout: 120_000 });
beforeAll(ensureWebBuilt, 300_000);

const corpusWorkbook = (name: string) => readFileSync(path.join(corpusDir, 'forms', name));

describeEachDatabase('filling forms in the browser with ODK Web Forms', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_PUBLIC_URL: PUBLIC_URL, FIELDKEEP_SUBMISSION_MAX_BYTES: String(MAX_SUBMISSION_BYTES) });
  let owner: TestUser;
  let browser: WebBrowser;
  let projectId: number;
  let encryptedProjectId: number;
  /** The instanceID of the reference form's submission, edited later. */
  let referenceInstanceId: string;
  const overflowing: string[] = [];

  const url = (p: string) => `${env().url}${p}`;
  const api = (p: string) => url(`/api/v1${p}`);
  /** A link the server handed out, pointed at the test server instead of the public name. */
  const local = (link: string) => {
    expect(link.startsWith(`${PUBLIC_URL}/`), link).toBe(true);
    return env().url + link.slice(PUBLIC_URL.length);
  };
  const page = (): Page => browser.page;
  const shoot = async (name: string) => {
    if (kind === 'sqlite') overflowing.push(...(await screenshot(page(), name)));
  };

  async function upload(project: number, workbook: string) {
    const uploaded = await fetch(api(`/projects/${project}/forms?publish=true&fileName=${workbook}`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/vnd.ms-excel' }, body: corpusWorkbook(workbook) });
    expect(uploaded.status, await uploaded.clone().text()).toBe(201);
  }

  async function submissions(project: number, formId: string): Promise<Array<Record<string, unknown>>> {
    return (await call(api(`/projects/${project}/forms/${formId}/submissions`), 'GET', owner.headers)).body.results;
  }

  async function storedXml(project: number, formId: string, instanceId: string): Promise<string> {
    return (await fetch(api(`/projects/${project}/forms/${formId}/submissions/${encodeURIComponent(instanceId)}.xml`), { headers: owner.headers })).text();
  }

  async function storedFile(project: number, formId: string, instanceId: string, name: string): Promise<Buffer> {
    const answer = await fetch(api(`/projects/${project}/forms/${formId}/submissions/${encodeURIComponent(instanceId)}/attachments/${encodeURIComponent(name)}`), { headers: owner.headers });
    expect(answer.status).toBe(200);
    return Buffer.from(await answer.arrayBuffer());
  }

  async function newLink(formId: string, body: Record<string, unknown> = {}) {
    const created = await call(api(`/projects/${projectId}/forms/${formId}/public-links`), 'POST', owner.headers, { label: 'Poster', ...body });
    expect(created.status).toBe(201);
    return created.body as { token: string; fillUrl: string; link: { id: number } };
  }

  async function signIn(username: string) {
    await page().context().clearCookies();
    await page().goto(url('/sign-in'));
    await page().getByLabel('Username or email').fill(username);
    await page().getByLabel('Password').fill(PASSWORD);
    await page().getByRole('button', { name: 'Sign in' }).click();
    await page().getByRole('heading', { name: 'Projects' }).waitFor();
  }

  /** One question of the form, found by its label. */
  const question = (label: string) => page().locator('.question-container', { hasText: label });
  /** Numbers are typed key by key: the engine's number fields read keystrokes, not a pasted value. */
  async function typeNumber(label: string, digits: string) {
    const input = question(label).locator('input');
    await input.fill('');
    await input.pressSequentially(digits);
    await input.blur();
  }
  async function locate(label: string) {
    await question(label).getByRole('button', { name: 'Get location' }).click();
    await page().getByRole('button', { name: 'Save location' }).click();
    await question(label).getByText(`Latitude: ${POSITION.latitude}`).waitFor();
  }
  async function choosePhoto(label: string, buffer: Buffer, name = 'house.png') {
    await question(label).locator('input[type=file]').setInputFiles({ name, mimeType: 'image/png', buffer });
  }
  async function send() {
    await page().getByRole('button', { name: 'Send', exact: true }).click();
  }
  async function formReady() {
    await page().locator('.form-initialization-status.ready').waitFor({ state: 'attached' });
  }
  /** The outbox line in the page's header. */
  const outboxStatus = () => page().getByTestId('outbox-status');

  /** The reference form, kpi__tutorial from the corpus: every answer the expected XML below names. */
  async function fillReference(name: string) {
    await question("What's your name?").locator('input').fill(name);
    await typeNumber('How old are you?', '34');
    await page().getByLabel('Female').check();
    await choosePhoto('Take a picture', PHOTO);
    await locate('Where are you?');
    await page().getByLabel('Yes', { exact: true }).check();
    await page().getByLabel('Chicago deep dish!').check();
    await page().getByLabel('Cheese').check();
    await page().getByLabel('Mushrooms').check();
    await typeNumber('What is your net worth?', '1000.5');
    await question('A text').locator('input').fill('hello');
  }

  /** kpi__tutorial_w_repeats: a photo, two children in the repeat, a position, two browsers. */
  async function fillRepeats(name: string, children: Array<[string, string]>) {
    await question('1. What is your name?').locator('input').fill(name);
    await typeNumber('2. How old are you?', '41');
    await choosePhoto('3. May I take your picture?', PHOTO);
    await page().getByLabel('yes', { exact: true }).check();
    for (const [index, [child, age]] of children.entries()) {
      if (index > 0) await page().getByRole('button', { name: /^Add/ }).click();
      await question('5.1 Childs name?').nth(index).locator('input').fill(child);
      const ageInput = question('5.2 Childs age?').nth(index).locator('input');
      await ageInput.pressSequentially(age);
      await ageInput.blur();
    }
    await locate('5. Record your GPS coordinates.');
    await page().getByLabel('Mozilla Firefox').check();
    await page().getByLabel('Safari').check();
  }

  beforeAll(async () => {
    owner = await createTestUser(env(), 'wf_owner', { password: PASSWORD });
    await createTestUser(env(), 'wf_collector', { password: PASSWORD });
    await createTestUser(env(), 'wf_viewer', { password: PASSWORD });
    projectId = (await call(api('/projects'), 'POST', owner.headers, { name: 'Household visits' })).body.id;
    await call(api(`/projects/${projectId}/members`), 'POST', owner.headers, { username: 'wf_collector', role: 'collector' });
    await call(api(`/projects/${projectId}/members`), 'POST', owner.headers, { username: 'wf_viewer', role: 'viewer' });
    await upload(projectId, 'kpi__tutorial.xls');
    await upload(projectId, 'kpi__tutorial_w_repeats.xls');
    await upload(projectId, 'kpi__tutorial_2.xls');
    expect((await call(api(`/projects/${projectId}/forms/kpi__tutorial_2`), 'PATCH', owner.headers, { state: 'closed' })).status).toBe(200);

    encryptedProjectId = (await call(api('/projects'), 'POST', owner.headers, { name: 'Sealed visits' })).body.id;
    const enabled = await call(api(`/projects/${encryptedProjectId}/encryption`), 'POST', owner.headers, { publicKey: KAT_PUBLIC_KEY, allowServerDecryption: false });
    expect(enabled.status, JSON.stringify(enabled.body)).toBe(201);
    await upload(encryptedProjectId, 'kpi__tutorial.xls');

    browser = await openBrowser();
    await browser.context.grantPermissions(['geolocation'], { origin: env().url });
    await browser.context.setGeolocation(POSITION);
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('serves the fill page with its own policy, service worker and manifest; the application keeps its strict policy', async () => {
    const fill = await fetch(url(`/fill/${projectId}/kpi__tutorial`));
    expect(fill.status).toBe(200);
    expect(fill.headers.get('content-security-policy')).toBe(FILL_CONTENT_SECURITY_POLICY);
    expect(FILL_CONTENT_SECURITY_POLICY).toContain("script-src 'self' 'wasm-unsafe-eval'");
    expect(FILL_CONTENT_SECURITY_POLICY).not.toContain("'unsafe-eval'");
    expect(fill.headers.get('cache-control')).toBe('no-cache');
    expect(await fill.text()).toContain('<link rel="manifest" href="/fill/manifest.webmanifest">');
    for (const address of ['/', `/p/${projectId}/f/kpi__tutorial`]) {
      const policy = (await fetch(url(address))).headers.get('content-security-policy');
      expect(policy, address).toBe(SPA_CONTENT_SECURITY_POLICY);
      expect(policy, address).not.toContain('unsafe');
    }
    const worker = await fetch(url('/fill/sw.js'));
    expect(worker.headers.get('content-type')).toMatch(/^text\/javascript/);
    expect(worker.headers.get('cache-control')).toBe('no-cache');
    // The build writes the list into the worker as the text of a JSON array.
    const precached = JSON.parse(JSON.parse(/JSON\.parse\(("(?:[^"\\]|\\.)*")\)/.exec(await worker.text())![1]!) as string) as string[];
    expect(precached).toEqual(expect.arrayContaining(['/fill/', '/fill/manifest.webmanifest']));
    // The engine's chunk is in the list, whatever its size (no size limit leaves it out).
    const sizes = await Promise.all(precached.filter((p) => p.startsWith('/assets/')).map(async (p) => (await (await fetch(url(p))).arrayBuffer()).byteLength));
    expect(Math.max(...sizes)).toBeGreaterThan(1_000_000);
    const manifest = await fetch(url('/fill/manifest.webmanifest'));
    expect(manifest.headers.get('content-type')).toMatch(/^application\/manifest\+json/);
    expect(await manifest.json()).toMatchObject({ scope: '/fill/', start_url: '/fill/', display: 'standalone' });
    // The API gives each form's fill address; a public link's carries its token in the fragment.
    expect((await call(api(`/projects/${projectId}/forms/kpi__tutorial`), 'GET', owner.headers)).body.fillUrl).toBe(`${PUBLIC_URL}/fill/${projectId}/kpi__tutorial`);
    const link = await newLink('kpi__tutorial');
    expect(link.fillUrl).toBe(`${PUBLIC_URL}/fill/${projectId}/kpi__tutorial#key=${link.token}`);
    await call(api(`/projects/${projectId}/forms/kpi__tutorial/public-links/${link.link.id}`), 'DELETE', owner.headers);
  });

  it('a collector fills the reference form from the corpus; the server holds exactly the expected XML and photo', async () => {
    await signIn('wf_collector');
    // From the form's screen in the application, whose "Fill in the form" loads the fill page.
    await page().goto(url(`/p/${projectId}/f/kpi__tutorial`));
    await page().getByRole('link', { name: 'Fill in the form' }).click();
    await page().waitForURL(`**/fill/${projectId}/kpi__tutorial`);
    await formReady();
    await shoot('fill-form');

    await question("What's your name?").locator('input').fill('Amina');
    await typeNumber('How old are you?', '150');
    await send();
    await question('How old are you?').getByText("That's not a valid age!").waitFor();
    expect(await submissions(projectId, 'kpi__tutorial')).toEqual([]);
    await shoot('fill-constraint-error');

    // Relevance: "No" shows the note for pizza haters; "Yes" hides it and shows the pizza questions.
    await page().getByLabel('No', { exact: true }).check();
    await page().getByText("That's weird!").waitFor();
    expect(await page().getByText('Best pie?').count()).toBe(0);
    await fillReference('Amina');
    await page().getByText('Best pie?').waitFor();
    expect(await page().getByText("That's weird!").count()).toBe(0);
    await send();
    await page().getByText('Sent. Thank you!').waitFor();
    // A new, blank instance is ready for the next respondent.
    await expect.poll(() => question("What's your name?").locator('input').inputValue()).toBe('');
    await expect.poll(() => outboxStatus().textContent()).toContain('Nothing waiting to be sent');

    const [row] = await submissions(projectId, 'kpi__tutorial');
    expect(row).toMatchObject({ _submitted_by: 'wf_collector', name: 'Amina', age: 34 });
    referenceInstanceId = row!['meta/instanceID'] as string;
    const xml = await storedXml(projectId, 'kpi__tutorial', referenceInstanceId);
    const value = (element: string, pattern: RegExp) => {
      const found = new RegExp(`<${element}>([^<]*)</${element}>`).exec(xml)?.[1] ?? '';
      expect(found, element).toMatch(pattern);
      return found;
    };
    const photo = value('photo', /^\d+\.png$/);
    // Web Forms writes milliseconds without trailing zeros (…:49.98+00:00, or no fraction at all
    // on a whole second): still a valid xsd:dateTime, kept as sent.
    const dateTime = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d{1,3})?[+-]\d\d:\d\d$/;
    const start = value('start_time', dateTime);
    const end = value('end_time', dateTime);
    const today = value('today', /^\d{4}-\d\d-\d\d$/);
    const deviceId = value('imei', /^getodk\.org:webforms:[0-9a-f-]{36}$/);
    expect(referenceInstanceId).toMatch(/^uuid:[0-9a-f-]{36}$/);
    // pizza_hater is not relevant once pizza_fan is "yes", so the engine leaves it out.
    expect(xml).toBe(
      '<data id="kpi__tutorial"><name>Amina</name><age>34</age><gender>female</gender>' +
        `<photo>${photo}</photo><date/><location>-1.2921 36.8219 0.0 3.0</location>` +
        '<pizza_fan>yes</pizza_fan><pizza_type>chitown</pizza_type><favorite_toppings>cheese mushrooms</favorite_toppings>' +
        '<thanks/><net_worth>1000.5</net_worth><a_group><a_text>hello</a_text></a_group>' +
        `<start_time>${start}</start_time><end_time>${end}</end_time><today>${today}</today><imei>${deviceId}</imei><phonenumber/>` +
        `<meta><instanceID>${referenceInstanceId}</instanceID></meta></data>`,
    );
    expect((await storedFile(projectId, 'kpi__tutorial', referenceInstanceId, photo)).equals(PHOTO)).toBe(true);
    // Through the one OpenRosa submission path: recorded as the member's submission over OpenRosa.
    const line = env().logs.find((entry) => entry.route === '/projects/:projectId/submission' && entry.status === 201);
    expect(line).toBeDefined();
  });

  it('anyone holding a single-use public link fills a form with a repeat once, with no account', async () => {
    await page().context().clearCookies();
    const link = await newLink('kpi__tutorial_w_repeats', { once: true });
    await page().goto(local(link.fillUrl));
    await formReady();
    const sent: Request[] = [];
    const onRequest = (request: Request) => {
      if (request.method() === 'POST') sent.push(request);
    };
    page().on('request', onRequest);
    await fillRepeats('Baraka', [['Ali', '5'], ['Zara', '3']]);
    await shoot('fill-repeat');
    await send();
    await page().getByText('Sent. Thank you!').waitFor();
    // The link is spent: the page says so instead of offering another blank form.
    await page().getByText('This single-use link has already been used').waitFor();
    page().off('request', onRequest);
    await shoot('fill-link-used');
    // The token travels only in the OpenRosa path, never in a query or a page address.
    expect(sent.map((r) => new URL(r.url()).pathname)).toEqual([`/key/${link.token}/projects/${projectId}/submission`]);

    const [row] = await submissions(projectId, 'kpi__tutorial_w_repeats');
    const instanceId = row!['meta/instanceID'] as string;
    const xml = await storedXml(projectId, 'kpi__tutorial_w_repeats', instanceId);
    const photo = /<picture>(\d+\.png)<\/picture>/.exec(xml)![1]!;
    expect(xml).toBe(
      '<data id="kpi__tutorial_w_repeats"><name>Baraka</name><age>41</age>' +
        `<picture>${photo}</picture><has_children>1</has_children>` +
        '<children><childs_name>Ali</childs_name><childs_age>5</childs_age></children>' +
        '<children><childs_name>Zara</childs_name><childs_age>3</childs_age></children>' +
        '<gps>-1.2921 36.8219 0.0 3.0</gps><web_browsers>firefox safari</web_browsers>' +
        `<meta><instanceID>${instanceId}</instanceID></meta></data>`,
    );
    expect((await storedFile(projectId, 'kpi__tutorial_w_repeats', instanceId, photo)).equals(PHOTO)).toBe(true);
    const audit = await env().server.database.db.selectFrom('audit_log').select(['actor_kind']).where('action', '=', 'submission.create').orderBy('id', 'desc').executeTakeFirstOrThrow();
    expect(audit.actor_kind).toBe('public_link');
    expect(env().rawLogs.join('\n')).not.toContain(link.token.slice(7));
  });

  it('without a connection two submissions wait in the outbox, then arrive once each; a retry after a lost answer adds nothing', async () => {
    const link = await newLink('kpi__tutorial_w_repeats');
    const before = (await submissions(projectId, 'kpi__tutorial_w_repeats')).length;
    await page().goto(local(link.fillUrl));
    await formReady();
    // The service worker has stored the page and the engine; the page has stored the form.
    await page().getByText('Works offline on this device.').waitFor();
    await expect.poll(() => page().evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);

    await browser.context.setOffline(true);
    await page().reload();
    await formReady();
    for (const [index, name] of ['Offline one', 'Offline two'].entries()) {
      await fillRepeats(name, [[`Child ${index}`, '7']]);
      await send();
      await page().getByText('Saved on this device. It will be sent when the connection returns.').waitFor();
      await expect.poll(() => outboxStatus().textContent()).toContain(`${index + 1} submission(s) waiting to be sent`);
    }
    await shoot('fill-offline-outbox');
    expect((await submissions(projectId, 'kpi__tutorial_w_repeats')).length).toBe(before);

    await browser.context.setOffline(false);
    await expect.poll(() => outboxStatus().textContent(), { timeout: 20_000 }).toContain('Nothing waiting to be sent');
    const arrived = await submissions(projectId, 'kpi__tutorial_w_repeats');
    expect(arrived.length).toBe(before + 2);
    expect(arrived.map((r) => r.name)).toEqual(expect.arrayContaining(['Offline one', 'Offline two']));

    // The server stores a submission but its answer is lost: the outbox keeps it and sends it
    // again, and the server recognises the instanceID (202) instead of storing it twice.
    let lost = 0;
    let cut: Promise<void> | undefined;
    await page().route('**/submission', async (route) => {
      if (route.request().method() !== 'POST' || lost > 0) return route.continue();
      lost += 1;
      cut = route.fetch().then(() => route.abort('connectionreset'));
      // The test awaits the cut itself, so a failure shows there, not as an unhandled rejection.
      await cut.catch(() => {});
    });
    await fillRepeats('Answer lost', [['Child', '2']]);
    await send();
    await expect.poll(() => lost).toBe(1);
    await cut;
    await expect.poll(() => outboxStatus().textContent()).toContain('1 submission(s) waiting to be sent');
    await expect.poll(async () => (await submissions(projectId, 'kpi__tutorial_w_repeats')).length).toBe(before + 3);
    await page().unroute('**/submission');
    await page().evaluate(() => window.dispatchEvent(new Event('online')));
    await expect.poll(() => outboxStatus().textContent(), { timeout: 20_000 }).toContain('Nothing waiting to be sent');
    const after = await submissions(projectId, 'kpi__tutorial_w_repeats');
    expect(after.length).toBe(before + 3);
    expect(after.filter((r) => r.name === 'Answer lost')).toHaveLength(1);
  });

  it('saves a draft, resumes it after a reload and sends it as a new submission', async () => {
    await signIn('wf_collector');
    await page().goto(url(`/fill/${projectId}/kpi__tutorial`));
    await formReady();
    await question("What's your name?").locator('input').fill('Half done');
    await choosePhoto('Take a picture', PHOTO);
    await page().getByRole('button', { name: 'Save as draft' }).click();
    // Saved, or the reason it could not be.
    const saved = page().locator('.notice').filter({ hasText: /draft/i });
    await saved.waitFor();
    expect(await saved.textContent()).toBe('Draft saved on this device.');
    await page().reload();
    await formReady();
    await page().getByRole('link', { name: 'Resume' }).click();
    await formReady();
    await expect.poll(() => question("What's your name?").locator('input').inputValue()).toBe('Half done');
    await question('Take a picture').locator('img').waitFor();
    await typeNumber('How old are you?', '52');
    await send();
    await page().getByText('Sent. Thank you!').waitFor();
    expect(await page().getByRole('link', { name: 'Resume' }).count()).toBe(0);
    const row = (await submissions(projectId, 'kpi__tutorial')).find((r) => r.name === 'Half done')!;
    const xml = await storedXml(projectId, 'kpi__tutorial', row['meta/instanceID'] as string);
    expect(xml).not.toContain('deprecatedID');
    const photo = /<photo>([^<]+)<\/photo>/.exec(xml)![1]!;
    expect((await storedFile(projectId, 'kpi__tutorial', row['meta/instanceID'] as string, photo)).equals(PHOTO)).toBe(true);
  });

  it('edits a submission from the data view: the engine reopens it and the edit is posted with deprecatedID', async () => {
    await signIn('wf_owner');
    await page().goto(url(`/p/${projectId}/f/kpi__tutorial/s/${encodeURIComponent(referenceInstanceId)}`));
    await page().getByRole('link', { name: 'Edit in the form' }).click();
    await formReady();
    await expect.poll(() => question("What's your name?").locator('input').inputValue()).toBe('Amina');
    await question("What's your name?").locator('input').fill('Amina Yusuf');
    await send();
    await page().getByText('The edit was sent.').waitFor();
    const versions = (await call(api(`/projects/${projectId}/forms/kpi__tutorial/submissions/${encodeURIComponent(referenceInstanceId)}/versions`), 'GET', owner.headers)).body as Array<Record<string, unknown>>;
    expect(versions).toHaveLength(2);
    const current = (await submissions(projectId, 'kpi__tutorial')).find((r) => r['meta/rootUuid'] === referenceInstanceId)!;
    expect(current).toMatchObject({ name: 'Amina Yusuf', age: 34, 'meta/deprecatedID': referenceInstanceId });
    // The data API names a submission by its first instanceID and answers with its current version.
    const xml = await storedXml(projectId, 'kpi__tutorial', referenceInstanceId);
    expect(xml).toContain(`<instanceID>${current['meta/instanceID'] as string}</instanceID><deprecatedID>${referenceInstanceId}</deprecatedID>`);
    expect(xml).toContain('<name>Amina Yusuf</name>');
  });

  it("sends an encrypted project's submission as an ODK envelope that decrypts to the answers", async () => {
    await signIn('wf_owner');
    const bodies: Buffer[] = [];
    const onRequest = (request: Request) => {
      if (request.method() === 'POST' && request.url().endsWith('/submission')) bodies.push(request.postDataBuffer() ?? Buffer.alloc(0));
    };
    page().on('request', onRequest);
    await page().goto(url(`/fill/${encryptedProjectId}/kpi__tutorial`));
    await formReady();
    await page().getByText('Encrypted: your answers are encrypted on this device').waitFor();
    expect(await page().getByRole('button', { name: 'Save as draft' }).count()).toBe(0);
    await fillReference('Sealed Person');
    await send();
    await page().getByText('Sent. Thank you!').waitFor();
    page().off('request', onRequest);
    expect(bodies).toHaveLength(1);
    expect(bodies[0]!.includes('Sealed Person')).toBe(false);

    const [row] = await submissions(encryptedProjectId, 'kpi__tutorial');
    expect(row!._encrypted).toBe(true);
    const instanceId = row!['meta/rootUuid'] as string;
    const manifestXml = Buffer.from(await storedXml(encryptedProjectId, 'kpi__tutorial', instanceId));
    const manifest = parseEncryptedManifest(manifestXml);
    const files = new Map<string, Uint8Array>();
    for (const name of [...manifest.mediaFiles, manifest.encryptedXmlFile]) files.set(name, await storedFile(encryptedProjectId, 'kpi__tutorial', instanceId, name));
    const plain = await decryptSubmission(manifest, await loadPrivateKey(readVector('priv.pem').toString('utf8')), files);
    expect(plain.signature).toBe('valid');
    const xml = Buffer.from(plain.submissionXml).toString('utf8');
    expect(xml).toContain('<name>Sealed Person</name><age>34</age><gender>female</gender>');
    expect(xml).toContain(`<instanceID>${instanceId}</instanceID>`);
    expect(plain.media).toHaveLength(1);
    expect(Buffer.from(plain.media[0]!.data).equals(PHOTO)).toBe(true);
  });

  it('says clearly why a form cannot be filled or a submission cannot be sent', async () => {
    const blocked = async (address: string, text: string | RegExp) => {
      await page().goto(address);
      await page().getByRole('alert').filter({ hasText: text }).waitFor();
    };
    await page().context().clearCookies();
    await blocked(url(`/fill/${projectId}/kpi__tutorial`), 'Sign in to fill in this form.');
    expect(await page().getByRole('link', { name: 'Sign in' }).getAttribute('href')).toBe(`/sign-in?next=${encodeURIComponent(`/fill/${projectId}/kpi__tutorial`)}`);
    await shoot('fill-sign-in');

    const expired = await newLink('kpi__tutorial', { expiresInDays: 1 });
    await env().server.database.db.updateTable('public_links').set({ expires_at: new Date(Date.now() - 1000).toISOString() }).where('id', '=', expired.link.id).execute();
    await blocked(local(expired.fillUrl), 'This link no longer works: This public link has expired');
    await shoot('fill-link-expired');

    await signIn('wf_viewer');
    await blocked(url(`/fill/${projectId}/kpi__tutorial`), 'Your role in this project does not allow sending submissions.');

    await signIn('wf_collector');
    await blocked(url(`/fill/${projectId}/kpi__tutorial_2`), 'This form is not accepting submissions (it is closed).');
    await blocked(url(`/fill/${projectId}/no_such_form`), 'There is no such form, or it has not been published.');

    await page().goto(url(`/fill/${projectId}/kpi__tutorial`));
    await formReady();
    const before = (await submissions(projectId, 'kpi__tutorial')).length;
    await fillReference('Too big');
    await choosePhoto('Take a picture', Buffer.alloc(MAX_SUBMISSION_BYTES + 200_000, 7), 'huge.png');
    await send();
    await page().getByRole('alert').filter({ hasText: /This submission is 1\.2 MB; the server accepts at most 1 MB/ }).waitFor();
    await shoot('fill-too-large');
    expect(await outboxStatus().textContent()).toContain('Nothing waiting to be sent');
    expect((await submissions(projectId, 'kpi__tutorial')).length).toBe(before);
    // The answers stay for another try with a smaller photo.
    expect(await question("What's your name?").locator('input').inputValue()).toBe('Too big');
  });

  it('lists this device’s forms and is installable; no script errors, policy violations, or anything wider than a phone', async () => {
    await page().goto(url('/fill/'));
    await page().getByRole('heading', { name: 'Forms on this device' }).waitFor();
    await page().getByRole('link', { name: 'kpi__tutorial_w_repeats' }).first().waitFor();
    await shoot('fill-home');
    const session = await page().context().newCDPSession(page());
    const { installabilityErrors } = (await session.send('Page.getInstallabilityErrors')) as { installabilityErrors: Array<{ errorId: string }> };
    expect(installabilityErrors.map((e) => e.errorId)).toEqual([]);
    // A geopoint shown on a map (when a submission or draft is reopened) asks OpenStreetMap for
    // tiles; the page's policy refuses them, so no third party learns where respondents are.
    const tileRefusal = /^Loading the image 'https:\/\/tile\.openstreetmap\.org\/[^']+' violates the following Content Security Policy directive: "img-src 'self' data: blob:"/;
    expect(browser.problems.filter((problem) => !tileRefusal.test(problem))).toEqual([]);
    expect(overflowing).toEqual([]);
  });
});
