// Commands from the central: camgate/v1/{site}/cmd/{name}. Every request has the same envelope;
// `args` is validated by the schema of its command.
import { Type, type Static, type TSchema } from '@sinclair/typebox';
import { AnyObject, CameraId, CameraIdField, DateTime, Enum, MessageIdField, SchemaVersionField, SiteIdField } from './fields';
import type { ReplyErrorCode } from './payloads/reply';
import { RELAY_TARGET_EXPECTED, RELAY_TARGET_PATTERN } from './relay-target';

/** Longest MQTT 5 correlation data a command may carry, bytes (echoed as a property and, as
 * text or base64, as the reply's correlationId). */
export const CORRELATION_DATA_MAX = 128;

export const CommandRequestSchema = Type.Object(
  {
    schemaVersion: SchemaVersionField,
    messageId: MessageIdField,
    site: Type.Optional(SiteIdField),
    sentAt: Type.Optional(DateTime()),
    replyTo: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 512,
        description: 'Topic to reply on: camgate/v1/{site}/reply or a topic below it (camgate/v1/{site}/reply/{client}).',
      }),
    ),
    correlationId: Type.Optional(Type.String({ maxLength: 256 })),
    args: Type.Optional(AnyObject()),
  },
  {
    title: 'camgate/v1/{site}/cmd/{name} request',
    description:
      'Envelope of every command. The command name is the last topic level; its arguments are validated by cmd-{name}.json. Over MQTT 3.1.1 the reply topic and correlation id travel here; over MQTT 5 the responseTopic/correlationData properties win when present.',
  },
);
export type CommandRequest = Static<typeof CommandRequestSchema>;

const StreamRole = Enum(['main', 'sub'] as const);

function args<P extends Parameters<typeof Type.Object>[0]>(name: string, description: string, properties: P, extra: Record<string, unknown> = {}) {
  return Type.Object(properties, { title: `args of cmd/${name}`, description, additionalProperties: false, ...extra });
}

const oneCamera = { camera: CameraIdField };

