// camgate/v1/{site}/cameras/{camera}/meta: retained ledger record of one camera, never a secret.
import { Type, type Static } from '@sinclair/typebox';
import { CameraClass, CameraIdField, Enum, envelopeFields, Nullable } from '../fields';
import { envelope, type Moment, type Unsequenced } from '../envelope';

/** A URI that carries user:password@ does not match: the contract refuses credentials on the wire. */
const NO_USERINFO = '^(?![^:]+://[^/]*@)';

export const MetaProfileSchema = Type.Object(
  {
    token: Type.String(),
    name: Type.Optional(Type.String()),
    codec: Type.Optional(Type.String()),
    width: Type.Optional(Type.Integer()),
    height: Type.Optional(Type.Integer()),
    fps: Type.Optional(Type.Number()),
    bitrateKbps: Type.Optional(Type.Number()),
    videoSourceToken: Type.Optional(Type.String()),
    streamUri: Type.Optional(Type.String({ pattern: NO_USERINFO, description: 'never carries credentials' })),
    snapshotUri: Type.Optional(Type.String({ pattern: NO_USERINFO, description: 'never carries credentials' })),
  },
  { additionalProperties: false },
);
export type MetaProfile = Static<typeof MetaProfileSchema>;

export const MetaDeviceSchema = Type.Object(
  {
    id: Type.String(),
    driver: Enum(['onvif', 'rtsp'] as const),
    source: Type.Optional(Enum(['discovered', 'added'] as const)),
    host: Type.String(),
    port: Type.Integer(),
    url: Type.String({ pattern: NO_USERINFO }),
    endpointUuid: Type.Optional(Nullable(Type.String())),
    manufacturer: Type.Optional(Nullable(Type.String())),
    model: Type.Optional(Nullable(Type.String())),
    firmware: Type.Optional(Nullable(Type.String())),
    serial: Type.Optional(Nullable(Type.String())),
    hardwareId: Type.Optional(Nullable(Type.String())),
    mac: Type.Optional(Nullable(Type.String())),
    isNvr: Type.Optional(Type.Boolean()),
    clockOffsetMs: Type.Optional(Nullable(Type.Number())),
    scopes: Type.Optional(Type.Array(Type.String())),
    firstSeen: Type.Optional(Type.String()),
    lastSeen: Type.Optional(Type.String()),
    hasCredentials: Type.Boolean(),
  },
  { additionalProperties: false },
);

/** The ledger fields of one camera (the meta payload without its envelope). */
const cameraMetaFields = {
  camera: CameraIdField,
  deviceId: Type.String(),
  channel: Type.Integer({ minimum: 1 }),
  name: Nullable(Type.String()),
  class: Nullable(CameraClass),
  latitude: Nullable(Type.Number({ minimum: -90, maximum: 90 })),
  longitude: Nullable(Type.Number({ minimum: -180, maximum: 180 })),
  region: Nullable(Type.String()),
  owner: Type.Optional(Nullable(Type.String())),
  notes: Type.Optional(Nullable(Type.String())),
  installDate: Type.Optional(Nullable(Type.String({ pattern: '^\\d{4}-\\d{2}-\\d{2}$' }))),
  videoSourceToken: Type.Optional(Nullable(Type.String())),
  profiles: Type.Array(MetaProfileSchema),
  createdAt: Type.Optional(Type.String()),
  updatedAt: Type.Optional(Type.String()),
  device: MetaDeviceSchema,
};
export const CameraMetaSchema = Type.Object(cameraMetaFields, { additionalProperties: false });
export type CameraMeta = Static<typeof CameraMetaSchema>;

export const MetaPayloadSchema = Type.Object(
  { ...envelopeFields('meta', 'outbox'), ...cameraMetaFields },
  {
    title: 'camgate/v1/{site}/cameras/{camera}/meta',
    description:
      'Retained ledger record of one camera: labels, device identity, profiles. Never carries secrets (stored credentials show only as hasCredentials).',
    additionalProperties: false,
  },
);
export type MetaPayload = Static<typeof MetaPayloadSchema>;

export function metaPayload(site: string, meta: CameraMeta, observedAt: Moment): Unsequenced<MetaPayload> {
  return envelope('meta', site, observedAt, meta);
}
