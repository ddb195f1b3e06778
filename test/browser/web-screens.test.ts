/**
 * The web application's later screens in a real browser: a form's read-only preview (published
 * and draft, in either language), the data screen's per-question summary and map (SVG, no tiles,
 * the table's filters applying), exports run as jobs and downloaded (CSV and XLSX checked), saved
 * export settings whose stable address serves the data to a token, a device's Collect QR code shown
 * again after it was made, the administrators' accounts screen (create with a password link that
 * its owner uses, disable with confirmation), and the privacy link set by the operator (the terms,
 * not set, are not shown). Every screen is photographed at desktop and phone widths, and checked
 * at 360 px for anything wider than the screen.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../support/databases.js';
import { call } from '../support/http.js';
import { useTestServer } from '../support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../support/test-users.js';
import { collectHeaders, multipartBody, send } from '../../src/openrosa/submission-client.test-support.js';
import { buildXlsx } from '../../src/xlsform/workbook/fixtures.test-support.js';
import { grantEmergencyAccess } from '../../src/projects/emergency.js';
import { spaContentSecurityPolicy } from '../../src/web/routes.js';
import { ensureWebBuilt, openBrowser, screenshot, screenshotAndCheck360, SCREENSHOT_DIR, signInAs, signOutOf, solidPng, type WebBrowser } from './web-app.support.js';

const PRIVACY_URL = 'https://example.org/fieldkeep-privacy';

const cellXml = (ref: string, text: string) => `<c r="${ref}" t="inlineStr"><is><t>${text.replace(/&/g, '&amp;').replace(/</g, '&lt;')}</t></is></c>`;
function sheet(rows: string[][]): string {
  const column = (i: number) => String.fromCharCode(65 + i);
  return `<sheetData>${rows.map((cells, r) => `<row r="${r + 1}">${cells.map((text, c) => cellXml(`${column(c)}${r + 1}`, text)).join('')}</row>`).join('')}</sheetData>`;
}

function wellsXlsx(version: string, extra: string[][] = []): Buffer {
  return buildXlsx({
    sheets: [
      {
        name: 'survey',
        xml: sheet([
          ['type', 'name', 'label::English (en)', 'label::Français (fr)', 'hint::English (en)', 'required', 'relevant'],
          ['select_one district', 'district', 'District', 'District', '', 'yes', ''],
          ['select_multiple colour', 'colours', 'Colours of the door', 'Couleurs de la porte', '', '', ''],
          ['integer', 'people', 'People in the household', 'Personnes du ménage', 'Count the children too', 'yes', ''],
          ['geopoint', 'where', 'Location of the house', 'Emplacement de la maison', '', '', ''],
          ['note', 'thanks', 'Thank you for your time', 'Merci pour votre temps', '', '', ''],
          ['text', 'remarks', 'Remarks', 'Remarques', '', '', '${people} > 0'],
          ...extra,
        ]),
      },
      { name: 'choices', xml: sheet([['list_name', 'name', 'label::English (en)', 'label::Français (fr)'], ['district', 'north', 'North', 'Nord'], ['district', 'south', 'South', 'Sud'], ['colour', 'red', 'Red', 'Rouge'], ['colour', 'blue', 'Blue', 'Bleu']]) },
      { name: 'settings', xml: sheet([['form_id', 'form_title', 'version'], ['household', 'Household survey', version]]) },
    ],
  });
}

/** The four submissions the summary, map and exports are checked against. */
const answers = [
  { district: 'north', colours: 'red blue', people: '4', where: '-1.2833 36.8167 1700 5', remarks: 'Blue door' },
  { district: 'south', colours: 'red', people: '6', where: '-1.3000 36.8000 1650 8', remarks: '' },
  { district: 'north', colours: '', people: '2', where: '', remarks: 'No one home' },
  { district: 'north', colours: 'blue', people: '', where: '', remarks: '' },
];

vi.setConfig({ testTimeout: 60_000 });
beforeAll(ensureWebBuilt, 120_000);

