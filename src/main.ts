#!/usr/bin/env node
import { Command } from 'commander';
import { ConfigError, loadConfig } from './config/config.js';
import { runDoctor } from './config/doctor.js';
import { migrateToLatest, migrationStatus, openDatabase } from './db/database.js';
import { startServer, stopOnSignals } from './server/start.js';
import { tokenCommand, userCommand } from './accounts/commands.js';
import { auditCommand } from './audit/index.js';
import { accessCommand, projectCommand } from './projects/index.js';
import { xlsformCommand } from './xlsform/commands.js';
import { deviceCommand } from './devices/index.js';
import { formCommand } from './forms/commands.js';
import { submissionsCommand } from './submissions/commands.js';
import { exportCommand } from './exports/index.js';
import { backupCommand } from './backups/index.js';
import { decryptCommand } from './decrypt/commands.js';
import { blobsCommand, masterKeyCommand } from './blobs/index.js';

const sources = () => ({ env: process.env, cwd: process.cwd() });

const program = new Command()
  .name('fieldkeep')
  .description('Fieldkeep: a field data collection server that proves your data is safe.')
  .showHelpAfterError();

program
  .command('serve')
  .description('Run the HTTP server (migrates the database first).')
  .action(async () => {
    const config = loadConfig(sources());
    const server = await startServer(config);
    stopOnSignals(server, config.shutdownTimeoutMs);
  });

program
  .command('migrate')
  .description('Bring the database schema up to date and exit.')
  .option('--status', 'only show which migrations are applied and pending')
  .action(async (options: { status?: boolean }) => {
    const database = openDatabase(loadConfig(sources()));
    try {
      if (options.status) {
        const status = await migrationStatus(database);
        for (const name of status.applied) console.log(`applied  ${name}`);
        for (const name of status.pending) console.log(`pending  ${name}`);
      } else {
        const { applied } = await migrateToLatest(database);
        console.log(applied.length > 0 ? `applied ${applied.join(', ')}` : 'the schema was already current');
      }
    } finally {
      await database.close();
    }
  });

program
  .command('doctor')
  .description('Check the configuration, data directory, master key, TLS and database, and say how to fix what is wrong.')
  .action(async () => {
    const checks = await runDoctor(sources());
    for (const check of checks) {
      console.log(`${check.ok ? (check.warning ? 'WARN' : 'ok  ') : 'FAIL'}  ${check.name}: ${check.detail}`);
      if (check.fix) console.log(`      fix: ${check.fix}`);
    }
    process.exitCode = checks.every((c) => c.ok) ? 0 : 1;
  });

program.addCommand(auditCommand(sources));
program.addCommand(userCommand(sources));
program.addCommand(tokenCommand(sources));
program.addCommand(projectCommand(sources));
program.addCommand(accessCommand(sources));
program.addCommand(xlsformCommand());
program.addCommand(formCommand(sources));
program.addCommand(deviceCommand(sources));
program.addCommand(submissionsCommand(sources));
program.addCommand(exportCommand(sources));
program.addCommand(backupCommand(sources));
program.addCommand(decryptCommand());
program.addCommand(masterKeyCommand(sources));
program.addCommand(blobsCommand(sources));

program.parseAsync(process.argv).catch((err: unknown) => {
  if (err instanceof ConfigError) {
    console.error(err.message);
    process.exit(2);
  }
  console.error(err instanceof Error ? err.message : err);
  process.exit(1);
});
