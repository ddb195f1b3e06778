import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { anonymous, loadProjectAccess } from '../access/index.js';
import { openBlobStore } from '../blobs/index.js';
import { COMMAND_LINE, recordId, wholeNumber, withDatabase } from '../cli/support.js';
import type { ConfigSources } from '../config/config.js';
import { AppError } from '../server/errors.js';
import { createPublicLink, MAX_PUBLIC_LINK_DAYS } from '../public-links/index.js';
import { fillUrl } from '../web/fill-url.js';
import { createForm, getForm } from './service.js';

/** `fieldkeep form …`: put forms on the server from its shell (set-up scripts, tests, migrations), and print their fill addresses. */
export function formCommand(sources: () => ConfigSources): Command {
  const form = new Command('form').description('Upload forms and print where they are filled in a browser.');
  form
    .command('upload')
    .description('Upload an XLSForm or XForm to a project as a draft (or published with --publish) and print the form id.')
    .requiredOption('--project <id>', 'the project id', recordId)
    .option('--publish', 'publish it at once instead of leaving a draft')
    .argument('<file>', 'the XLSForm (.xlsx, .xls) or XForm (.xml)')
    .action(async (file: string, options: { project: number; publish?: boolean }) =>
      withDatabase(sources, async (database, config) => {
        // Command-line uploads are recorded in the audit log as the system, with no person attached.
        const access = await loadProjectAccess(database.db, anonymous, options.project);
        if (access === undefined) throw new AppError('project.not_found', `There is no project ${options.project}.`);
        const scope = { ctx: { config, database, blobs: openBlobStore(config) }, access, source: {} };
        const upload = { bytes: await readFile(file), fileName: path.basename(file) };
        const result = await createForm(scope, upload, { publish: options.publish ?? false });
        for (const warning of result.warnings) console.error(`warning: ${warning.message}`);
        console.log(result.form.xml_form_id);
      }),
    );
  form
    .command('link')
    .description("Print the web address where the form is filled in a browser: for the project's members, or with --public a new public link's, which needs no account.")
    .requiredOption('--project <id>', 'the project id', recordId)
    .requiredOption('--form <formId>', "the form's id")
    .option('--public', 'create a public link to the form and print its address (it holds the link: share it as you would a password)')
    .option('--single', 'with --public: the link takes one submission and then stops working')
    .option('--label <text>', 'with --public: where the link is handed out', 'Command line')
    .option('--expires-days <n>', `with --public: the link expires after N days (1 to ${MAX_PUBLIC_LINK_DAYS})`, wholeNumber(1, MAX_PUBLIC_LINK_DAYS))
    .action(async (options: { project: number; form: string; public?: boolean; single?: boolean; label: string; expiresDays?: number }) => {
      if (options.public !== true && (options.single === true || options.expiresDays !== undefined)) {
        throw new AppError('request.invalid', '--single and --expires-days describe a public link: add --public.');
      }
      await withDatabase(sources, async (database, config) => {
        const access = await loadProjectAccess(database.db, anonymous, options.project);
        if (access === undefined) throw new AppError('project.not_found', `There is no project ${options.project}.`);
        const scope = { ctx: { config, database, blobs: openBlobStore(config) }, access, source: {} };
        const found = await getForm(scope, options.form);
        // A page for a form with nothing published would only show an error to whoever opens it.
        if (found.published_version_id === null) throw new AppError('form.not_published', `Form ${JSON.stringify(found.xml_form_id)} has no published version yet: publish it first.`);
        if (options.public !== true) {
          console.log(fillUrl(config.publicUrl, options.project, found.xml_form_id));
          return;
        }
        const created = await createPublicLink(database.db, config.publicUrl, access, found.xml_form_id, { label: options.label, once: options.single === true, expiresInDays: options.expiresDays }, COMMAND_LINE);
        console.log(created.fillUrl);
      });
    });
  return form;
}