describeEachDatabase('the web application’s exports, summary, map, preview and accounts screens in Chromium', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_PRIVACY_URL: PRIVACY_URL });
  const ownerPassword = `owner ${randomBytes(6).toString('hex')} lantern`;
  const adminPassword = `admin ${randomBytes(6).toString('hex')} harbour`;
  const newcomerPassword = `newcomer ${randomBytes(6).toString('hex')} meadow`;
  let owner: TestUser;
  let leaver: TestUser;
  let browser: WebBrowser;
  let projectId: number;
  let device: { id: number; serverUrl: string };
  const overflowing: string[] = [];
  /** Every address the page asked for: nothing may come from another origin (no map tiles, no CDN). */
  const requested: string[] = [];

  const page = () => browser.page;
  const url = (path: string) => `${env().url}${path}`;
  const api = (path: string) => url(`/api/v1${path}`);
  const formBase = () => `/p/${projectId}/f/household`;

  /** Photographs at 390 px and desktop (the shared helper), and checks 360 px too, the narrowest phone we serve. */
  async function shoot(name: string) {
    if (kind === 'sqlite') overflowing.push(...(await screenshotAndCheck360(page(), name)));
  }

  const signIn = (username: string, password: string) => signInAs(page(), env().url, username, password);
  const signOut = () => signOutOf(page());

  async function upload(path: string, body: Buffer, fileName: string) {
    const answer = await fetch(api(`${path}?fileName=${fileName}`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/octet-stream' }, body: new Uint8Array(body) });
    expect(answer.status, await answer.clone().text()).toBe(201);
  }

  async function submit(values: (typeof answers)[number]) {
    const xml =
      `<?xml version='1.0' ?><data id="household" version="1"><district>${values.district}</district><colours>${values.colours}</colours><people>${values.people}</people>` +
      `<where>${values.where}</where><thanks/><remarks>${values.remarks}</remarks><meta><instanceID>uuid:${crypto.randomUUID()}</instanceID></meta></data>`;
    const body = multipartBody([{ name: 'xml_submission_file', filename: 'submission.xml', contentType: 'text/xml', body: xml }]);
    const sent = await send(url(`/projects/${projectId}/submission`), 'POST', collectHeaders({ ...owner.headers, 'content-type': body.contentType }), body.body);
    expect(sent.status, sent.body).toBe(201);
  }

  async function downloadFrom(p: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
    const [download] = await Promise.all([p.waitForEvent('download'), click()]);
    return { name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) };
  }

  beforeAll(async () => {
    owner = await createTestUser(env(), 'wanjiru', { password: ownerPassword, email: 'wanjiru@example.org' });
    leaver = await createTestUser(env(), 'leaver');
    await createTestUser(env(), 'root', { admin: true, password: adminPassword });
    projectId = (await call(api('/projects'), 'POST', owner.headers, { name: 'Wells and households' })).body.id;
    await upload(`/projects/${projectId}/forms`, wellsXlsx('1'), 'household.xlsx');
    expect((await call(api(`/projects/${projectId}/forms/household/draft/publish`), 'POST', owner.headers)).status).toBe(200);
    for (const values of answers) await submit(values);
    const created = (await call(api(`/projects/${projectId}/devices`), 'POST', owner.headers, { label: 'Tablet 3 (Wanjiru)' })).body;
    device = { id: created.device.id, serverUrl: created.serverUrl };
    browser = await openBrowser();
    browser.page.on('request', (request) => requested.push(request.url()));
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('links the privacy policy the operator set, on the sign-in page and under “Where is my data?”, and no terms, which are not set', async () => {
    await page().goto(url('/sign-in'));
    const footer = page().getByRole('navigation', { name: 'About this server' });
    await expect.poll(() => footer.getByRole('link', { name: 'Privacy policy' }).getAttribute('href')).toBe(PRIVACY_URL);
    expect(await footer.getByRole('link', { name: 'Terms of use' }).count()).toBe(0);
    await shoot('sign-in-privacy-link');
    await signIn('wanjiru', ownerPassword);
    await page().goto(url('/where-is-my-data'));
    const policies = page().getByRole('region', { name: 'Policies of this server' });
    expect(await policies.getByRole('link', { name: 'Privacy policy' }).getAttribute('href')).toBe(PRIVACY_URL);
    expect(await page().getByRole('link', { name: 'Terms of use' }).count()).toBe(0);
    await shoot('where-is-my-data-policies');
  });

  it('previews the published form read-only, in either language, and the draft beside it', async () => {
    await page().goto(url(`${formBase()}/preview`));
    const preview = page().getByRole('form', { name: 'Household survey' });
    await preview.getByRole('radio', { name: 'North' }).waitFor();
    expect(await preview.getByRole('radio', { name: 'North' }).isDisabled()).toBe(true);
    expect(await preview.getByRole('checkbox', { name: 'Blue' }).isDisabled()).toBe(true);
    const people = preview.getByRole('spinbutton', { name: /People in the household/ });
    expect(await people.isDisabled()).toBe(true);
    expect(await people.getAttribute('aria-describedby')).toBeTruthy();
    await preview.getByText('Count the children too').waitFor();
    await preview.getByText('Thank you for your time').waitFor();
    await preview.getByText('Shown only when: /data/people > 0').waitFor();
    expect(await preview.getByText('(required)').count()).toBe(2);
    await page().getByLabel('Language').selectOption('Français (fr)');
    await preview.getByRole('spinbutton', { name: /Personnes du ménage/ }).waitFor();
    await page().getByLabel('Language').selectOption('English (en)');
    await shoot('form-preview');

    // Nothing to show yet as the draft: the screen says why.
    await page().goto(url(`${formBase()}/preview?version=draft`));
    await page().getByRole('alert').getByText('The form has no draft.').waitFor();

    await upload(`/projects/${projectId}/forms/household/draft`, wellsXlsx('2', [['text', 'water', 'Water source', 'Source d’eau', '', '', '']]), 'household.xlsx');
    await page().goto(url(`${formBase()}/preview`));
    await page().getByRole('navigation', { name: 'Version to preview' }).getByRole('link', { name: 'Draft' }).click();
    await page().getByRole('textbox', { name: 'Water source' }).waitFor();
    expect(page().url()).toContain('version=draft');
    await shoot('form-preview-draft');
    await page().getByRole('navigation', { name: 'Version to preview' }).getByRole('link', { name: 'Published version' }).click();
    await page().getByRole('radio', { name: 'North' }).waitFor();
    expect(await page().getByRole('textbox', { name: 'Water source' }).count()).toBe(0);
  });

  it('summarises each question: counts and shares of choices, the spread of numbers, and what is missing; the table’s filters apply', async () => {
    await page().goto(url(`${formBase()}/data`));
    await page().locator('table.data-table').getByRole('cell', { name: 'South' }).waitFor();
    await page().getByRole('navigation', { name: 'Views of the data' }).getByRole('link', { name: 'Summary' }).click();
    await page().getByText('Summary of 4 submissions.').waitFor();

    const district = page().getByRole('region', { name: 'District' });
    const rowOf = (region: typeof district, name: string) => region.getByRole('row', { name: new RegExp(`^${name}`) }).getByRole('cell');
    expect(await rowOf(district, 'North').allTextContents()).toEqual(['3', '75 %']);
    expect(await rowOf(district, 'South').allTextContents()).toEqual(['1', '25 %']);
    const colours = page().getByRole('region', { name: 'Colours of the door' });
    expect(await rowOf(colours, 'Red').allTextContents()).toEqual(['2', '66.7 %']);
    await colours.getByText('No answer: 1').waitFor();
    const people = page().getByRole('region', { name: 'People in the household' });
    const figures = Object.fromEntries((await people.locator('dl.facts').evaluate((dl) => Array.from(dl.querySelectorAll('dt')).map((dt) => [dt.textContent, dt.nextElementSibling?.textContent]))) as Array<[string, string]>);
    expect(figures).toEqual({ Lowest: '2', Highest: '6', Mean: '4', Median: '4' });
    await people.getByText('No answer: 1').waitFor();
    expect(await people.getByRole('img', { name: /Histogram of People in the household: 2: 1; 3: 0; 4: 1; 5: 0; 6: 1/ }).count()).toBe(1);
    await page().getByRole('region', { name: 'Remarks' }).getByText('Answered: 2 (50 %)').waitFor();
    await shoot('data-summary');

    await page().getByRole('navigation', { name: 'Views of the data' }).getByRole('link', { name: 'Table' }).click();
    await page().getByLabel('Filter District').fill('=north');
    await page().getByLabel('Filter District').press('Enter');
    await page().locator('table.data-table').getByRole('cell', { name: 'South' }).waitFor({ state: 'detached' });
    expect(await page().locator('table.data-table tbody tr').count()).toBe(3);
    await page().getByRole('navigation', { name: 'Views of the data' }).getByRole('link', { name: 'Summary' }).click();
    await page().getByText('The table’s filters apply here too (1 set).').waitFor();
    await page().getByText('Summary of 3 submissions. (Filtered.)').waitFor();
    expect(await rowOf(page().getByRole('region', { name: 'District' }), 'North').allTextContents()).toEqual(['3', '100 %']);
  });

  it('maps the geopoints on a plain background without fetching tiles; a point opens its submission, by mouse or keyboard', async () => {
    await page().goto(url(`${formBase()}/data?view=map`));
    const map = page().getByRole('group', { name: 'Map of 2 locations; each point links to its submission.' });
    await map.waitFor();
    await page().getByText('2 of 4 submissions have a location.').waitFor();
    const points = map.getByRole('button', { name: /^Submission \d+: latitude/ });
    await expect.poll(() => points.count()).toBe(2);
    // No base layer: latitude and longitude lines and a scale instead, and no tile anywhere.
    expect(await map.locator('path.map-grid').count()).toBeGreaterThan(2);
    await map.locator('.leaflet-control-scale-line').first().waitFor();
    expect(await map.locator('img.leaflet-tile').count()).toBe(0);
    await page().getByText('List of the 2 points').click();
    await page().getByRole('cell', { name: '36.8', exact: true }).waitFor();
    await shoot('data-map');
    if (kind === 'sqlite') {
      await page().setViewportSize({ width: 360, height: 740 });
      await page().screenshot({ path: path.join(SCREENSHOT_DIR, 'data-map-360.png'), fullPage: true });
      await page().setViewportSize({ width: 1280, height: 800 });
    }
    expect(requested.filter((address) => !address.startsWith(env().url) && !address.startsWith('data:') && !address.startsWith('blob:'))).toEqual([]);
    expect(requested.filter((address) => /\/\d+\/\d+\/\d+\.png/.test(address))).toEqual([]);

    await map.getByRole('button', { name: /latitude -1\.3, longitude 36\.8$/ }).click();
    await page().getByRole('heading', { name: 'Answers' }).waitFor();
    await page().getByText('-1.3, 36.8').waitFor();
    await page().goBack();
    const first = page().getByRole('button', { name: /latitude -1\.2833, longitude 36\.8167/ });
    await first.focus();
    await page().keyboard.press('Enter');
    await page().getByRole('heading', { name: 'Answers' }).waitFor();
    await page().getByText('-1.2833, 36.8167').waitFor();
  });

  it('runs CSV and XLSX exports as jobs with their progress, and downloads files that hold the data', async () => {
    await page().goto(url(`${formBase()}/exports`));
    await page().getByRole('heading', { name: 'Saved export settings' }).waitFor();
    await page().getByText('No saved settings yet.').waitFor();
    await page().getByText('No exports started in this browser tab yet.').waitFor();

    // A mistake is answered on the spot, as the API words it.
    await page().getByLabel('Submitted from').fill('2030-05-02');
    await page().getByLabel('Submitted until').fill('2030-05-01');
    await page().getByRole('button', { name: 'Start the export' }).click();
    await page().getByRole('alert').getByText('`from` must come before `to`.').waitFor();
    await page().getByLabel('Submitted from').fill('');
    await page().getByLabel('Submitted until').fill('');

    await page().getByLabel('Answers', { exact: true }).selectOption('labels');
    await page().getByRole('button', { name: 'Start the export' }).click();
    const csvJob = page().locator('li.job').first();
    await csvJob.getByText('Ready').waitFor();
    await csvJob.getByText('4 submissions').waitFor();
    const csv = await downloadFrom(page(), () => csvJob.getByRole('link', { name: 'Download household.csv' }).click());
    expect(csv.name).toBe('household.csv');
    const lines = csv.bytes.toString('utf8').replace(/^\uFEFF/, '').trim().split(/\r\n/);
    expect(lines[0]).toMatch(/^district,colours,people,where,/);
    expect(lines.slice(1).map((line) => line.split(',')[0]).sort()).toEqual(['North', 'North', 'North', 'South']);

    // XLSX, chosen with the keyboard.
    await page().getByLabel(/^CSV/).focus();
    await page().keyboard.press('ArrowDown');
    expect(await page().getByLabel(/^Excel \(XLSX\)/).isChecked()).toBe(true);
    await page().getByRole('button', { name: 'Start the export' }).click();
    const xlsxJob = page().locator('li.job').first();
    await xlsxJob.getByRole('link', { name: 'Download household.xlsx' }).waitFor();
    await shoot('exports');
    const xlsx = await downloadFrom(page(), () => xlsxJob.getByRole('link', { name: 'Download household.xlsx' }).click());
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.bytes as unknown as ArrayBuffer);
    const rows = workbook.worksheets[0]!.getSheetValues().filter(Boolean) as unknown[][];
    expect(rows[0]!.slice(1, 4)).toEqual(['district', 'colours', 'people']);
    expect(rows.slice(1).map((row) => row[1]).sort()).toEqual(['North', 'North', 'North', 'South']);
    expect(rows.slice(1).map((row) => row[3]).filter((n) => n !== undefined && n !== null && n !== '').sort()).toEqual([2, 4, 6]);

    // The jobs survive a reload of the page (they are the owner's, asked for in this tab).
    await page().reload();
    await expect.poll(() => page().locator('li.job').count(), { timeout: 10_000 }).toBe(2);
  });

  it('saves export settings whose stable address serves the current data to a token, as Excel and Power BI read it', async () => {
    await page().goto(url(`${formBase()}/exports`));
    await page().getByLabel(/^CSV/).check();
    await page().getByLabel('Approved', { exact: true }).check();
    await page().getByLabel('Not reviewed').check();
    await page().getByLabel('Name for these settings').fill('Weekly dashboard');
    await page().getByRole('button', { name: 'Save settings' }).click();
    await page().getByText('Saved as “Weekly dashboard”.').waitFor();
    const address = await page().getByLabel('CSV address (main table)').inputValue();
    expect(address).toMatch(new RegExp(`/api/v1/projects/${projectId}/forms/household/exports/settings/\\d+/data\\.csv$`));
    const served = await fetch(url(new URL(address).pathname), { headers: owner.headers });
    expect(served.status).toBe(200);
    expect((await served.text()).trim().split(/\r\n/)).toHaveLength(1 + answers.length);
    await shoot('exports-saved-setting');

    await page().getByRole('button', { name: 'Remove Weekly dashboard' }).click();
    await page().getByRole('group', { name: 'Remove “Weekly dashboard”? Its addresses stop working.' }).getByRole('button', { name: 'Remove' }).click();
    await page().getByText('No saved settings yet.').waitFor();
    expect((await fetch(url(new URL(address).pathname), { headers: owner.headers })).status).toBe(404);
  });

  it('shows a device’s Collect QR code again, long after it was made', async () => {
    await page().goto(url(`/p/${projectId}/sharing`));
    await page().getByRole('button', { name: 'Show QR code Tablet 3 (Wanjiru)' }).click();
    const panel = page().getByRole('region', { name: 'QR code for Tablet 3 (Wanjiru)' });
    await panel.getByRole('img', { name: 'Collect settings QR code for Tablet 3 (Wanjiru)' }).waitFor();
    expect(await panel.locator('code').textContent()).toBe(device.serverUrl);
    await expect.poll(() => page().evaluate(() => document.activeElement?.id)).toBe('device-qr');
    await shoot('sharing-device-qr');
    await panel.getByRole('button', { name: 'Hide' }).click();
    await expect.poll(() => page().evaluate(() => document.activeElement?.id)).toBe(`show-device-${device.id}`);
  });

  it('sorts the table, chooses its columns, reviews and trashes several rows (with confirmation) and restores from the trash', async () => {
    await page().goto(url(`${formBase()}/data`));
    const table = page().locator('table.data-table');
    await table.getByRole('cell', { name: 'South' }).waitFor();
    await page().getByText('Submissions: 4').waitFor();
    const firstDistrict = () => table.locator('tbody tr').first().getByRole('cell', { name: /^(North|South)$/ }).textContent();
    await page().getByRole('button', { name: 'Sort District ascending' }).click();
    await expect.poll(() => table.getByRole('columnheader', { name: /District/ }).getAttribute('aria-sort')).toBe('ascending');
    await expect.poll(firstDistrict).toBe('North');
    await page().getByRole('button', { name: 'Sort District descending' }).click();
    await expect.poll(() => table.getByRole('columnheader', { name: /District/ }).getAttribute('aria-sort')).toBe('descending');
    await expect.poll(firstDistrict).toBe('South');

    await page().getByText('Columns', { exact: true }).click();
    await page().getByRole('checkbox', { name: 'Remarks', exact: true }).uncheck();
    await table.getByRole('columnheader', { name: /Remarks/ }).waitFor({ state: 'detached' });
    await page().getByRole('checkbox', { name: 'Remarks', exact: true }).check();
    await table.getByRole('columnheader', { name: /Remarks/ }).waitFor();

    await table.getByRole('row', { name: /South/ }).getByRole('checkbox').check();
    await table.getByRole('row', { name: /Blue door/ }).getByRole('checkbox').check();
    await page().getByText('2 selected').waitFor();
    await page().getByLabel('Set review status').selectOption('approved');
    await page().getByRole('button', { name: 'Set review status' }).click();
    await expect.poll(() => table.getByRole('cell', { name: 'Approved', exact: true }).count()).toBe(2);

    await table.getByRole('row', { name: /No one home/ }).getByRole('checkbox').check();
    await page().getByRole('button', { name: 'Move to trash' }).click();
    const confirm = page().getByRole('alertdialog', { name: 'Move to trash' });
    await confirm.getByText('Move the 1 selected to the trash?').waitFor();
    await shoot('data-table-bulk');
    await confirm.getByRole('button', { name: 'Move to trash' }).click();
    await page().getByText('Submissions: 3').waitFor();
    expect(await table.getByRole('row', { name: /No one home/ }).count()).toBe(0);

    await page().goto(url(formBase()));
    const trash = page().getByRole('region', { name: 'Trash' });
    const restore = trash.getByRole('button', { name: /^Restore uuid:/ });
    await restore.waitFor();
    await shoot('form-trash');
    await restore.click();
    await page().getByText('Restored.').waitFor();
    await trash.getByText('The trash is empty.').waitFor();
    await page().goto(url(`${formBase()}/data`));
    await page().getByText('Submissions: 4').waitFor();
    await table.getByRole('row', { name: /No one home/ }).waitFor();
  });

  it('shows the project’s forms with their last submission time, and the owner an emergency access granted from the command line', async () => {
    await grantEmergencyAccess(env().server.database.db, { projectId, username: 'root', role: 'viewer', reason: 'Audit request 42', hours: 2 });
    await page().goto(url(`/p/${projectId}`));
    await page().getByRole('status').filter({ hasText: /^Emergency access is active: root \(Viewer\) until .* — Audit request 42$/ }).waitFor();
    const formRow = page().getByRole('row', { name: /Household survey/ });
    await expect.poll(() => formRow.getByRole('cell').nth(3).textContent()).toBe('4');
    const newest = (await call(api(`/projects/${projectId}/forms/household/submissions?limit=1&sort=-_submission_time&fields=_submission_time`), 'GET', owner.headers)).body;
    const time = String(newest.results[0]._submission_time);
    // As the page writes it, in the browser's time zone.
    expect(await formRow.getByRole('cell').nth(4).textContent()).toBe(await page().evaluate((iso) => new Date(iso).toLocaleString('en', { dateStyle: 'medium', timeStyle: 'short' }), time));
    await shoot('project-home-emergency');
  });

  it('filters the project’s audit log by action, and signs out everywhere from the account screen', async () => {
    await page().goto(url(`/p/${projectId}/activity`));
    const log = page().locator('table');
    await log.getByRole('cell', { name: 'submission.review' }).first().waitFor();
    const actions = () => log.locator('tbody tr td:nth-child(3)').allTextContents();
    expect(new Set(await actions()).size).toBeGreaterThan(1);
    await page().getByLabel('Action', { exact: true }).fill('submission.review');
    await page().getByRole('button', { name: 'Apply filters' }).click();
    await expect.poll(async () => [...new Set(await actions())]).toEqual(['submission.review']);
    await shoot('project-activity-filtered');

    await page().goto(url('/account'));
    const sessions = page().getByRole('region', { name: 'Where you are signed in' });
    await sessions.getByText('This browser').waitFor();
    await shoot('account-sessions');
    // The session as it was, sent again from outside the page once it is ended.
    const cookie = (await browser.context.cookies(env().url)).map((c) => `${c.name}=${c.value}`).join('; ');
    expect((await fetch(api('/sessions/current'), { headers: { cookie } })).status).toBe(200);
    page().once('dialog', (dialog) => void dialog.accept());
    await sessions.getByRole('button', { name: 'Sign out everywhere' }).click();
    await page().getByRole('heading', { name: 'Sign in' }).waitFor();
    expect((await fetch(api('/sessions/current'), { headers: { cookie } })).status).toBe(401);
    await signIn('wanjiru', ownerPassword);
  });

  it('lets an administrator create an account whose owner sets the password through the link, and disable another', async () => {
    await signOut();
    await signIn('root', adminPassword);
    await page().getByRole('link', { name: 'Administration' }).click();
    await page().getByRole('link', { name: 'Manage accounts' }).click();
    const list = page().getByRole('table', { name: 'All accounts' });
    await list.getByRole('cell', { name: 'wanjiru', exact: true }).waitFor();
    // An administrator cannot lock themselves out: no disable or demote on their own row.
    expect(await page().getByRole('button', { name: 'Disable root' }).count()).toBe(0);

    await page().getByLabel('Username').fill('joseph');
    await page().getByLabel('Email address').fill('joseph@example.org');
    await page().getByRole('button', { name: 'Create the account' }).click();
    const linkPanel = page().getByRole('region', { name: 'Account joseph created' });
    const link = await linkPanel.getByLabel('Password link for joseph').inputValue();
    expect(link).toMatch(/\/reset-password#token=[A-Za-z0-9]{43}$/);
    await list.getByRole('cell', { name: 'joseph', exact: true }).waitFor();

    await page().getByRole('button', { name: 'Disable leaver' }).click();
    const confirm = page().getByRole('group', { name: /Disable leaver\?/ });
    await confirm.getByRole('button', { name: 'Disable' }).focus();
    await page().keyboard.press('Enter');
    await page().getByText('leaver is disabled.').waitFor();
    await list.getByRole('row', { name: /leaver/ }).getByText('Disabled').waitFor();
    expect((await call(api('/users/me'), 'GET', leaver.headers)).status).toBe(401);
    await page().getByLabel('Find').fill('jos');
    await expect.poll(() => list.locator('tbody tr').count(), { timeout: 10_000 }).toBe(1);
    await page().getByLabel('Find').fill('');
    await shoot('admin-users');

    await signOut();
    await page().goto(link.replace(/^https?:\/\/[^/]+/, env().url));
    await page().getByRole('heading', { name: 'Choose a new password' }).waitFor();
    await page().getByLabel('New password', { exact: true }).fill(newcomerPassword);
    await page().getByRole('button', { name: 'Set the password' }).click();
    await page().getByText('Your password is set.').waitFor();
    await signIn('joseph', newcomerPassword);
    await page().getByText('You have no projects yet.').waitFor();
  });

  it('reported no script errors or policy violations, and nothing wider than the screen', () => {
    expect(browser.problems).toEqual([]);
    expect(overflowing).toEqual([]);
  });
});

/** A tile server of the operator's, on another origin: the test answers its addresses with one small PNG. */
const TILE_ORIGIN = 'http://tiles.fieldkeep.test';
const TILE_URL = `${TILE_ORIGIN}/base/{z}/{x}/{y}.png`;

describeEachDatabase('the map with the operator’s base layer in Chromium', (kind) => {
  const env = useTestServer(kind, { ...testUserSettings, FIELDKEEP_MAP_TILE_URL: TILE_URL, FIELDKEEP_MAP_TILE_ATTRIBUTION: '© Survey <office> & friends' });
  const password = `mapper ${randomBytes(6).toString('hex')} compass`;
  let browser: WebBrowser;
  let projectId: number;
  const tiles: string[] = [];
  const overflowing: string[] = [];
  const url = (path: string) => `${env().url}${path}`;

  beforeAll(async () => {
    const owner = await createTestUser(env(), 'amina', { password });
    projectId = (await call(url('/api/v1/projects'), 'POST', owner.headers, { name: 'Water points' })).body.id;
    const uploaded = await fetch(url(`/api/v1/projects/${projectId}/forms?fileName=household.xlsx`), { method: 'POST', headers: { ...owner.headers, 'content-type': 'application/octet-stream' }, body: new Uint8Array(wellsXlsx('1')) });
    expect(uploaded.status, await uploaded.clone().text()).toBe(201);
    expect((await call(url(`/api/v1/projects/${projectId}/forms/household/draft/publish`), 'POST', owner.headers)).status).toBe(200);
    for (const where of ['-1.2833 36.8167 1700 5', '-1.3000 36.8000 1650 8', '-1.2900 36.8300 1690 4']) {
      const xml = `<?xml version='1.0' ?><data id="household" version="1"><district>north</district><colours/><people>3</people><where>${where}</where><thanks/><remarks/><meta><instanceID>uuid:${crypto.randomUUID()}</instanceID></meta></data>`;
      const body = multipartBody([{ name: 'xml_submission_file', filename: 'submission.xml', contentType: 'text/xml', body: xml }]);
      const sent = await send(url(`/projects/${projectId}/submission`), 'POST', collectHeaders({ ...owner.headers, 'content-type': body.contentType }), body.body);
      expect(sent.status, sent.body).toBe(201);
    }
    browser = await openBrowser();
    const tile = solidPng(256, 256, [214, 228, 236]);
    await browser.page.route(`${TILE_ORIGIN}/**`, (route) => {
      tiles.push(route.request().url());
      return route.fulfill({ contentType: 'image/png', body: tile });
    });
  });
  afterAll(async () => {
    await browser?.close();
  });

  it('allows images from the tile origin, and only from it, in the page’s policy; the public settings name the layer', async () => {
    const home = await fetch(url('/'));
    expect(home.headers.get('content-security-policy')).toBe(spaContentSecurityPolicy(TILE_URL));
    expect(home.headers.get('content-security-policy')).toContain(`img-src 'self' data: blob: ${TILE_ORIGIN};`);
    expect((await call(url('/api/v1/instance/links'), 'GET')).body).toMatchObject({ mapTileUrl: TILE_URL, mapTileAttribution: '© Survey <office> & friends' });
  });

  it('draws the located submissions over tiles from the configured server, with its credit as text', async () => {
    const page = browser.page;
    await page.goto(url('/sign-in'));
    await page.getByLabel('Username or email').fill('amina');
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Projects' }).waitFor();
    await page.goto(url(`/p/${projectId}/f/household/data?view=map`));
    const map = page.getByRole('group', { name: 'Map of 3 locations; each point links to its submission.' });
    await map.waitFor();
    await expect.poll(() => map.getByRole('button', { name: /^Submission \d+: latitude/ }).count()).toBe(3);
    await expect.poll(() => map.locator('img.leaflet-tile-loaded').count()).toBeGreaterThan(0);
    expect(tiles.length).toBeGreaterThan(0);
    for (const address of tiles) expect(address).toMatch(/^http:\/\/tiles\.fieldkeep\.test\/base\/\d+\/\d+\/\d+\.png$/);
    // The credit is the operator's text, shown as text (Leaflet would otherwise read it as markup).
    await map.locator('.leaflet-control-attribution').getByText('© Survey <office> & friends').waitFor();
    expect(await map.locator('path.map-grid').count()).toBe(0);
    expect(await page.getByText('no map images are fetched from the internet').count()).toBe(0);
    if (kind === 'sqlite') {
      overflowing.push(...(await screenshot(page, 'data-map-tiles')));
      await page.setViewportSize({ width: 360, height: 740 });
      const wide = await page.evaluate(() => document.documentElement.scrollWidth - document.documentElement.clientWidth);
      if (wide > 0) overflowing.push(`data-map-tiles: ${wide}px too wide at 360px`);
      await page.screenshot({ path: path.join(SCREENSHOT_DIR, 'data-map-tiles-360.png'), fullPage: true });
      await page.setViewportSize({ width: 1280, height: 800 });
    }
    expect(browser.problems).toEqual([]);
    expect(overflowing).toEqual([]);
  });
});
