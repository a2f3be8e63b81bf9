// The central service's configuration, described once (as the agent's is): every key with its
// type, bounds, default and documentation; CAMGATE_CENTRAL_* variables and flags come from it.
import { Type, type Static } from '@sinclair/typebox';
import { Dictionary, Enum } from '../../lib/schema';
import { LOG_FORMATS, LOG_LEVELS } from '../../lib/log';
import { ALARM_KINDS } from '../alarms/rules';

/** The relay profiles of cmd/stream-start (docs/video.md, Profiles). */
export const RELAY_PROFILES = ['copy', 'h264', 'h264-720p', 'h264-480p', 'h264-360p'] as const;

const MediaServerSchema = Type.Object(
  {
    name: Type.String({ description: 'A name for logs, audits and answers.', minLength: 1, maxLength: 64 }),
    sites: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { description: 'Site ids this server takes (most specific: wins over regions).' }),
    ),
    regions: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: 512 }), {
        description:
          "Region path prefixes (a camera's region, e.g. 浙江省/杭州市); the longest matching prefix wins. No sites and no regions: the default server.",
      }),
    ),
    push: Type.String({
      description:
        'Push URL template the agent relays to (rtmp://, rtmps://, rtsp://, srt://); placeholders {site} {camera} {stream} {key}; must hold {key} (a fresh random stream key per relay). docs/live-view.md.',
      minLength: 8,
      maxLength: 1024,
    }),
    play: Dictionary(Type.String({ minLength: 8, maxLength: 2048 }), {
      description: 'Play URL templates by name (hls, flv, webrtc, …), with the same placeholders; each must hold {key}.',
      minProperties: 1,
    }),
    transcode: Type.Optional(Enum(RELAY_PROFILES, { type: 'string', description: 'Relay profile for this server; default media.transcode.' })),
  },
  { additionalProperties: false },
);

const Percent = (description: string, fallback?: number) =>
  fallback === undefined
    ? Type.Optional(Type.Number({ description, minimum: 0, maximum: 100 }))
    : Type.Number({ description, minimum: 0, maximum: 100, default: fallback });

