// camgate/v1/{site}/cameras/{camera}/status: retained, QoS 1, the latest health of one camera (docs/health.md).
import { Type, type Static } from '@sinclair/typebox';
import { CameraIdField, DateTime, Dictionary, Enum, envelopeFields, Nullable } from '../fields';
import { envelope, type Moment, type Unsequenced } from '../envelope';

export const CAMERA_STATES = ['unknown', 'online', 'offline', 'degraded'] as const;
export type CameraState = (typeof CAMERA_STATES)[number];

/** Why one check failed: a short code and one line for people (never a password). */
export const CheckErrorSchema = Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: false });
export type CheckError = Static<typeof CheckErrorSchema>;

/** The last result of one kind of check. */
export const CheckStatusSchema = Type.Object(
  {
    ok: Type.Boolean(),
    latencyMs: Nullable(Type.Number()),
    checkedAt: DateTime(),
    error: Type.Optional(CheckErrorSchema),
  },
  { additionalProperties: false },
);
export type CheckStatus = Static<typeof CheckStatusSchema>;

export const StreamStatusSchema = Type.Object(
  {
    stream: Enum(['main', 'sub'] as const),
    ok: Type.Boolean(),
    latencyMs: Nullable(Type.Number()),
    checkedAt: DateTime(),
    codec: Nullable(Type.String()),
    width: Nullable(Type.Number()),
    height: Nullable(Type.Number()),
    error: Type.Optional(CheckErrorSchema),
  },
  { additionalProperties: false },
);
export type StreamStatus = Static<typeof StreamStatusSchema>;

export const PictureStatusSchema = Type.Object(
  {
    ok: Type.Boolean({ description: 'No fault is reported: the picture was obtained and no fault has been confirmed.' }),
    faults: Type.Array(Type.String(), {
      description:
        'Reported faults (black, frozen, blurred, occluded, colour-cast, no-video, scene-change, overexposed, noise, stripes, shaking), or no-picture when none could be obtained (error says why). A fault is reported once health.picture.confirmProbes probes in a row have found it (docs/health.md).',
    }),
    unconfirmed: Type.Optional(
      Type.Array(Type.String(), {
        description: 'Faults the latest probe found that are not confirmed yet (not in faults, no alarm); the confirming probe follows soon.',
      }),
    ),
    checkedAt: DateTime(),
    scores: Type.Optional(Dictionary(Type.Number(), { description: 'One score per fault (scale per fault in docs/health.md), for tuning at the central.' })),
    source: Type.Optional(Nullable(Enum(['stream', 'snapshot'] as const))),
    error: Type.Optional(CheckErrorSchema),
    thumbnail: Type.Optional(
      Nullable(
        Type.Object(
          { bytes: Type.Integer({ minimum: 0 }), takenAt: DateTime() },
          { additionalProperties: false, description: 'The latest thumbnail (fetch it with the thumbnail command).' },
        ),
      ),
    ),
    reference: Type.Optional(
      Nullable(
        Type.Object(
          {
            takenAt: DateTime(),
            origin: Enum(['first-good-probe', 'command'] as const, {
              description:
                'first-good-probe: taken by the agent from the first probe without a fault (to be confirmed by the installer); command: set or renewed by a person.',
            }),
          },
          {
            additionalProperties: false,
            description:
              "The camera's picture reference: blur, noise, stripes and overexposure are judged against it and scene-change is judged at all (docs/health.md); null: none yet. See it with the picture-reference command.",
          },
        ),
      ),
    ),
  },
  { additionalProperties: false },
);
export type PictureStatus = Static<typeof PictureStatusSchema>;

const cameraStatusFields = {
  camera: CameraIdField,
  state: Enum(CAMERA_STATES),
  since: Nullable(DateTime(), { description: 'Since when the camera is in this state, when known.' }),
  lastSeen: Nullable(DateTime(), { description: 'Last time the agent heard from the device, when known.' }),
  clockOffsetMs: Nullable(Type.Number(), { description: 'Device clock minus box clock, ms, when measured.' }),
  picture: Nullable(PictureStatusSchema, { description: 'Picture check result; null until the first picture probe.' }),
  reason: Type.Optional(Nullable(Type.String(), { description: 'Why the camera is offline or degraded, one line; null when online or unknown.' })),
  flapping: Type.Optional(Type.Boolean({ description: 'Changing state too often: transition events are held back (docs/health.md).' })),
  reach: Type.Optional(Nullable(CheckStatusSchema, { description: 'TCP reachability of the device.' })),
  onvif: Type.Optional(Nullable(CheckStatusSchema, { description: 'ONVIF answers (GetSystemDateAndTime); absent for RTSP-only devices.' })),
  streams: Type.Optional(Type.Array(StreamStatusSchema, { description: 'RTSP DESCRIBE of the main and sub stream.' })),
};

/** Health of one camera (the status payload without its envelope). */
export const CameraStatusSchema = Type.Object(cameraStatusFields, { additionalProperties: false });
export type CameraStatus = Static<typeof CameraStatusSchema>;

export const StatusPayloadSchema = Type.Object(
  { ...envelopeFields('status', 'outbox'), ...cameraStatusFields },
  {
    title: 'camgate/v1/{site}/cameras/{camera}/status',
    description: 'Retained, QoS 1: latest health of one camera (docs/health.md). Connect-time statuses carry seq null.',
    additionalProperties: false,
  },
);
export type StatusPayload = Static<typeof StatusPayloadSchema>;

export function statusPayload(site: string, status: CameraStatus, observedAt: Moment): Unsequenced<StatusPayload> {
  return envelope('status', site, observedAt, { ...status });
}