export const COMMAND_ARGS_SCHEMAS = {
  ping: args('ping', 'Liveness check; replies with identity and uptime.', {}),
  rebirth: args('rebirth', "Re-publish birth, state, and every camera's meta and status (same bdSeq).", {}),
  'probe-now': args(
    'probe-now',
    "Check one camera (or all) now. With health monitoring on (default): TCP reachability + ONVIF GetSystemDateAndTime per device and RTSP DESCRIBE of each camera's main and sub stream, through the same state machine as scheduled checks (a change of state is published as usual). Result: probed, reachable, cameras[] of {camera, device, reachable, latencyMs, clockOffsetMs, error?{code,message}, state, reason, streams}. With health off: ONVIF GetSystemDateAndTime (RTSP-only: DESCRIBE) only, without state/reason/streams.",
    { camera: Type.Optional(CameraId({ description: 'One camera; omitted: every camera of the site.' })) },
  ),
  snapshot: args(
    'snapshot',
    "Take a still picture: the profile's HTTP snapshot URI (stored, else asked of the device), fetched with the device login (Digest MD5 or Basic). Result: camera, device, profile, contentType image/jpeg, bytes, base64. Errors: auth, unreachable, timeout, too-large (over 512 KiB), not-an-image, not-available (no snapshot URI).",
    { ...oneCamera, profile: Type.Optional(Type.String({ description: 'Media profile token; default the first profile with a snapshot URI.' })) },
  ),
  thumbnail: args(
    'thumbnail',
    'The latest thumbnail the health monitor kept for a camera (taken by its last successful picture probe; no camera traffic). Result: camera, takenAt, contentType image/jpeg, bytes (≤ health.picture.thumbnailMaxBytes), base64. Errors: invalid-args (unknown camera), not-available (no picture probe has succeeded yet, or health monitoring is off).',
    oneCamera,
  ),
  'picture-reference': args(
    'picture-reference',
    "A camera's picture reference: what its picture looks like when it is right, which later probes are judged against (docs/health.md, Reference). show: camera, reference {takenAt, origin, thumbnailBytes} or null, renewPending, and the reference thumbnail as contentType image/jpeg + base64 when kept. renew: the camera's next picture becomes its reference whatever it shows (origin command); that probe runs now and the reply comes after it: as show, with renewed true, or renewed false and renewPending true when the camera gave no picture (error says why; the reference is taken at its next probe with a picture). clear: forget it (cleared: whether there was one); a new one is taken from the next probe without a fault. Errors: invalid-args (unknown camera), not-available (health monitoring is off).",
    {
      ...oneCamera,
      action: Enum(['show', 'renew', 'clear'] as const, { description: 'show, renew or clear.' }),
    },
  ),
  'camera-reboot': args('camera-reboot', 'Reboot a camera over its driver (ONVIF SystemReboot).', oneCamera),
  'camera-set-time': args(
    'camera-set-time',
    "Set the camera clock to the box's UTC time (ONVIF SetSystemDateAndTime); replies with the offset before and after.",
    oneCamera,
  ),
  'config-get': args('config-get', "The agent's effective configuration, secrets masked.", {}),
  'stream-start': args(
    'stream-start',
    'Relay a camera stream to the centre (docs/video.md, Relays to the centre). The same camera, stream and target again renews the lease (same streamId, idle timer restarted).',
    {
      ...oneCamera,
      stream: Type.Optional(Enum(['main', 'sub'] as const, { description: "main = the camera's first ledger profile, sub = the second; default main." })),
      target: Type.String({
        description:
          "Push URL: rtsp://, rtmp://, rtmps:// or srt://, printable ASCII only (no spaces, line breaks or control characters). Query: key=value parts only, each key once, no second '?'; srt:// only ffmpeg's SRT options (mode only caller: no listener or rendezvous), no fragment except in an srt:// query; the host in dotted decimal when it is an IPv4 address, never 0.0.0.0 or ::. The site may restrict hosts (video.relay.allowedHosts). docs/video.md, Source and target.",
        minLength: 8,
        maxLength: 2048,
        pattern: RELAY_TARGET_PATTERN,
        'x-expected': RELAY_TARGET_EXPECTED,
      }),
      profile: Type.Optional(
        Enum(['copy', 'h264', 'h264-720p', 'h264-480p', 'h264-360p'] as const, { description: 'copy (default), h264, h264-720p, h264-480p, h264-360p.' }),
      ),
      maxBitrateKbps: Type.Optional(Type.Integer({ description: 'Overrides the bitrate cap of a transcode, kbit/s.', minimum: 64, maximum: 100000 })),
    },
  ),
  'stream-stop': args(
    'stream-stop',
    'Stop relays: one by streamId, or every relay of a camera (optionally only its main or sub stream). Idempotent: stopping what is not running replies ok with stopped: [].',
    {
      camera: Type.Optional(CameraIdField),
      stream: Type.Optional(StreamRole),
      streamId: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    },
    {
      minProperties: 1,
      anyOf: [
        { properties: { streamId: true }, required: ['streamId'] },
        { properties: { camera: true }, required: ['camera'] },
      ],
    },
  ),
  'stream-list': args('stream-list', 'The running relays with their state and stats, and the budget in use; optionally of one camera.', {
    camera: Type.Optional(CameraIdField),
  }),
} satisfies Record<string, TSchema>;

export type CommandName = keyof typeof COMMAND_ARGS_SCHEMAS;
export const COMMAND_NAMES = Object.keys(COMMAND_ARGS_SCHEMAS) as CommandName[];

/** The `args` of each command, by name. */
export type CommandArgs = { [N in CommandName]: Static<(typeof COMMAND_ARGS_SCHEMAS)[N]> };

export function isCommandName(name: string): name is CommandName {
  return Object.prototype.hasOwnProperty.call(COMMAND_ARGS_SCHEMAS, name);
}

/** A command that failed in a way the contract names: thrown by a command's implementation,
 * answered as an error reply with this code. */
export class CommandError extends Error {
  constructor(
    readonly code: ReplyErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'CommandError';
  }
}
