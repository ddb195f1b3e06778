import { Command, InvalidArgumentError } from 'commander';
import { withDatabase } from '../cli/support.js';
import type { ConfigSources } from '../config/config.js';
import { verifyAuditChain, type Anchor } from './verify.js';

/** `fieldkeep audit …`: commands that work on the audit log directly, with shell access to the server. */
export function auditCommand(sources: () => ConfigSources): Command {
  const audit = new Command('audit').description('Work with the tamper-evident audit log.');
  audit
    .command('verify')
    .description('Recompute the audit chain and report the first changed, removed or inserted entry; exit 0 only when intact.')
    .option('--anchor <id:hash>', 'an entry id and hash kept outside the database (from an "audit head" log line); repeatable', collectAnchor, [])
    .action(async (options: { anchor: Anchor[] }) =>
      withDatabase(sources, async (database) => {
        const report = await verifyAuditChain(database.db, options.anchor);
        if (report.intact) {
          console.log(`audit log intact: ${report.entries} entries; head ${report.head.id} ${report.head.hash}`);
          process.exitCode = 0;
        } else {
          console.log(`audit log NOT intact (${report.problem.kind} at entry ${report.problem.id}): ${report.problem.message}`);
          console.log(`${report.entries} entries before it verified`);
          process.exitCode = 1;
        }
      }),
    );
  return audit;
}

function collectAnchor(text: string, previous: Anchor[]): Anchor[] {
  const match = /^(\d+):([0-9a-f]{64})$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError('give an anchor as ID:HASH, e.g. 42:3f…(64 hex digits), as the "audit head" log line shows it');
  return [...previous, { id: Number(match[1]), hash: match[2]! }];
}
