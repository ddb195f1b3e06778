/*
 * `fieldkeep xlsform convert` and `fieldkeep xlsform check`: the file IO around the pure
 * converter. Problems are printed one per line with the sheet and row a user must go to;
 * either command exits 1 when the form cannot be converted, so scripts and CI can rely on it.
 */
import { readFile, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { Command } from 'commander';
import type { XlsFormIssue } from './index.js';
import { defaultReadLimits } from './workbook/limits.js';

interface Outcome {
  xform?: string;
  warnings: XlsFormIssue[];
  errors: XlsFormIssue[];
}

/** Why a file could not be read, in words, for the errors Node reports by code. */
function unreadable(file: string, err: unknown): XlsFormIssue {
  const reason: Record<string, string> = {
    ENOENT: 'there is no such file; check the path',
    EISDIR: 'it is a directory, not a file',
    EACCES: 'permission denied',
  };
  const known = reason[(err as NodeJS.ErrnoException).code ?? ''];
  return { code: 'xlsform.unreadable_file', message: `Cannot read "${file}": ${known ?? (err as Error).message}.` };
}

async function readForm(file: string): Promise<Uint8Array | XlsFormIssue> {
  try {
    // Checked before reading so an enormous file is refused without loading it into memory.
    const { size } = await stat(file);
    if (size > defaultReadLimits.maxBytes) {
      return { code: 'xlsform.too_large', message: `"${file}" is ${size} bytes, more than the ${defaultReadLimits.maxBytes}-byte limit for a form. Remove unused sheets and media from the workbook.` };
    }
    return await readFile(file);
  } catch (err) {
    return unreadable(file, err);
  }
}

async function convertFile(file: string): Promise<Outcome> {
  const bytes = await readForm(file);
  if (!(bytes instanceof Uint8Array)) return { warnings: [], errors: [bytes] };
  // The converter is loaded when used: every other command, `serve` included, does without it.
  const { convertXlsForm } = await import('./index.js');
  const { xform, warnings, errors } = await convertXlsForm(bytes, path.basename(file));
  return errors.length > 0 ? { warnings, errors } : { xform, warnings, errors };
}

function formatIssue(severity: 'error' | 'warning', issue: XlsFormIssue): string {
  const location = [issue.sheet !== undefined ? `sheet "${issue.sheet}"` : '', issue.row !== undefined ? `row ${issue.row}` : '']
    .filter(Boolean)
    .join(', ');
  return `${severity}${location ? ` (${location})` : ''}: ${issue.message} [${issue.code}]`;
}

function report(outcome: Outcome, print: (line: string) => void): void {
  for (const error of outcome.errors) print(formatIssue('error', error));
  for (const warning of outcome.warnings) print(formatIssue('warning', warning));
}

const plural = (count: number, noun: string): string => `${count} ${noun}${count === 1 ? '' : 's'}`;

export function xlsformCommand(): Command {
  const xlsform = new Command('xlsform').description('Convert and check XLSForms (.xlsx, .xls) without a server.');

  xlsform
    .command('convert')
    .description('Convert an XLSForm to an XForm; the XForm goes to standard output unless -o is given.')
    .argument('<form>', 'the XLSForm file')
    .option('-o, --output <file>', 'write the XForm to this file')
    .action(async (form: string, options: { output?: string }) => {
      const outcome = await convertFile(form);
      report(outcome, (line) => console.error(line));
      if (outcome.xform === undefined) {
        process.exitCode = 1;
        return;
      }
      const xform = outcome.xform.endsWith('\n') ? outcome.xform : `${outcome.xform}\n`;
      if (options.output === undefined) {
        process.stdout.write(xform);
        return;
      }
      await writeFile(options.output, xform);
      console.log(`${form} → ${options.output} (${plural(outcome.warnings.length, 'warning')})`);
    });

  xlsform
    .command('check')
    .description('Check an XLSForm and list its errors and warnings with sheet and row; exits 1 if it has errors.')
    .argument('<form>', 'the XLSForm file')
    .action(async (form: string) => {
      const outcome = await convertFile(form);
      report(outcome, (line) => console.log(line));
      console.log(`${form}: ${plural(outcome.errors.length, 'error')}, ${plural(outcome.warnings.length, 'warning')}`);
      process.exitCode = outcome.errors.length > 0 ? 1 : 0;
    });

  return xlsform;
}
