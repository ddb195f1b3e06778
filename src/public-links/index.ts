/**
 * Public API of public links: anonymous submission to one form, optionally single-use. The
 * service (create, list, revoke, check a token, spend a single-use link inside a submission's
 * transaction) and the routes. The `/key/<token>/` path hook (src/devices) resolves the tokens.
 */
export {
  MAX_PUBLIC_LINK_DAYS,
  MAX_PUBLIC_LINK_LABEL,
  checkPublicLinkToken,
  consumePublicLinkUse,
  createPublicLink,
  listPublicLinks,
  publicLinkRefusal,
  revokePublicLink,
} from './service.js';
export type {
  NewPublicLink,
  PublicLinkActor,
  PublicLinkRefusalReason,
  PublicLinkRequest,
  PublicLinkScope,
  PublicLinkSource,
  PublicLinkState,
  PublicLinkTokenCheck,
  PublicLinkView,
} from './service.js';
export { publicLinkRoutes } from './routes.js';
