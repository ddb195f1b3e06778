import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import { anonymous, loadProjectAccess } from '../access/index.js';
import { openBlobStore } from '../blobs/index.js';
import { recordId, withDatabase } from '../cli/support.js';
import type { ConfigSources } from '../config/config.js';
import { AppError } from '../server/errors.js';
import { createForm } from './service.js';

/** `fieldkeep form …`: put forms on the server from its shell (set-up scripts, tests, migrations). */
export function formCommand(sources: () => ConfigSources): Command {
  const form = new Command('form').description('Upload forms from the command line.');
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
  return form;
}
