import { Type } from 'typebox';
import { projectAccessOf } from '../access/index.js';
import { auditSource } from '../audit/index.js';
import type { App, AppContext } from '../server/context.js';
import { MAX_DEVICE_LABEL, MAX_EXPIRY_DAYS, createDevice, listDevices, revokeDevice, showDeviceSettings } from './service.js';

const ProjectParams = Type.Object({ projectId: Type.Integer({ minimum: 1 }) });
const DeviceParams = Type.Object({ projectId: Type.Integer({ minimum: 1 }), deviceId: Type.Integer({ minimum: 1 }) });

const DeviceView = Type.Object({
  id: Type.Integer(),
  label: Type.String(),
  state: Type.Union([Type.Literal('active'), Type.Literal('expired'), Type.Literal('revoked')]),
  createdAt: Type.String(),
  createdBy: Type.Union([Type.String(), Type.Null()]),
  expiresAt: Type.Union([Type.String(), Type.Null()]),
  revokedAt: Type.Union([Type.String(), Type.Null()]),
  lastUsedAt: Type.Union([Type.String(), Type.Null()]),
  settingsAvailable: Type.Boolean({ description: 'Whether …/devices/{id}/settings can show its server URL and QR code again.' }),
});
const NewDevice = Type.Object({
  device: DeviceView,
  token: Type.String({ description: 'The device token (fk_dev_…); kept on the server only as its hash and sealed under the server secret.' }),
  serverUrl: Type.String({ description: 'The server URL to give ODK Collect or KoboCollect; it contains the token.' }),
  collectSettings: Type.String({ description: 'The text of the ODK Collect settings QR code: base64 of zlib-compressed settings JSON.' }),
  qrSvg: Type.String({ description: 'That QR code as an SVG image, for the phone to scan.' }),
});
const CreateBody = Type.Object(
  {
    label: Type.String({ minLength: 1, maxLength: MAX_DEVICE_LABEL, description: 'A name people recognise, e.g. "Tablet 7 (Amina)".' }),
    expiresInDays: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_EXPIRY_DAYS })),
  },
  { additionalProperties: false },
);

/** Devices: collector credentials for phones, managed by whoever may share the project. */
export function deviceRoutes(app: App, ctx: AppContext): void {
  const db = ctx.database.db;
  const issuer = { publicUrl: ctx.config.publicUrl, secret: ctx.config.secretKey };
  const base = '/api/v1/projects/:projectId/devices';
  const tags = ['devices'];

  app.get(
    base,
    { config: { permission: 'project.share' }, schema: { tags, summary: "The project's devices, revoked and expired ones included.", params: ProjectParams, response: { 200: Type.Array(DeviceView) } } },
    async (request) => listDevices(db, projectAccessOf(request).projectId),
  );

  app.post(
    base,
    {
      config: { permission: 'project.share' },
      schema: { tags, summary: 'Create a device: a collector token for one phone, with its server URL and Collect QR code.', params: ProjectParams, body: CreateBody, response: { 201: NewDevice } },
    },
    async (request, reply) => {
      const created = await createDevice(db, issuer, projectAccessOf(request).projectId, request.body, auditSource(request));
      return reply.status(201).header('cache-control', 'no-store').send(created);
    },
  );

  app.get(
    `${base}/:deviceId/settings`,
    {
      config: { permission: 'project.share' },
      schema: { tags, summary: "An active device's server URL and Collect QR code, shown again (each showing is audited).", params: DeviceParams, response: { 200: NewDevice } },
    },
    async (request, reply) => {
      const shown = await showDeviceSettings(db, issuer, projectAccessOf(request).projectId, request.params.deviceId, auditSource(request));
      return reply.header('cache-control', 'no-store').send(shown);
    },
  );

  app.delete(
    `${base}/:deviceId`,
    { config: { permission: 'project.share' }, schema: { tags, summary: 'Revoke a device: its token stops working at once.', params: DeviceParams, response: { 204: Type.Null() } } },
    async (request, reply) => {
      await revokeDevice(db, projectAccessOf(request).projectId, request.params.deviceId, auditSource(request));
      return reply.status(204).send(null);
    },
  );
}
