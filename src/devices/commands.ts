import { Command } from 'commander';
import { COMMAND_LINE, recordId, wholeNumber, withDatabase } from '../cli/support.js';
import type { ConfigSources } from '../config/config.js';
import { MAX_EXPIRY_DAYS, createDevice, listDevices, revokeDevice } from './service.js';

/** `fieldkeep device …`: make and revoke phone credentials from the server's shell. */
export function deviceCommand(sources: () => ConfigSources): Command {
  const device = new Command('device').description('Collector tokens for phones (ODK Collect, KoboCollect).');
  device
    .command('create')
    .description("Create a device in a project and print its server URL (the token is inside it: treat it as a password).")
    .requiredOption('--project <id>', 'the project id', recordId)
    .requiredOption('--name <label>', 'a name people recognise, e.g. "Tablet 7"')
    .option('--expires-days <n>', `expire after N days (1 to ${MAX_EXPIRY_DAYS})`, wholeNumber(1, MAX_EXPIRY_DAYS))
    .action(async (options: { project: number; name: string; expiresDays?: number }) => {
      await withDatabase(sources, async ({ db }, config) => {
        const created = await createDevice(db, { publicUrl: config.publicUrl, secret: config.secretKey }, options.project, { label: options.name, expiresInDays: options.expiresDays }, COMMAND_LINE);
        console.log(created.serverUrl);
      });
    });
  device
    .command('revoke')
    .description('Revoke a device: its token stops working at once.')
    .requiredOption('--project <id>', 'the project id', recordId)
    .requiredOption('--device <id>', 'the device id (see `fieldkeep device list`)', recordId)
    .action(async (options: { project: number; device: number }) =>
      withDatabase(sources, async ({ db }) => {
        await revokeDevice(db, options.project, options.device, COMMAND_LINE);
        console.log(`device ${options.device} of project ${options.project} is revoked`);
      }),
    );
  device
    .command('list')
    .description("List a project's devices: id, state, last use, name.")
    .requiredOption('--project <id>', 'the project id', recordId)
    .action(async (options: { project: number }) =>
      withDatabase(sources, async ({ db }) => {
        for (const d of await listDevices(db, options.project)) console.log(`${d.id}\t${d.state}\t${d.lastUsedAt ?? 'never used'}\t${d.label}`);
      }),
    );
  return device;
}
