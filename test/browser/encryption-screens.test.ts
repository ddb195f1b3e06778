/**
 * The encrypted-project and backup screens in a real browser. An owner turns on encryption in the
 * page (key pair made and wrapped there, passphrase strength shown, a hint, the recovery file
 * downloaded); phones send encrypted envelopes over OpenRosa; the project home, data table and
 * submission view show the padlock, and once unlocked (once per tab: a reload locks again) the
 * answers, photo and signature are decrypted in the page; encrypted submissions say why they
 * cannot be edited; unlocked with the recovery file, CSV and XLSX of the decrypted data are built
 * in a Web Worker; a member sets up their own key, is given access (the key sealed to theirs in
 * the owner's page), reads the data with their own passphrase, and is revoked; the key is rotated.
 * No request the browser makes carries any passphrase. An administrator sees the backups, starts
 * one and sees the previous one verified. Every screen is photographed at desktop and phone widths
 * and checked at 360 px.
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { generateX25519Identity, identityToRecipient } from 'age-encryption';
import ExcelJS from 'exceljs';
import type { Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it, vi } from 'vitest';
import { describeEachDatabase } from '../support/databases.js';
import { call } from '../support/http.js';
import { useTestServer } from '../support/server.js';
import { createTestUser, testUserSettings, type TestUser } from '../support/test-users.js';
import { openRecoveryFile, publicKeyToBase64Spki } from '../../src/crypto/index.js';
import { encryptedSurvey, postEnvelope } from '../../src/project-keys/encrypted-fixtures.test-support.js';
import { addMemberTo, newInstanceId, publishSurvey } from '../../src/submissions/data-fixtures.test-support.js';
import { parseCsv } from '../../src/exports/export-fixtures.test-support.js';
import { startVerifier, type RunningVerifier } from '../../src/backups/verifier.js';
import { ensureWebBuilt, openBrowser, screenshotAndCheck360, signInAs, signOutOf, solidPng, type WebBrowser } from './web-app.support.js';

const PASSPHRASE = 'copper orchard lantern 47 drizzle';
const RECOVERY_PASSPHRASE = 'meadow quartz ferry 19 tamarind';
const MEMBER_PASSPHRASE = 'harbor violet saddle 62 ember';
const ROTATED_PASSPHRASE = 'glacier pepper tunnel 85 mosaic';
const PHOTO = solidPng(240, 160, [200, 90, 40]);

const identity = await generateX25519Identity();
const recipient = await identityToRecipient(identity);
const work = mkdtempSync(path.join(tmpdir(), 'fieldkeep-encryption-screens-'));
const identityFile = path.join(work, 'backup-identity.txt');
writeFileSync(identityFile, `${identity}\n`);
afterAll(() => rmSync(work, { recursive: true, force: true }));

// Each step derives keys with scrypt (128 MiB, seconds on a busy machine) in the page.
vi.setConfig({ testTimeout: 180_000 });
beforeAll(ensureWebBuilt, 120_000);

describeEachDatabase('the encrypted-project and backup screens in Chromium', (kind) => {
  const backupDir = path.join(work, `backups-${kind}`);
  mkdirSync(backupDir);
  const env = useTestServer(kind, {
    ...testUserSettings,
    FIELDKEEP_JOB_POLL_MS: '50',
    FIELDKEEP_BACKUP_RECIPIENTS: recipient,
    FIELDKEEP_BACKUP_DIR: backupDir,
    FIELDKEEP_BACKUP_CRON: '30 2 * * *',
  });
  const ownerPassword = `owner ${randomBytes(6).toString('hex')} lantern`;
  const memberPassword = `member ${randomBytes(6).toString('hex')} harbour`;
  const adminPassword = `admin ${randomBytes(6).toString('hex')} meadow`;
  let owner: TestUser;
  let browser: WebBrowser;
  let projectId: number;
  let verifier: RunningVerifier | undefined;
  const instanceIds: string[] = [];
  let recoveryFile: Buffer;
  const overflowing: string[] = [];
  /** Every request the browser made (pages and workers): address, headers and body. */
  const requests: string[] = [];

  const page = () => browser.page;
  const url = (p: string) => `${env().url}${p}`;
  const api = (p: string) => url(`/api/v1${p}`);

  async function shoot(name: string) {
    if (kind === 'sqlite') overflowing.push(...(await screenshotAndCheck360(page(), name)));
  }

  const signIn = (username: string, password: string) => signInAs(page(), env().url, username, password);
  const signOut = () => signOutOf(page());

  async function downloadFrom(p: Page, click: () => Promise<void>): Promise<{ name: string; bytes: Buffer }> {
    const [download] = await Promise.all([p.waitForEvent('download', { timeout: 120_000 }), click()]);
    return { name: download.suggestedFilename(), bytes: readFileSync((await download.path())!) };
  }

  /** The padlock bar of the screen, by its heading. */
  const padlock = (state: 'locked' | 'unlocked in this tab') => page().getByRole('heading', { name: `Encrypted · ${state}` });

  beforeAll(async () => {
    owner = await createTestUser(env(), 'odile', { password: ownerPassword, email: 'odile@example.org' });
    await createTestUser(env(), 'marek', { password: memberPassword });
    await createTestUser(env(), 'root', { admin: true, password: adminPassword });
    projectId = (await call(api('/projects'), 'POST', owner.headers, { name: 'Clinic follow-up' })).body.id;
    await publishSurvey(env(), projectId, owner);
    await addMemberTo(env(), projectId, owner, 'marek', 'viewer');
    browser = await openBrowser();
    browser.context.on('request', (request) => requests.push(`${request.url()}\n${JSON.stringify(request.headers())}\n${request.postData() ?? ''}`));
  });
  afterAll(async () => {
    await verifier?.stop();
    await browser?.close();
  });

  it('turns on encryption in the page, with passphrase strength shown, a hint and a recovery file', async () => {
    await signIn('odile', ownerPassword);
    await page().goto(url(`/p/${projectId}`));
    await page().getByRole('navigation', { name: 'Projects' }).getByRole('link', { name: 'Encryption' }).click();
    await page().getByRole('heading', { name: 'Turn on end-to-end encryption' }).waitFor();
    const turnOn = page().getByRole('button', { name: 'Turn on encryption' });

    await page().getByLabel('New passphrase').fill('password123');
    await page().getByText('Too weak').waitFor();
    await page().getByText('It is too easy to guess.').waitFor();
    await page().getByLabel('New passphrase').fill('odile odile 1');
    await page().getByText('It must not contain or resemble your username').waitFor();
    await page().getByLabel('New passphrase').fill(PASSPHRASE);
    await page().getByText('Strong enough').waitFor();
    await page().getByLabel('Repeat the passphrase').fill(`${PASSPHRASE}!`);
    await page().getByText('The two do not match.').waitFor();
    expect(await turnOn.isDisabled()).toBe(true);
    await page().getByLabel('Repeat the passphrase').fill(PASSPHRASE);
    await page().getByLabel('Hint (optional)').fill('the orchard one');
    await shoot('encryption-turn-on');
    await turnOn.click();
    await page().getByText('Encryption is on, and the project is unlocked in this tab.').waitFor({ timeout: 120_000 });
    // The focus moves to the next step, the recovery file.
    await expect.poll(() => page().evaluate(() => document.activeElement?.id)).toBe('recovery-title');

    const status = (await call(api(`/projects/${projectId}/encryption`), 'GET', owner.headers)).body;
    expect(status).toMatchObject({ enabled: true, allowServerDecryption: true, keys: [{ state: 'active', managed: true, hint: 'the orchard one' }] });
    expect((await call(api(`/projects/${projectId}/forms/survey`), 'GET', owner.headers)).body.published.encrypted).toBe(true);

    await page().locator('#recovery-passphrase').fill(RECOVERY_PASSPHRASE);
    await page().locator('#recovery-passphrase-repeat').fill(RECOVERY_PASSPHRASE);
    await page().getByText('Strong enough').waitFor();
    const recovery = await downloadFrom(page(), () => page().getByRole('button', { name: 'Download the recovery file' }).click());
    expect(recovery.name).toMatch(/^fieldkeep-recovery-project-\d+-key-\d+\.json$/);
    const recovered = await openRecoveryFile(recovery.bytes.toString('utf8'), RECOVERY_PASSPHRASE);
    expect(publicKeyToBase64Spki(recovered)).toBe(status.keys[0].publicKey);
    recoveryFile = recovery.bytes;
    await page().getByText('Recovery file downloaded.').waitFor();
    await shoot('encryption-on');
  });

  it('shows the padlock on the project home, data table and submission view, and decrypts in the page once unlocked (once per tab)', async () => {
    const publicKey = (await call(api(`/projects/${projectId}/encryption`), 'GET', owner.headers)).body.keys[0].publicKey;
    const version = (await call(api(`/projects/${projectId}/forms/survey`), 'GET', owner.headers)).body.published.version;
    for (const [district, note] of [['north', 'Blue door behind the well'], ['south', 'Second visit']] as const) {
      const instanceId = newInstanceId();
      const envelope = await encryptedSurvey(publicKey, version, instanceId, district, PHOTO, { age: district === 'north' ? '34' : '8', note });
      await postEnvelope(env(), projectId, owner, envelope.manifestXml, envelope.files);
      instanceIds.push(instanceId);
    }

    // A reload is a new page: the keys are gone.
    await page().goto(url(`/p/${projectId}`));
    await padlock('locked').waitFor();
    await shoot('project-home-encrypted');

    await page().goto(url(`/p/${projectId}/f/survey/data`));
    await padlock('locked').waitFor();
    const table = page().locator('table.data-table');
    await expect.poll(() => table.getByText('Encrypted', { exact: true }).count()).toBeGreaterThan(0);
    // Encrypted answers cannot be filtered or sorted on the server: no such controls for them.
    expect(await page().getByLabel('Filter District').count()).toBe(0);
    await page().getByText('cannot be sorted or filtered').waitFor();
    await shoot('data-table-locked');

    await page().getByLabel('Project passphrase').fill(PASSPHRASE);
    await page().getByText('Hint: the orchard one').waitFor();
    await page().getByRole('button', { name: 'Unlock', exact: true }).click();
    await padlock('unlocked in this tab').waitFor({ timeout: 120_000 });
    await table.getByRole('cell', { name: 'Blue door behind the well' }).waitFor();
    await table.getByRole('cell', { name: 'Second visit' }).waitFor();
    await table.getByRole('cell', { name: 'N', exact: true }).waitFor();
    await shoot('data-table-decrypted');

    await table.getByRole('row', { name: /Blue door/ }).getByRole('link', { name: /Open/ }).click();
    await page().getByRole('heading', { name: 'Answers' }).waitFor();
    const answers = page().getByRole('region', { name: 'Answers' });
    await answers.getByText('Blue door behind the well').waitFor();
    await answers.getByText('34', { exact: true }).waitFor();
    const photo = answers.getByRole('img', { name: 'photo.jpg' });
    await expect.poll(() => photo.evaluate((img: HTMLImageElement) => img.complete && img.naturalWidth)).toBe(240);
    expect(await photo.getAttribute('src')).toMatch(/^blob:/);
    await page().getByText('Valid', { exact: true }).waitFor();
    await page().getByText('Encrypted submissions cannot be edited').waitFor();
    expect(await page().getByRole('link', { name: 'Edit in the form' }).count()).toBe(0);
    await shoot('submission-decrypted');

    // Moving within the tab keeps it unlocked; a reload locks it.
    await page().getByRole('navigation', { name: 'Breadcrumb' }).getByRole('link', { name: 'Clinic follow-up' }).click();
    await padlock('unlocked in this tab').waitFor();
    await page().reload();
    await padlock('locked').waitFor();
    await page().goto(url(`/p/${projectId}/f/survey/s/${encodeURIComponent(instanceIds[1]!)}`));
    await padlock('locked').waitFor();
    await page().getByText('The answers are encrypted: unlock above to read them.').waitFor();
    expect(await page().getByText('Second visit').count()).toBe(0);
    await shoot('submission-locked');
  });

  it('unlocks with the recovery file, and builds the decrypted CSV and XLSX in a Web Worker, saved from the page', async () => {
    await page().goto(url(`/p/${projectId}/f/survey/exports`));
    await page().getByRole('heading', { name: 'Decrypted export, made in your browser' }).waitFor();
    expect(await page().getByRole('button', { name: 'Decrypt and download' }).isDisabled()).toBe(true);
    await page().getByText('Unlock with a recovery file or a private key file').click();
    await page().getByLabel('Recovery file or private key (PEM)').setInputFiles({ name: 'recovery.json', mimeType: 'application/json', buffer: recoveryFile });
    await page().getByLabel('Recovery passphrase').fill(RECOVERY_PASSPHRASE);
    await page().getByRole('button', { name: 'Unlock with this file' }).click();
    await padlock('unlocked in this tab').waitFor({ timeout: 120_000 });

    const csv = await downloadFrom(page(), () => page().getByRole('button', { name: 'Decrypt and download' }).click());
    expect(csv.name).toMatch(/^survey-decrypted-\d{4}-\d{2}-\d{2}\.csv$/);
    const rows = parseCsv(csv.bytes.toString('utf8'));
    expect(rows[0]!.slice(0, 5)).toEqual(['instanceID', '_submission_time', '_signature', 'district', 'age']);
    expect(rows.slice(1).map((row) => [row[0], row[2], row[3], row[4]]).sort()).toEqual([
      [instanceIds[0], 'valid', 'north', '34'],
      [instanceIds[1], 'valid', 'south', '8'],
    ].sort());
    await page().getByText('Done.').waitFor();
    await shoot('exports-decrypted');

    await page().locator('#decrypted-xlsx').check();
    const xlsx = await downloadFrom(page(), () => page().getByRole('button', { name: 'Decrypt and download' }).click());
    expect(xlsx.name).toMatch(/\.xlsx$/);
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(xlsx.bytes as unknown as ArrayBuffer);
    const sheet = workbook.getWorksheet('survey')!;
    const ages = [sheet.getCell('E2').value, sheet.getCell('E3').value].sort();
    expect(ages).toEqual([34, 8].sort());
    // The export's requests came from the worker, and read the envelopes themselves.
    expect(requests.some((request) => request.includes(`/submissions/${encodeURIComponent(instanceIds[0]!)}/attachments/submission.xml.enc`))).toBe(true);
  });

  it('shares the key with a member who set up their own, who then reads the data with their own passphrase; revokes; rotates', async () => {
    await signOut();
    await signIn('marek', memberPassword);
    await page().goto(url(`/p/${projectId}/encryption`));
    await page().getByRole('heading', { name: 'Your own key' }).waitFor();
    await page().getByText('You have no copy of this project’s key yet.').waitFor();
    expect(await page().getByRole('heading', { name: 'Who can decrypt' }).count()).toBe(0);
    await page().getByLabel('Your passphrase').fill(MEMBER_PASSPHRASE);
    await page().getByLabel('Repeat the passphrase').fill(MEMBER_PASSPHRASE);
    await page().getByText('Strong enough').waitFor();
    await page().getByRole('button', { name: 'Set up my key' }).click();
    await page().getByText('Your key is set up. The project owner can now give you access.').waitFor({ timeout: 120_000 });
    await shoot('encryption-member');
    await signOut();

    await signIn('odile', ownerPassword);
    await page().goto(url(`/p/${projectId}/encryption`));
    const people = page().getByRole('region', { name: 'Who can decrypt' });
    await people.getByRole('row', { name: /marek/ }).getByText('No access').waitFor();
    expect(await people.getByRole('button', { name: 'Give access marek' }).isDisabled()).toBe(true);
    await page().getByLabel('Project passphrase').fill(PASSPHRASE);
    await page().getByRole('button', { name: 'Unlock', exact: true }).click();
    await page().getByText('Encrypted · unlocked in this tab').first().waitFor({ timeout: 120_000 });
    await people.getByRole('button', { name: 'Give access marek' }).click();
    await page().getByText('marek can now decrypt this project’s submissions.').waitFor();
    await people.getByRole('row', { name: /marek/ }).getByText('Can decrypt').waitFor();
    await shoot('encryption-owner');
    await signOut();

    await signIn('marek', memberPassword);
    await page().goto(url(`/p/${projectId}/f/survey/data`));
    await padlock('locked').waitFor();
    await page().getByLabel('Your own passphrase').fill(MEMBER_PASSPHRASE);
    await page().getByRole('button', { name: 'Unlock', exact: true }).click();
    await page().locator('table.data-table').getByRole('cell', { name: 'Second visit' }).waitFor({ timeout: 120_000 });
    await signOut();

    await signIn('odile', ownerPassword);
    await page().goto(url(`/p/${projectId}/encryption`));
    await people.getByRole('button', { name: 'Revoke marek' }).click();
    const confirm = page().getByRole('alertdialog');
    await confirm.getByText('cannot be taken back').waitFor();
    await confirm.getByRole('button', { name: 'Revoke marek' }).click();
    await page().getByText('marek can no longer unlock this project.').waitFor();
    const sharing = (await call(api(`/projects/${projectId}/encryption/members`), 'GET', owner.headers)).body as Array<{ username: string; keyIds: number[] }>;
    expect(sharing.find((person) => person.username === 'marek')?.keyIds).toEqual([]);

    const formVersion = (await call(api(`/projects/${projectId}/forms/survey`), 'GET', owner.headers)).body.published.version;
    await page().getByText('Make a new key').click();
    await page().locator('#rotate-passphrase').fill(ROTATED_PASSPHRASE);
    await page().locator('#rotate-passphrase-repeat').fill(ROTATED_PASSPHRASE);
    await page().getByRole('region', { name: 'Rotate the key' }).getByText('Strong enough').waitFor();
    await page().getByRole('button', { name: 'Rotate the key' }).click();
    await page().getByText('The new key is active').waitFor({ timeout: 120_000 });
    const keysTable = page().getByRole('region', { name: 'Keys' });
    await keysTable.getByRole('row', { name: /Key \d+.*Active/ }).waitFor();
    await keysTable.getByRole('row', { name: /Key \d+.*Retired/ }).waitFor();
    // This tab holds the new key; the old one (this page was loaded since it was unlocked) is locked, and the screen says what that means.
    expect(await keysTable.getByRole('cell', { name: 'Unlocked', exact: true }).count()).toBe(1);
    expect(await keysTable.getByRole('cell', { name: 'Locked', exact: true }).count()).toBe(1);
    await keysTable.getByText('Submissions sent to a locked key stay encrypted').waitFor();
    expect((await call(api(`/projects/${projectId}/forms/survey`), 'GET', owner.headers)).body.published.version).not.toBe(formVersion);
    await shoot('encryption-rotated');
  });

  it('shows an administrator how backups stand, starts one, and shows the previous one verified', async () => {
    await signOut();
    expect((await call(api('/admin/backups'), 'GET', owner.headers)).status).toBe(403);
    await signIn('root', adminPassword);
    await page().getByRole('navigation', { name: 'Main' }).getByRole('link', { name: 'Administration' }).click();
    await page().getByRole('link', { name: 'Backup details' }).click();
    await page().getByRole('heading', { name: 'Backups', level: 1 }).waitFor();
    await page().getByText('No backup yet').waitFor();
    await page().getByText('No backup has run yet.').waitFor();
    await page().getByText(backupDir).waitFor();
    await shoot('admin-backups-empty');

    const runs = page().getByRole('region', { name: 'Recent runs' });
    for (let run = 1; run <= 2; run++) {
      await page().getByRole('button', { name: 'Start a backup' }).click();
      await expect.poll(() => runs.getByText('Succeeded').count(), { timeout: 120_000 }).toBe(run);
      await page().getByText('Backup written:').waitFor();
      // The news takes the focus, so a screen reader announces it where the button was.
      await expect.poll(() => page().evaluate(() => document.activeElement?.id)).toBe('backup-notice');
    }
    const status = page().getByRole('region', { name: 'Status' });
    await status.getByText('Verification needs “fieldkeep backup verifier”').waitFor();
    await page().getByRole('region', { name: 'Archives in the location' }).getByRole('row').nth(2).waitFor();

    verifier = await startVerifier(env().config, { identityFile, jobs: { pollMs: 50 } });
    await expect
      .poll(
        async () => {
          await page().reload();
          await status.waitFor();
          return status.getByText('Sound').count();
        },
        { timeout: 120_000, interval: 500 },
      )
      .toBe(1);
    await status.getByText('Healthy').waitFor();
    await runs.getByText('Verified', { exact: true }).waitFor();
    await shoot('admin-backups');
  });

  it('sent no passphrase in any request, reported no script errors or policy violations, and nothing is wider than a phone', () => {
    expect(requests.length).toBeGreaterThan(50);
    expect(requests.some((request) => request.includes('/encryption') && request.includes('wrappedPrivateKey'))).toBe(true);
    for (const secret of [PASSPHRASE, RECOVERY_PASSPHRASE, MEMBER_PASSPHRASE, ROTATED_PASSPHRASE]) {
      const encoded = [secret, encodeURIComponent(secret), secret.replace(/ /g, '+'), JSON.stringify(secret).slice(1, -1)];
      for (const request of requests) for (const form of encoded) expect(request.includes(form), `a request carries a passphrase: ${request.slice(0, 200)}`).toBe(false);
    }
    expect(browser.problems).toEqual([]);
    expect(overflowing).toEqual([]);
  });
});
