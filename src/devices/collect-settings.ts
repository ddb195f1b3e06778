/**
 * The settings ODK Collect (and KoboCollect) import from a scanned QR code, as Collect reads them
 * (its `client-settings.schema.json` and `SettingsImporter`): a JSON object that must have
 * `general` and `admin` objects and may have `project` (name, icon, color); the text in the code
 * is that JSON, zlib-compressed (RFC 1950, what Java's `Inflater()` expects) and base64-encoded.
 *
 * The device token rides inside `server_url` (`…/key/<token>/projects/<id>`), so username and
 * password are empty: the phone never holds a person's password. Pure: values in, text out.
 */
import { deflateSync } from 'node:zlib';

export interface CollectSettings {
  general: { server_url: string; username: string; password: string };
  admin: Record<string, never>;
  project: { name: string };
}

export function collectSettings(serverUrl: string, projectName: string): CollectSettings {
  return { general: { server_url: serverUrl, username: '', password: '' }, admin: {}, project: { name: projectName } };
}

/** The text a settings QR code carries: base64 of the zlib-compressed JSON. */
export function collectSettingsPayload(settings: CollectSettings): string {
  return deflateSync(Buffer.from(JSON.stringify(settings), 'utf8')).toString('base64');
}

/** A device's server URL, which Collect appends `/formList` and `/submission` to. */
export function deviceServerUrl(publicUrl: string, token: string, projectId: number): string {
  return `${publicUrl}/key/${token}/projects/${projectId}`;
}
