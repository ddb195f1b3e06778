import type { FastifyBaseLogger, FastifyInstance } from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { Config } from '../config/config.js';
import type { Database } from '../db/database.js';
import type { BlobStore } from '../blobs/index.js';
import type { RoutePermission } from '../access/permissions.js';
import type { Actor } from '../access/actor.js';

/** What every domain's routes and services are given: settings, the database and blob storage; nothing global. */
export interface AppContext {
  readonly config: Config;
  readonly database: Database;
  readonly blobs: BlobStore;
}

export type App = FastifyInstance<Server, IncomingMessage, ServerResponse, FastifyBaseLogger, TypeBoxTypeProvider>;

declare module 'fastify' {
  interface FastifyRequest {
    /** Who is asking; anonymous until an authentication hook says otherwise. */
    actor: Actor;
  }
  interface FastifyContextConfig {
    /** Declared by every route; the server refuses to start if one is missing. */
    permission?: RoutePermission;
  }
}
