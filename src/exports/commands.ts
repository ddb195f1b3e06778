import { createWriteStream } from 'node:fs';
import { rename, rm } from 'node:fs/promises';
import { Command, InvalidArgumentError, Option } from 'commander';
import { anonymous, loadProjectAccess } from '../access/index.js';
import { openBlobStore } from '../blobs/index.js';
import { recordId, withDatabase } from '../cli/support.js';
import type { ConfigSources } from '../config/config.js';
import { AppError } from '../server/errors.js';
import { exportFormats, type ExportFormat, type ExportOptionsInput } from './options.js';
import { prepareExport } from './service.js';

interface ExportCliOptions {
  project: number;
  form: string;
  format: ExportFormat;
  output: string;
  values?: 'xml' | 'labels';
  headers?: 'xml' | 'labels';
  language?: string;
  groupSeparator?: string;
  groupNames: boolean;
  selectMultiple?: 'summary' | 'details' | 'both';
  allVersions: boolean;
  fields?: string;
  from?: string;
  to?: string;
  includeDeleted?: boolean;
  reviewStatus?: string;
  geoField?: string;
  media: boolean;
}

const oneOf = (values: readonly string[]) => (text: string) => {
  if (!values.includes(text)) throw new InvalidArgumentError(`give one of ${values.join(', ')}`);
  return text;
};

/**
 * `fieldkeep export`: a form's submissions to a file from the server's shell, with a progress bar
 * on a terminal. The file appears under its name only once complete (written beside it, then
 * renamed), so a script never picks up half an export. Recorded in the audit log as the command line.
 */
export function exportCommand(sources: () => ConfigSources): Command {
  return new Command('export')
    .description("Export a form's submissions to a file (CSV, XLSX, GeoJSON, or a ZIP with media), with the options the API takes.")
    .requiredOption('--project <id>', 'the project id', recordId)
    .requiredOption('--form <xmlFormId>', 'the form id')
    .addOption(new Option('--format <format>', 'the file format').choices(exportFormats).makeOptionMandatory())
    .requiredOption('-o, --output <file>', 'where to write the export')
    .addOption(new Option('--values <kind>', 'answers as XML values or as labels').choices(['xml', 'labels']))
    .addOption(new Option('--headers <kind>', 'headers as field names or as labels').choices(['xml', 'labels']))
    .option('--language <name>', 'the labels\' language, as the form names it')
    .option('--group-separator <text>', 'joins group names in headers (default /)')
    .option('--no-group-names', 'leave the names of enclosing groups out of headers')
    .option('--select-multiple <how>', 'select_multiple as summary, details (0/1 per choice) or both', oneOf(['summary', 'details', 'both']))
    .option('--no-all-versions', 'columns of the current form version only')
    .option('--fields <paths>', 'comma-separated field paths to export')
    .option('--from <date>', 'submitted at or after (2024-05-01 or a time with its zone)')
    .option('--to <date>', 'submitted at or before (a date means the whole day)')
    .option('--include-deleted', 'also export submissions in the trash')
    .option('--review-status <list>', 'comma-separated: approved, not_approved, on_hold, none')
    .option('--geo-field <path>', 'GeoJSON: the geo question for the geometry')
    .option('--no-media', 'ZIP: leave the submitted files out')
    .action(async (options: ExportCliOptions) =>
      withDatabase(sources, async (database, config) => {
        const access = await loadProjectAccess(database.db, anonymous, options.project);
        if (access === undefined) throw new AppError('project.not_found', `There is no project ${options.project}.`);
        const scope = { ctx: { config, database, blobs: openBlobStore(config) }, access, source: {} };
        const prepared = await prepareExport(scope, options.form, options.format, optionsOf(options), 'command line');
        if (prepared.note !== null) console.error(`note: ${prepared.note}`);
        const total = await prepared.count();
        const { default: cliProgress } = await import('cli-progress');
        const bar = new cliProgress.SingleBar({ format: 'exporting [{bar}] {percentage}% | {value}/{total} submissions | {eta_formatted} left', stream: process.stderr }, cliProgress.Presets.shades_classic);
        bar.start(total, 0);
        const partial = `${options.output}.partial`;
        try {
          await prepared.write(createWriteStream(partial, { mode: 0o600 }), (done) => bar.update(done));
          await rename(partial, options.output);
        } catch (error) {
          await rm(partial, { force: true });
          throw error;
        } finally {
          bar.stop();
        }
        console.log(`exported ${total} submission(s) of ${options.form} to ${options.output}`);
      }),
    );
}

function optionsOf(cli: ExportCliOptions): ExportOptionsInput {
  const given: ExportOptionsInput = {
    values: cli.values,
    headers: cli.headers,
    language: cli.language,
    groupSeparator: cli.groupSeparator,
    groupNames: cli.groupNames,
    selectMultiple: cli.selectMultiple,
    allVersions: cli.allVersions,
    fields: cli.fields,
    from: cli.from,
    to: cli.to,
    includeDeleted: cli.includeDeleted,
    reviewStatus: cli.reviewStatus,
    geoField: cli.geoField,
    media: cli.media,
  };
  return Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)) as ExportOptionsInput;
}