export const CentralConfigSchema = Type.Object(
  {
    broker: Type.Object(
      {
        urls: Type.Array(
          Type.String({ pattern: '^(mqtt|mqtts|ws|wss)://[^\\s/]+', 'x-expected': 'a broker URL such as mqtt://host:1883 or mqtts://host:8883' }),
          { description: 'Broker URLs, tried in order (mqtt://, mqtts://, ws://, wss://).', default: [], 'x-flag-alias': '--broker' },
        ),
        username: Type.Optional(Type.String({ description: "MQTT username of the central (the ACL's central account)." })),
        password: Type.Optional(
          Type.String({ description: 'MQTT password of the central. Prefer CAMGATE_CENTRAL_BROKER_PASSWORD over the flag.', 'x-secret': true }),
        ),
        ca: Type.Optional(Type.String({ description: 'PEM file of the CA(s) to trust for mqtts:// and wss://.', minLength: 1 })),
        cert: Type.Optional(Type.String({ description: "PEM file of the central's client certificate (mutual TLS).", minLength: 1 })),
        key: Type.Optional(Type.String({ description: 'PEM file of the private key of the client certificate.', minLength: 1 })),
        protocolVersion: Enum([4, 5] as const, {
          type: 'integer',
          description: 'MQTT protocol: 5 (default; shared subscriptions, packet size limits) or 4 (3.1.1, e.g. the embedded broker).',
          default: 5,
        }),
        clientId: Type.Optional(
          Type.String({
            description:
              'MQTT client id, which names the persistent session the broker keeps for this instance while it is down; default camgate-central-<host name>-<http.port>. Each instance needs its own.',
            maxLength: 128,
            minLength: 1,
          }),
        ),
        sessionExpirySec: Type.Integer({
          description:
            'How long the broker keeps queueing QoS 1 messages for this instance while it is down (MQTT 5 session expiry; with 3.1.1 the session never expires). Raise the broker’s max_queued_messages to match (config/mosquitto).',
          default: 86400,
          minimum: 0,
          maximum: 4294967295,
        }),
        shareGroup: Type.String({
          description:
            'Shared subscription group ($share/<group>/…): several central instances with the same group split the sites’ live messages between them. Empty: every instance gets every message.',
          default: 'camgate-central',
          maxLength: 64,
          pattern: '^[A-Za-z0-9._-]*$',
        }),
        keepaliveSec: Type.Integer({ description: 'MQTT keep-alive, seconds.', default: 30, minimum: 5, maximum: 3600 }),
        reconnectMs: Type.Integer({ description: 'Wait between connection attempts, milliseconds.', default: 2000, minimum: 100, maximum: 600000 }),
      },
      { description: 'The broker the sites report to.', additionalProperties: false },
    ),
    db: Type.String({
      description: 'Where the central keeps everything: a SQLite file (the default, WAL) or a postgres:// URL (several instances share it).',
      default: './central.db',
      minLength: 1,
      'x-flag-alias': '--db',
    }),
    http: Type.Object(
      {
        host: Type.String({ description: 'Address the HTTP API listens on. 127.0.0.1 = this machine only.', default: '127.0.0.1' }),
        port: Type.Integer({ description: 'TCP port of the HTTP API.', default: 8090, minimum: 0, maximum: 65535, 'x-flag-alias': '--http-port' }),
      },
      { description: 'The HTTP API (docs/api.md).', additionalProperties: false },
    ),
    auth: Type.Object(
      {
        sessionIdleMin: Type.Integer({
          description: 'A login session ends after this many minutes without a request.',
          default: 30,
          minimum: 1,
          maximum: 10080,
        }),
        sessionMaxHours: Type.Integer({
          description: 'A login session ends this many hours after the login, whatever happens (log in again).',
          default: 12,
          minimum: 1,
          maximum: 8760,
        }),
        secureCookie: Type.Boolean({
          description:
            'Mark the session cookie Secure (sent over https only) even when the request came over plain http: set it when a TLS proxy in front of the API talks http to it.',
          default: false,
        }),
        login: Type.Object(
          {
            freeFailures: Type.Integer({
              description: 'Wrong passwords from one address, or for one user name, before each further try must wait (1 s, doubling, up to 30 s).',
              default: 3,
              minimum: 1,
              maximum: 100,
            }),
            maxFailures: Type.Integer({
              description: 'Wrong passwords in a row from one address, or for one user name, before logins from it (for it) are refused for lockoutSec.',
              default: 10,
              minimum: 1,
              maximum: 1000,
            }),
            lockoutSec: Type.Integer({
              description: 'How long a locked-out address or user name is refused, seconds (counted in memory: a restart forgets).',
              default: 900,
              minimum: 1,
              maximum: 86400,
            }),
          },
          { description: 'Password guessing at POST /api/login (answered 429 with Retry-After).', additionalProperties: false },
        ),
      },
      { description: 'Users, sessions and API tokens of the HTTP API (docs/access.md).', additionalProperties: false },
    ),
    staleAfterSec: Type.Integer({
      description:
        "A site's cameras are unknown (not offline) when no message of the site was observed in the last this many seconds: a box that lost power is unknown; a replayed backlog fills its outage in. Larger than the agents' metrics interval (60 s).",
      default: 180,
      minimum: 10,
      maximum: 86400,
    }),
    timezone: Type.String({
      description: 'Time zone of the days the figures and reports are computed for (IANA name).',
      default: 'Asia/Shanghai',
      minLength: 1,
    }),
    figures: Type.Object(
      {
        refreshSec: Type.Integer({
          description:
            'Seconds between rounds that measure days again when something late changed them (a replayed backlog, a status delivered twice), and days that ended.',
          default: 60,
          minimum: 1,
          maximum: 3600,
        }),
        todayRefreshSec: Type.Integer({
          description: "Today's figures are measured again at most this often (a city's 20,000 cameras take a few seconds).",
          default: 300,
          minimum: 1,
          maximum: 86400,
        }),
      },
      { description: 'How the figures (docs/metrics.md) are kept current.', additionalProperties: false },
    ),
    hdMinHeight: Type.Integer({ description: 'A camera is HD when its main stream has at least this many lines.', default: 1080, minimum: 1, maximum: 10000 }),
    targets: Type.Object(
      {
        online: Type.Object(
          {
            class1: Percent('Online rate target of class-1 points (key public areas), percent.', 98),
            class2: Percent('Online rate target of class-2 points (important parts of industries), percent.', 95),
            class3: Percent('Online rate target of class-3 points (social units, compounds), percent; unset = none.'),
          },
          { description: 'Online rate (在线率) targets.', additionalProperties: false },
        ),
        intact: Type.Object(
          {
            class1: Percent('Intact rate target of class-1 points, percent.', 98),
            class2: Percent('Intact rate target of class-2 points, percent.', 95),
            class3: Percent('Intact rate target of class-3 points, percent; unset = none.'),
          },
          { description: 'Intact rate (完好率) targets.', additionalProperties: false },
        ),
        geoLabelled: Type.Object(
          {
            class1: Percent('Geo-labelled rate target of class-1 points, percent.', 100),
            class2: Percent('Geo-labelled rate target of class-2 points, percent; unset = none.'),
            class3: Percent('Geo-labelled rate target of class-3 points, percent; unset = none.'),
          },
          { description: 'Geo-labelled rate (经纬度标注率) targets.', additionalProperties: false },
        ),
      },
      { description: 'The programme’s targets; every figure says whether it meets its target.', additionalProperties: false },
    ),
    alarms: Type.Object(
      {
        kinds: Type.Array(Enum(ALARM_KINDS, { type: 'string' }), {
          description: `The alarms raised (docs/alarms.md): ${ALARM_KINDS.join(', ')}. Alarms of a kind switched off stay as they were.`,
          default: [...ALARM_KINDS],
          uniqueItems: true,
        }),
        diskLowPercent: Percent("disk-low: a site's data disk with less than this share free, percent.", 10),
        checkIntervalSec: Type.Integer({
          description: 'How often sites silent for staleAfterSec are looked for (site-offline without a Will: a box that lost power), seconds.',
          default: 30,
          minimum: 1,
          maximum: 3600,
        }),
      },
      { description: 'Alarms of the duty desk, raised and cleared from what ingest takes in.', additionalProperties: false },
    ),
    ingest: Type.Object(
      {
        maxPayloadBytes: Type.Integer({
          description: 'A message larger than this is refused unread (counted per site and reason).',
          default: 1048576,
          minimum: 1024,
          maximum: 67108864,
        }),
        batchMax: Type.Integer({
          description:
            'Messages written in one database transaction at most. Larger batches cost less CPU a message (each changed page is written once a commit); 2000 took a fifth less than 500 on SQLite (docs/benchmarks.md).',
          default: 2000,
          minimum: 1,
          maximum: 100000,
        }),
        receiveMaximum: Type.Integer({
          description:
            'MQTT 5 Receive Maximum sent to the broker: QoS 1 messages it may send before the central acknowledges them, i.e. received and not yet committed. Keep it at least twice batchMax so a batch commits while the next arrives. With MQTT 3.1.1 the broker decides (Mosquitto: max_inflight_messages).',
          default: 8000,
          minimum: 1,
          maximum: 65535,
        }),
        queueMax: Type.Integer({
          description:
            'Messages received and not yet written, at most. The broker should stop at receiveMaximum unacknowledged messages, but Mosquitto 2.0 sends past it once acknowledgements flow, and MQTT 3.1.1 gets max_inflight_messages: when it is reached the central stops reading from the broker until half of them are written (if that takes longer than half of broker.keepaliveSec, it leaves the broker, which queues for its session, and comes back then).',
          default: 20000,
          minimum: 100,
          maximum: 10000000,
        }),
      },
      { description: 'Taking in what the sites publish.', additionalProperties: false },
    ),
    commands: Type.Object(
      {
        timeoutMs: Type.Integer({
          description: 'How long the API waits for a site to answer a command before it answers 504.',
          default: 15000,
          minimum: 1000,
          maximum: 600000,
        }),
        slowTimeoutMs: Type.Integer({
          description:
            "The same for the commands that wait on cameras (snapshot, probe-now, camera-reboot, picture-reference): longer than the agents' uplink.commandTimeoutMs (30 s), so their own timeout reply arrives first.",
          default: 35000,
          minimum: 1000,
          maximum: 600000,
        }),
      },
      { description: 'Commands from the API to the sites (docs/central.md, Commands).', additionalProperties: false },
    ),
    media: Type.Object(
      {
        servers: Type.Array(MediaServerSchema, {
          description: "The centre's media servers the sites relay live video to, chosen per site or region (docs/live-view.md). Set in the config file.",
          default: [],
        }),
        transcode: Enum(RELAY_PROFILES, {
          type: 'string',
          description: "Default relay profile of a live view (copy keeps the camera's video).",
          default: 'copy',
        }),
        stream: Enum(['main', 'sub'] as const, {
          type: 'string',
          description: 'Camera stream a live view asks for when the request names none.',
          default: 'sub',
        }),
        leaseSec: Type.Integer({
          description: 'A viewer lease not renewed for this long ends; the relay stops when its last viewer has gone.',
          default: 60,
          minimum: 5,
          maximum: 3600,
        }),
      },
      { description: 'Live view from the centre (docs/live-view.md).', additionalProperties: false },
    ),
    map: Type.Object(
      {
        tileUrl: Type.String({
          description:
            "Basemap tiles of the dashboard's map, a Leaflet URL template ({z} {x} {y}, optionally {s}), e.g. an intranet tile server's http://tiles.county.lan/{z}/{x}/{y}.png. Empty: no tiles, a plain grid (and the region outlines, if given) under the points. docs/dashboard.md.",
          default: '',
          maxLength: 2048,
        }),
        coordinateSystem: Enum(['wgs84', 'gcj02'] as const, {
          type: 'string',
          description:
            'The coordinate system of the tiles (and of the region outlines): gcj02 for Chinese basemaps (AMap, Tencent, most intranet copies), wgs84 for GPS-true ones. Camera coordinates are WGS-84 as in the ledger and are shifted to match.',
          default: 'wgs84',
        }),
        attribution: Type.String({
          description: 'Attribution shown in the corner of the map (the tiles\' licence, e.g. "© 某某测绘").',
          default: '',
          maxLength: 512,
        }),
        regionsGeoJson: Type.String({
          description:
            'A GeoJSON file (FeatureCollection of Polygon/MultiPolygon features, in map.coordinateSystem) with the region outlines drawn on the map; read at start. Empty: none.',
          default: '',
        }),
      },
      { description: "The dashboard's map (docs/dashboard.md).", additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Enum(LOG_LEVELS, { type: 'string', description: 'Least severe level written.', default: 'info', 'x-flag-alias': '--log-level' }),
        format: Enum(LOG_FORMATS, {
          type: 'string',
          description: 'auto: readable on a terminal, JSON lines otherwise; json or pretty force one.',
          default: 'auto',
          'x-flag-alias': '--log-format',
        }),
      },
      { description: 'Logging on stderr.', additionalProperties: false },
    ),
  },
  {
    $id: 'https://camgate.local/schema/central-config.json',
    title: 'camgate central configuration',
    description:
      'Configuration of the camgate central service. Sources, lowest to highest precedence: these defaults < the YAML file given with --config (or CAMGATE_CENTRAL_CONFIG) < CAMGATE_CENTRAL_* environment variables < command-line flags.',
    additionalProperties: false,
  },
);

export type CentralConfig = Static<typeof CentralConfigSchema>;
