import { Command, InvalidArgumentError } from 'commander';
import { createMailer } from '../accounts/index.js';
import { COMMAND_LINE, recordId, wholeNumber, withDatabase } from '../cli/support.js';
import type { Config, ConfigSources } from '../config/config.js';
import { isProjectRole, type ProjectRole } from '../access/verbs.js';
import { createLogger } from '../server/logger.js';
import { grantEmergencyAccess, type EmergencyGrantOutcome } from './emergency.js';
import { findMember } from './queries.js';
import { createProject } from './service.js';
import { activeUser, addMember, changeMember, type AssignableRole } from './sharing.js';

/** `fieldkeep project …`: scriptable project set-up from the server's shell. */
export function projectCommand(sources: () => ConfigSources): Command {
  const project = new Command('project').description('Create and share projects from the command line.');
  project
    .command('create')
    .description('Create a project owned by USER and print its id.')
    .requiredOption('--name <name>', "the project's name")
    .requiredOption('--owner <username>', 'the account that will own it')
    .option('--description <text>', 'a description', '')
    .action(async (options: { name: string; owner: string; description: string }) =>
      withDatabase(sources, async ({ db }) => {
        const owner = await activeUser(db, options.owner);
        console.log(await createProject(db, owner.id, { name: options.name, description: options.description }, COMMAND_LINE));
      }),
    );
  project
    .command('share')
    .description("Give USER a role in a project, or change the role they have.")
    .requiredOption('--project <id>', 'the project id', recordId)
    .requiredOption('--user <username>', 'the account to share with')
    .requiredOption('--role <role>', 'manager, editor, viewer, reviewer or collector', assignableRole)
    .action(async (options: { project: number; user: string; role: AssignableRole }) =>
      withDatabase(sources, async ({ db }) => {
        const user = await activeUser(db, options.user);
        if ((await findMember(db, options.project, user.id)) === undefined) {
          await addMember(db, options.project, { username: options.user, role: options.role }, COMMAND_LINE);
        } else {
          await changeMember(db, options.project, user.id, { role: options.role }, COMMAND_LINE);
        }
        console.log(`${user.username} is now ${options.role} in project ${options.project}`);
      }),
    );
  return project;
}

/** `fieldkeep access …`: what only someone with shell access to the server may do. */
export function accessCommand(sources: () => ConfigSources): Command {
  const access = new Command('access').description('Emergency access to a project (audited, time-limited, shown to its owner).');
  access
    .command('grant-emergency')
    .description("Give USER a time-limited role in a project without its owner's grant; written to the audit log and shown to the owner.")
    .requiredOption('--project <id>', 'the project id', recordId)
    .requiredOption('--user <username>', 'who gets access')
    .requiredOption('--reason <text>', 'why (recorded in the audit log and shown to the owner)')
    .requiredOption('--hours <n>', 'how long, 1 to 168', wholeNumber(1, 168))
    .option('--role <role>', 'the role given', anyRole, 'viewer' as ProjectRole)
    .action(async (options: { project: number; user: string; reason: string; hours: number; role: ProjectRole }) => {
      await withDatabase(sources, async ({ db }, config) => {
        const outcome = await grantEmergencyAccess(db, { projectId: options.project, username: options.user, role: options.role, reason: options.reason, hours: options.hours });
        console.log(`emergency ${options.role} access for ${options.user} to project ${options.project} until ${outcome.expiresAt}`);
        await tellOwner(config, outcome, options);
      });
    });
  return access;
}

/**
 * The owner sees the grant on the project until it expires; this is the immediate notice: an
 * email through the accounts mailer (which writes it to the log when no SMTP server is set), or,
 * for an owner without an email address, a warning in the log for the operator to pass on.
 */
async function tellOwner(config: Config, outcome: EmergencyGrantOutcome, grant: { project: number; user: string; reason: string; role: string }): Promise<void> {
  // Written at info whatever the log level: this notice must reach the operator.
  const logger = createLogger('info');
  const notice = { projectId: grant.project, grantee: grant.user, role: grant.role, reason: grant.reason, expiresAt: outcome.expiresAt };
  if (outcome.owner.email === null) {
    logger.warn({ emergencyAccess: notice, owner: outcome.owner.username }, 'emergency access granted; the owner has no email address: tell them');
    return;
  }
  await createMailer(config.mail, logger)({
    to: outcome.owner.email,
    subject: `Emergency access to your Fieldkeep project ${grant.project}`,
    text: [
      `${grant.user} was given emergency ${grant.role} access to your project ${grant.project} from the server's command line.`,
      `Reason given: ${grant.reason}`,
      `It ends at ${outcome.expiresAt} (UTC). It is recorded in the project's audit log and shown on the project until then.`,
    ].join('\n\n'),
  });
}

function anyRole(text: string): ProjectRole {
  if (!isProjectRole(text)) throw new InvalidArgumentError('give owner, manager, editor, viewer, reviewer or collector');
  return text;
}

function assignableRole(text: string): AssignableRole {
  const role = anyRole(text);
  if (role === 'owner') throw new InvalidArgumentError('ownership moves only by transfer; give manager, editor, viewer, reviewer or collector');
  return role;
}
