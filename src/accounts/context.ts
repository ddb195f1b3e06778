import type { Kysely } from 'kysely';
import type { Config } from '../config/config.js';
import type { Database, Dialect } from '../db/database.js';
import type { Tables } from '../db/tables.js';
import type { AppContext } from '../server/context.js';
import { BasicAuthCache } from './basic-cache.js';
import { createMailer, type MailLog, type SendMail } from './mail.js';
import type { ThrottleLimits } from './throttle.js';

/** What the accounts services need: the database, settings, the server secret, mail, the Basic cache. */
export interface AccountsContext {
  readonly db: Kysely<Tables>;
  readonly dialect: Dialect;
  readonly config: Config;
  /** The server secret: keyed hashes (Basic cache, CSRF, throttle names) and TOTP sealing. */
  readonly secret: string;
  readonly sendMail: SendMail;
  readonly basicCache: BasicAuthCache;
  readonly accountLimits: ThrottleLimits;
  readonly addressLimits: ThrottleLimits;
}

export function createAccountsContext(database: Database, config: Config, log: MailLog): AccountsContext {
  if (config.secretKey === undefined) throw new Error('the server secret is not loaded (ensureSecretKey runs before the accounts module)');
  const throttle = config.loginThrottle;
  const lockMs = throttle.lockMinutes * 60_000;
  return {
    db: database.db,
    dialect: database.dialect,
    config,
    secret: config.secretKey,
    sendMail: createMailer(config.mail, log),
    basicCache: new BasicAuthCache(config.basicAuthCacheSeconds * 1000),
    accountLimits: { freeFailures: throttle.accountFreeFailures, lockFailures: throttle.accountLockFailures, lockMs },
    addressLimits: { freeFailures: throttle.addressFreeFailures, lockFailures: throttle.addressLockFailures, lockMs },
  };
}

/** One accounts context per running server (its Basic cache lives as long as the server). */
const perServer = new WeakMap<AppContext, AccountsContext>();

export function accountsOf(ctx: AppContext, log: MailLog): AccountsContext {
  let accounts = perServer.get(ctx);
  if (accounts === undefined) {
    accounts = createAccountsContext(ctx.database, ctx.config, log);
    perServer.set(ctx, accounts);
  }
  return accounts;
}
