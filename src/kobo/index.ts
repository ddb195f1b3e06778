/** Public API of the KoBoToolbox API v2 compatibility layer: its routes, and how a form's asset uid is made. */
export { koboRoutes } from './routes.js';
export { assetUid } from './assets.js';
