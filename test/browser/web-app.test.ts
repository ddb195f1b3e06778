/**
 * The web application in a real browser: served with its strict policy and caching, a person
 * turns on two-factor and signs in with it, creates a project, uploads an XLSForm (an invalid one
 * first: errors by sheet and row), publishes it; a phone submits through OpenRosa; the row shows
 * in the data table with labels, is reviewed, and the project is shared with a viewer who sees
 * the data and cannot change it. Every screen is photographed at desktop and phone widths.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../support/databases.js';
import { call } from '../support/http.js';
import { useTestServer } from '../support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../support/test-users.js';
import { totpCode } from '../../src/accounts/totp.js';
import { collectHeaders, multipartBody, send } from '../../src/openrosa/submission-client.test-support.js';
import { SPA_CONTENT_SECURITY_POLICY } from '../../src/web/routes.js';
import { buildXlsx } from '../../src/xlsform/workbook/fixtures.test-support.js';
import { ensureWebBuilt, openBrowser, screenshot, signInAs, signOutOf, solidPng, type WebBrowser } from './web-app.support.js';

const cellXml = (ref: string, text: string) => `<c r="${ref}" t="inlineStr"><is><t>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</t></is></c>`;
function sheet(rows: string[][]): string {
  const column = (i: number) => String.fromCharCode(65 + i);
  return `<sheetData>${rows.map((cells, r) => `<row r="${r + 1}">${cells.map((text, c) => cellXml(`${column(c)}${r + 1}`, text)).join('')}</row>`).join('')}</sheetData>`;
}

function householdXlsx(surveyRows: string[][]): Buffer {
  return buildXlsx({
    sheets: [
      { name: 'survey', xml: sheet([['type', 'name', 'label::English (en)', 'label::Français (fr)'], ...surveyRows]) },
      { name: 'choices', xml: sheet([['list_name', 'name', 'label::English (en)', 'label::Français (fr)'], ['district', 'north', 'North', 'Nord'], ['district', 'south', 'South', 'Sud'], ['district', 'west', '', '']]) },
      { name: 'settings', xml: sheet([['form_id', 'form_title', 'version'], ['household', 'Household survey', '1']]) },
    ],
  });
}

const goodForm = householdXlsx([
  ['select_one district', 'district', 'District', 'District'],
  ['integer', 'people', 'People in the household', 'Personnes du ménage'],
  ['text', 'remarks', 'Remarks', 'Remarques'],
  ['image', 'photo', 'Photo of the house', 'Photo de la maison'],
]);
const brokenForm = householdXlsx([
  ['select_one district', 'district', 'District', 'District'],
  ['no_such_type', 'people', 'People', 'Personnes'],
]);
const PNG = solidPng(320, 200, [70, 130, 110]);

// A browser on a busy CI machine: each step of the story gets a minute.
vi.setConfig({ testTimeout: 60_000 });
beforeAll(ensureWebBuilt, 120_000);

describeEachDatabase('the web application in Chromium', (kind) => {
  const env = useTestServer(kind, testUserSettings);
  const ownerPassword = `owner ${randomBytes(6).toString('hex')} lantern`;
  const viewerPassword = `viewer ${randomBytes(6).toString('hex')} harbour`;
  let owner: TestUser;
  let viewer: TestUser;
  let browser: WebBrowser;
  let projectId: number;
  let instanceId: string;
  let totpSecret: string;
  const overflowing: string[] = [];
  const shoot = async (name: string) => {
    if (kind === 'sqlite') overflowing.push(...(await screenshot(browser.page, name)));
  };

  beforeAll(async () => {
    owner = await createTestUser(env(), 'amina', { password: ownerPassword, email: 'amina@example.org' });
    viewer = await createTestUser(env(), 'victor', { password: viewerPassword });
    browser = await openBrowser();
  });
  afterAll(async () => {
    await browser?.close();
  });

  const page = () => browser.page;
  const url = (path: string) => `${env().url}${path}`;

  const signIn = (username: string, password: string, code?: () => string) => signInAs(page(), env().url, username, password, code, () => shoot('sign-in-code'));
  const signOut = () => signOutOf(page());

  it('serves the application with a strict policy, revalidated pages and immutable assets', async () => {
    const home = await fetch(url('/'), { headers: { 'accept-encoding': 'gzip' } });
    expect(home.status).toBe(200);
    const policy = home.headers.get('content-security-policy')!;
    expect(policy).toBe(SPA_CONTENT_SECURITY_POLICY);
    expect(policy).not.toContain('unsafe');
    expect(home.headers.get('cache-control')).toBe('no-cache');
    const html = await home.text();
    const script = /src="(\/assets\/[^"]+\.js)"/.exec(html)![1]!;
    const asset = await fetch(url(script), { headers: { 'accept-encoding': 'gzip' } });
    expect(asset.headers.get('cache-control')).toBe('public, max-age=31536000, immutable');
    expect(asset.headers.get('content-type')).toMatch(/^text\/javascript/);
    const etag = home.headers.get('etag')!;
    expect((await fetch(url('/p/1/f/x/data'), { headers: { 'if-none-match': etag } })).status).toBe(304);
    expect((await fetch(url('/assets/missing.js'))).status).toBe(404);
    expect((await call(url('/api/v1/instance/storage'), 'GET', owner.headers)).body.database).toMatch(kind === 'sqlite' ? /^SQLite at / : /^PostgreSQL at /);
  });

  it('signs in, turns on two-factor with the QR code, and signs in again with a code', async () => {
    await page().goto(url('/'));
    await page().getByRole('heading', { name: 'Sign in' }).waitFor();
    await shoot('sign-in');
    await page().getByRole('link', { name: 'Forgot your password?' }).click();
    await page().getByRole('heading', { name: 'Reset your password' }).waitFor();
    await page().getByLabel('Email address').fill('amina@example.org');
    await page().getByRole('button', { name: 'Send the link' }).click();
    await page().getByText('a reset link valid for one hour').waitFor();
    await shoot('reset-password');

    await signIn('amina', ownerPassword);
    await shoot('projects-empty');
    await page().getByRole('link', { name: 'amina' }).click();
    await page().getByLabel('Current password').fill(ownerPassword);
    await page().getByRole('button', { name: 'Turn on two-factor' }).click();
    await page().getByRole('img', { name: 'QR code for your authenticator app' }).waitFor();
    totpSecret = (await page().getByTestId('totp-secret').textContent())!;
    await shoot('account-two-factor');
    await page().getByLabel('Code', { exact: true }).fill(totpCode(totpSecret));
    await page().getByRole('button', { name: 'Turn on', exact: true }).click();
    await expect.poll(() => page().getByTestId('recovery-codes').locator('li').count()).toBe(10);
    await page().getByLabel('Name', { exact: true }).fill('Power BI');
    await page().getByRole('button', { name: 'Create' }).click();
    await page().getByTestId('new-token').waitFor();
    await shoot('account');

    await signOut();
    // The code of the next step: the one used for enrolment cannot be used again.
    await signIn('amina', ownerPassword, () => totpCode(totpSecret, { now: Date.now() + 30_000 }));
  });

  it('creates a project, shows an XLSForm’s errors by sheet and row, uploads a good one with its warnings, and publishes it', async () => {
    await page().getByLabel('Name').fill('Household survey 2026');
    await page().getByRole('button', { name: 'Create' }).click();
    await page().getByRole('heading', { name: 'Household survey 2026' }).waitFor();
    projectId = Number(/\/p\/(\d+)/.exec(page().url())![1]);

    await page().getByLabel('Form file').setInputFiles({ name: 'household.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: brokenForm });
    await page().getByRole('button', { name: 'Upload' }).click();
    const errors = page().getByRole('table', { name: 'Problems found' });
    await errors.waitFor();
    expect(await errors.getByRole('row').nth(1).textContent()).toMatch(/survey\s*3/);
    await shoot('project-upload-errors');

    await page().getByLabel('Form file').setInputFiles({ name: 'household.xlsx', mimeType: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet', buffer: goodForm });
    await page().getByRole('button', { name: 'Upload' }).click();
    await page().getByRole('heading', { name: 'Household survey', exact: true }).waitFor();
    const warnings = page().getByRole('table', { name: 'Warnings' });
    await warnings.waitFor();
    expect(await warnings.textContent()).toContain('choices');
    await shoot('form-draft');
    await page().getByRole('button', { name: 'Publish the draft' }).click();
    await page().getByText('Published. Phones receive').waitFor();
    await shoot('form-published');
  });

  it('shows a submission sent through OpenRosa in the data table, with labels in either language, and reviews it', async () => {
    instanceId = `uuid:${crypto.randomUUID()}`;
    const xml = `<?xml version='1.0' ?><data id="household" version="1" xmlns:orx="http://openrosa.org/xforms"><district>north</district><people>4</people><remarks>Blue door</remarks><photo>house.png</photo><meta><instanceID>${instanceId}</instanceID></meta></data>`;
    const body = multipartBody([
      { name: 'xml_submission_file', filename: 'submission.xml', contentType: 'text/xml', body: xml },
      { name: 'house.png', filename: 'house.png', contentType: 'image/png', body: PNG },
    ]);
    const sent = await send(url(`/projects/${projectId}/submission`), 'POST', collectHeaders({ ...owner.headers, 'content-type': body.contentType }), body.body);
    expect(sent.status, sent.body).toBe(201);

    await page().goto(url(`/p/${projectId}`));
    const formRow = page().getByRole('row', { name: /Household survey/ });
    await expect.poll(() => formRow.getByRole('cell').nth(3).textContent()).toBe('1');
    expect((await formRow.getByRole('cell').nth(1).textContent())!.trim()).toBe('Open');
    await shoot('project-home');

    await formRow.getByRole('link', { name: '1', exact: true }).click();
    const table = page().locator('table.data-table');
    await table.getByRole('cell', { name: 'North' }).waitFor();
    expect(await table.getByRole('columnheader').allTextContents()).toEqual(expect.arrayContaining([expect.stringContaining('People in the household')]));
    await page().getByLabel('Language').selectOption('Français (fr)');
    await table.getByRole('cell', { name: 'Nord' }).waitFor();
    await page().getByLabel('Show', { exact: true }).selectOption('values');
    await table.getByRole('cell', { name: 'north', exact: true }).waitFor();
    await page().getByLabel('Show', { exact: true }).selectOption('labels');
    await page().getByLabel('Language').selectOption('English (en)');
    await page().getByLabel('Filter People in the household').fill('>10');
    await page().getByLabel('Filter People in the household').press('Enter');
    await table.getByText('No submissions match.').waitFor();
    await page().getByLabel('Filter People in the household').fill('');
    await page().getByLabel('Filter People in the household').press('Enter');
    await table.getByRole('cell', { name: 'North' }).waitFor();
    await shoot('data-table');

    await table.getByRole('link', { name: /Open/ }).first().click();
    await page().getByRole('heading', { name: 'Answers' }).waitFor();
    const photo = page().getByRole('img', { name: 'house.png' });
    await expect.poll(() => photo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(320);
    await page().getByLabel('Review', { exact: true }).selectOption('approved');
    await page().getByRole('button', { name: 'Save' }).click();
    await page().getByText('Review status saved.').waitFor();
    await page().getByLabel('Add a comment').fill('Checked with the team lead.');
    await page().getByRole('button', { name: 'Post comment' }).click();
    await page().getByText('Checked with the team lead.').waitFor();
    await shoot('submission');
    const review = await call(url(`/api/v1/projects/${projectId}/forms/household/submissions/${instanceId}/review`), 'GET', owner.headers);
    expect(review.body.status).toBe('approved');
  });

  it('shares the project with a viewer (and a device with its Collect QR code); the viewer sees the data and cannot change it', async () => {
    await page().goto(url(`/p/${projectId}/sharing`));
    await page().getByLabel('Username').fill('victor');
    await page().getByLabel('Role', { exact: true }).selectOption('viewer');
    await page().getByRole('button', { name: 'Give access' }).click();
    await page().getByRole('cell', { name: 'victor' }).waitFor();
    await page().getByLabel('Label').fill('Tablet 7 (Amina)');
    await page().getByRole('button', { name: 'Add a device' }).click();
    await page().getByRole('img', { name: 'Collect settings QR code for Tablet 7 (Amina)' }).waitFor();
    await shoot('sharing');
    await page().goto(url(`/p/${projectId}/activity`));
    await page().getByRole('cell', { name: 'submission.review' }).first().waitFor();
    await shoot('project-activity');
    await page().goto(url('/where-is-my-data'));
    await page().getByText(kind === 'sqlite' ? 'SQLite at' : 'PostgreSQL at').waitFor();
    await shoot('where-is-my-data');
    await page().goto(url(`/p/${projectId}/no/such/screen`));
    await page().getByRole('heading', { name: 'There is nothing at this address.' }).waitFor();
    await shoot('not-found');
    await signOut();

    await signIn('victor', viewerPassword);
    await page().goto(url(`/p/${projectId}/f/household/data`));
    const table = page().locator('table.data-table');
    await table.getByRole('cell', { name: 'North' }).waitFor();
    expect(await table.getByRole('checkbox').count()).toBe(0);
    expect(await page().getByRole('button', { name: 'Set review status' }).count()).toBe(0);
    expect(await page().getByRole('button', { name: 'Move to trash' }).count()).toBe(0);
    await shoot('data-table-viewer');
    await table.getByRole('link', { name: /Open/ }).first().click();
    await page().getByRole('heading', { name: 'Answers' }).waitFor();
    expect(await page().getByRole('button', { name: 'Save' }).count()).toBe(0);
    // The server refuses too, whatever the page offers.
    const refused = await page().evaluate(async (path) => {
      const current = await (await fetch('/api/v1/sessions/current')).json();
      const answer = await fetch(path, { method: 'PUT', headers: { 'content-type': 'application/json', 'x-csrf-token': current.csrfToken }, body: JSON.stringify({ status: 'not_approved' }) });
      return { status: answer.status, code: (await answer.json()).code };
    }, `/api/v1/projects/${projectId}/forms/household/submissions/${instanceId}/review`);
    expect(refused).toEqual({ status: 403, code: 'access.denied' });
    expect((await call(url(`/api/v1/projects/${projectId}/forms/household/submissions/${instanceId}/review`), 'GET', viewer.headers)).body.status).toBe('approved');
  });

  it('shows an administrator every project, the backups and the instance’s activity', async () => {
    await signOut();
    await createTestUser(env(), 'root', { admin: true, password: ownerPassword });
    await signIn('root', ownerPassword);
    await page().getByRole('link', { name: 'Administration' }).click();
    await page().getByRole('cell', { name: 'Household survey 2026' }).waitFor();
    await page().getByRole('heading', { name: 'Backups' }).waitFor();
    await shoot('admin');
    await page().getByRole('link', { name: 'Instance activity' }).click();
    await page().getByRole('cell', { name: 'user.two_factor_enabled' }).first().waitFor();
    await shoot('admin-activity');
  });

  it('reported no script errors or policy violations, and nothing wider than a phone', () => {
    expect(browser.problems).toEqual([]);
    expect(overflowing).toEqual([]);
  });
});
