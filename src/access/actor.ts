/**
 * Who is making a request, as every service and policy check sees it. Set on each request by the
 * authentication hook (accounts), read by the one authorisation hook (access) and by services,
 * which take it as the first part of their scope.
 */
export type Actor =
  | { kind: 'anonymous' }
  | {
      kind: 'user';
      userId: number;
      username: string;
      isAdmin: boolean;
      /** How this request proved who it is. */
      credential: 'session' | 'api_token' | 'basic';
      /** API tokens may be read-only; sessions and Basic are always read-write. */
      scope: 'read' | 'write';
    }
  | {
      kind: 'device';
      deviceId: number;
      projectId: number;
      label: string;
    }
  | {
      /**
       * Whoever holds a public link (`/key/fk_pub_…/projects/<id>`): anonymous, and confined to
       * one form of one project, which it may download and submit to.
       */
      kind: 'public_link';
      linkId: number;
      projectId: number;
      xmlFormId: string;
      /** A single-use link stops working once it has made a submission. */
      once: boolean;
      label: string;
    };

export const anonymous: Actor = Object.freeze({ kind: 'anonymous' });

/** The id records keep of an actor: the account, device or public link (none for anonymous). */
export function actorIdOf(actor: Actor): number | null {
  switch (actor.kind) {
    case 'user':
      return actor.userId;
    case 'device':
      return actor.deviceId;
    case 'public_link':
      return actor.linkId;
    case 'anonymous':
      return null;
  }
}

/** The name records keep of an actor, for people reading them. */
export function actorLabelOf(actor: Actor): string | null {
  switch (actor.kind) {
    case 'user':
      return actor.username;
    case 'device':
    case 'public_link':
      return actor.label;
    case 'anonymous':
      return null;
  }
}
