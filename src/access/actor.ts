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
    };

export const anonymous: Actor = Object.freeze({ kind: 'anonymous' });
