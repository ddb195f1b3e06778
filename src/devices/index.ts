/**
 * Public API of devices: collector credentials for phones. The service (create, list, revoke,
 * check a token), the authentication hook the server runs first, the routes, the `device`
 * command, and the Collect settings QR payload.
 */
export { MAX_DEVICE_LABEL, MAX_EXPIRY_DAYS, checkDeviceToken, createDevice, listDevices, revokeDevice, showDeviceSettings } from './service.js';
export type { DeviceActor, DeviceIssuer, DeviceRequest, DeviceSource, DeviceState, DeviceTokenCheck, DeviceView, NewDevice } from './service.js';
export { collectSettings, collectSettingsPayload, deviceServerUrl } from './collect-settings.js';
export type { CollectSettings } from './collect-settings.js';
export { deviceAuthentication } from './authenticate.js';
export { deviceRoutes } from './routes.js';
export { deviceCommand } from './commands.js';
