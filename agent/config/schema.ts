// The agent's configuration, described once: every key with its type, bounds, default and
// documentation. The effective configuration's type (AgentConfig) is derived from it: a key with a
// default (or an object) is always present, a key without one is optional. config/schema.json is
// this schema as a file may be written (every key optional), for editors and readers; a test keeps
// it equal (`npm run config:schema` writes it).
import { Type, type Static } from '@sinclair/typebox';
import { Enum } from '../../lib/schema';
import { LOG_FORMATS, LOG_LEVELS } from '../../lib/log';
import { SITE_ID_PATTERN } from '../../contract';

export const AgentConfigSchema = Type.Object(
  {
    site: Type.Object(
      {
        id: Type.Optional(
          Type.String({
            description:
              "Site identifier, unique in the whole deployment; used in MQTT topics, so only letters, digits, '.', '_' and '-'. Required by `camgate run`.",
            pattern: SITE_ID_PATTERN,
            'x-expected': "1-64 letters, digits, '.', '_' or '-', starting with a letter or digit (it becomes part of MQTT topics)",
            'x-flag-alias': '--site',
            examples: ['zj-hz-xh-zt-v012'],
          }),
        ),
        name: Type.Optional(
          Type.String({
            description: 'Human-readable site name shown in listings and reports, e.g. the village name.',
            maxLength: 200,
            examples: ['转塘街道 长坞村'],
          }),
        ),
      },
      { description: 'Which site this box serves.', additionalProperties: false },
    ),
    dataDir: Type.String({
      description: 'Directory for the inventory database (camgate.db) and the credential key file (secret.key). Created if missing.',
      default: './data',
      minLength: 1,
    }),
    broker: Type.Object(
      {
        urls: Type.Array(
          Type.String({ pattern: '^(mqtt|mqtts|ws|wss)://[^\\s/]+', 'x-expected': 'a broker URL such as mqtt://host:1883 or mqtts://host:8883' }),
          {
            description: 'Broker URLs, tried in order (mqtt://, mqtts://, ws://, wss://). Empty: no uplink yet (the agent keeps everything locally).',
            default: [],
            'x-flag-alias': '--broker',
            examples: [['mqtts://broker.county.example:8883']],
          },
        ),
        username: Type.Optional(Type.String({ description: 'MQTT username of this site.' })),
        password: Type.Optional(
          Type.String({
            description:
              'MQTT password of this site. Prefer the environment variable CAMGATE_BROKER_PASSWORD or the config file (mode 600) over the flag: flags show in process lists.',
            'x-secret': true,
          }),
        ),
        ca: Type.Optional(
          Type.String({
            description: 'Path of a PEM file with the CA certificate(s) to trust for mqtts:// and wss:// (instead of the system store).',
            minLength: 1,
          }),
        ),
        cert: Type.Optional(Type.String({ description: "Path of this site's PEM client certificate (mutual TLS).", minLength: 1 })),
        key: Type.Optional(Type.String({ description: 'Path of the PEM private key of the client certificate.', minLength: 1 })),
        protocolVersion: Enum([4, 5] as const, {
          type: 'integer',
          description:
            'MQTT protocol version: 5 (MQTT 5, default) or 4 (MQTT 3.1.1, e.g. for the embedded broker). The contract works on both: over 3.1.1 the reply topic and correlation id travel in the payload.',
          default: 5,
        }),
        clientId: Type.Optional(
          Type.String({
            description: 'MQTT client id. Default: camgate-<site.id>. Must be unique on the broker: a second client with the same id disconnects the first.',
            maxLength: 128,
          }),
        ),
        keepaliveSec: Type.Integer({
          description: 'MQTT keep-alive interval in seconds: how soon the broker notices a dead link and publishes the offline Will.',
          default: 30,
          minimum: 5,
          maximum: 3600,
        }),
        connectTimeoutMs: Type.Integer({
          description: 'How long one connection attempt (TCP, TLS and CONNACK) may take, in milliseconds.',
          default: 10000,
          minimum: 500,
          maximum: 120000,
        }),
        reconnectMinMs: Type.Integer({
          description:
            'Wait before trying the next broker URL, and the first backoff step, in milliseconds. Every full pass over broker.urls doubles the wait up to broker.reconnectMaxMs; each wait is jittered (50-100%).',
          default: 1000,
          minimum: 10,
          maximum: 600000,
        }),
        reconnectMaxMs: Type.Integer({
          description: 'Longest wait between connection attempts, in milliseconds.',
          default: 60000,
          minimum: 100,
          maximum: 3600000,
        }),
      },
      { description: 'Upstream MQTT broker the agent reports to.', additionalProperties: false },
    ),
    uplink: Type.Object(
      {
        outboxQuotaMb: Type.Integer({
          description:
            'Disk quota of the outbox (<dataDir>/outbox.db) in MiB. When full, metrics are dropped first, then periodic statuses, transitions and alarms last, and an outbox-drop event says what went.',
          default: 512,
          minimum: 1,
          maximum: 1048576,
        }),
        replayWindow: Type.Integer({
          description: 'QoS 1 publishes in flight while the backlog is replayed after an outage.',
          default: 64,
          minimum: 1,
          maximum: 10000,
        }),
        replayMaxPerSec: Type.Integer({
          description:
            'Upper bound of the backlog replay rate in messages per second, to leave room on thin uplinks; 0 = no bound. Live messages never wait for the backlog either way.',
          default: 0,
          minimum: 0,
          maximum: 1000000,
        }),
        metricsIntervalSec: Type.Integer({
          description: 'How often host and agent metrics are published (camgate/v1/<site>/metrics), in seconds; 0 = never.',
          default: 60,
          minimum: 0,
          maximum: 86400,
        }),
        commandTimeoutMs: Type.Integer({
          description:
            'Longest a command from the central may run before it is answered with a timeout error, in milliseconds. Its work is cancelled then (device requests aborted, queued probes dropped).',
          default: 30000,
          minimum: 100,
          maximum: 600000,
        }),
        commandMaxBytes: Type.Integer({
          description:
            'Largest command payload accepted, in bytes; a larger one is answered too-large without being parsed. Over MQTT 5 the agent also asks the broker (CONNECT maximum packet size) not to deliver packets above max(1 MiB, this + 64 KiB) at all: those are dropped by the broker and their sender gets no reply.',
          default: 65536,
          minimum: 1024,
          maximum: 16777216,
        }),
        commandConcurrency: Type.Integer({
          description:
            'Commands of one name (probe-now, snapshot, ...) that may run at once; one more is answered busy at once instead of waiting, so a flood of commands cannot pile up work. A timed-out command counts until its cancelled work has ended.',
          default: 4,
          minimum: 1,
          maximum: 256,
        }),
      },
      { description: 'Store-and-forward of what the agent reports upstream (see docs/mqtt.md).', additionalProperties: false },
    ),
    cameras: Type.Object(
      {
        username: Type.Optional(
          Type.String({
            description: 'Default camera username of this site. Also read from CAMGATE_USERNAME.',
            'x-flag-alias': '--username',
            'x-env-alias': 'CAMGATE_USERNAME',
          }),
        ),
        password: Type.Optional(
          Type.String({
            description:
              'Default camera password of this site. Also read from CAMGATE_PASSWORD. Flags show in process lists: prefer the environment or the config file.',
            'x-secret': true,
            'x-flag-alias': '--password',
            'x-env-alias': 'CAMGATE_PASSWORD',
          }),
        ),
      },
      {
        description:
          "Site-wide default credentials for cameras. A device's own stored credentials (camgate cameras add/set --username --password) take precedence.",
        additionalProperties: false,
      },
    ),
    discovery: Type.Object(
      {
        timeoutMs: Type.Integer({
          description:
            'How long to wait for WS-Discovery answers (the probe window), in milliseconds. Devices are identified as soon as they answer, while the probe keeps listening. Capped at three quarters of the overall bound: the probe window of `camgate discover` is min(this, discovery.overallTimeoutMs × 3/4), so at least a quarter of the overall time is left after the probe for late answers and for added devices that did not answer.',
          default: 5000,
          minimum: 100,
          maximum: 120000,
        }),
        overallTimeoutMs: Type.Integer({
          description:
            "Overall time limit of one `camgate discover` (probe plus identification), in milliseconds; `discover --timeout` overrides it. The command finishes within it (plus well under a second to save and print): devices are identified as soon as they answer, the probe listens for min(discovery.timeoutMs, three quarters of it), and a device not identified when it runs out is reported with error code 'timeout' (what was identified before is still saved).",
          default: 30000,
          minimum: 100,
          maximum: 3600000,
        }),
        ranges: Type.Array(Type.String({ minLength: 1 }), {
          description:
            'Addresses to probe by unicast besides multicast: single IPv4 addresses, a-b ranges (192.168.1.10-192.168.1.60) or CIDR blocks (192.168.1.0/24). Needed when cameras are on another subnet or multicast is filtered.',
          default: [],
          examples: [['192.168.1.0/24', '10.20.0.5-10.20.0.40']],
        }),
        multicast: Type.Boolean({ description: 'Send the WS-Discovery multicast probe (239.255.255.250:3702) on every interface.', default: true }),
        interfaces: Type.Array(Type.String({ minLength: 1 }), {
          description: 'Network interfaces to send multicast probes on (names like eth0). Empty: every IPv4 interface except loopback.',
          default: [],
        }),
        concurrency: Type.Integer({
          description: 'How many devices are identified at the same time (while the probe listens and after it).',
          default: 32,
          minimum: 1,
          maximum: 256,
        }),
      },
      { description: 'How `camgate discover` finds cameras.', additionalProperties: false },
    ),
    onvif: Type.Object(
      {
        timeoutMs: Type.Integer({
          description: 'Timeout of one ONVIF request, in milliseconds; identifying one device during discovery must also finish within this time.',
          default: 5000,
          minimum: 100,
          maximum: 120000,
        }),
      },
      { description: 'ONVIF client settings.', additionalProperties: false },
    ),
    health: Type.Object(
      {
        enabled: Type.Boolean({ description: 'Run health monitoring in `camgate run`. Off: cameras stay in state unknown.', default: true }),
        reachIntervalSec: Type.Integer({
          description:
            "How often each device's reachability (TCP connect) and ONVIF clock (GetSystemDateAndTime) are checked, in seconds. Checks are spread evenly over the interval.",
          default: 30,
          minimum: 1,
          maximum: 86400,
        }),
        streamIntervalSec: Type.Integer({
          description: "How often each camera's main and sub stream are checked with RTSP DESCRIBE (auth, codec, resolution), in seconds; 0 = never.",
          default: 120,
          minimum: 0,
          maximum: 86400,
        }),
        pictureIntervalSec: Type.Integer({
          description:
            "How often each camera's picture is grabbed and diagnosed (black, frozen, blurred, occluded, colour cast, no-video, …), in seconds; 0 = never. A fault not yet confirmed is probed again sooner (health.picture.confirmSeconds).",
          default: 600,
          minimum: 0,
          maximum: 86400,
        }),
        statusIntervalSec: Type.Integer({
          description:
            "How often every camera's status is re-sent even without a change (periodic status, may be dropped under the outbox quota), in seconds; 0 = only on changes.",
          default: 300,
          minimum: 0,
          maximum: 86400,
        }),
        connectTimeoutMs: Type.Integer({
          description: 'Hard timeout of one TCP reachability check, in milliseconds. Cameras on the site LAN answer in a few ms.',
          default: 750,
          minimum: 50,
          maximum: 60000,
        }),
        requestTimeoutMs: Type.Integer({
          description: 'Hard timeout of one ONVIF clock request or one RTSP DESCRIBE, in milliseconds.',
          default: 3000,
          minimum: 100,
          maximum: 60000,
        }),
        offlineAfterFailures: Type.Integer({
          description:
            'Consecutive failed reachability checks before a camera is declared offline. After a first failure the next checks follow after health.confirmDelayMs, not a full interval, so the alarm is not delayed.',
          default: 3,
          minimum: 1,
          maximum: 100,
        }),
        onlineAfterSuccesses: Type.Integer({
          description: 'Consecutive successful reachability checks before an offline camera is declared online again.',
          default: 2,
          minimum: 1,
          maximum: 100,
        }),
        confirmDelayMs: Type.Integer({
          description: 'Pause between the confirming checks that follow a change (failure of an online camera, success of an offline one), in milliseconds.',
          default: 200,
          minimum: 0,
          maximum: 60000,
        }),
        flapTransitions: Type.Integer({
          description:
            'A camera that changes state this many times within health.flapWindowSec is marked flapping: one camera-flapping event, then no transition events until it has been stable for a whole window.',
          default: 6,
          minimum: 2,
          maximum: 1000,
        }),
        flapWindowSec: Type.Integer({ description: 'Window of the flapping rule, in seconds.', default: 900, minimum: 10, maximum: 86400 }),
        concurrency: Type.Integer({
          description: 'Reachability, clock and DESCRIBE checks in flight at once (across all cameras).',
          default: 32,
          minimum: 1,
          maximum: 1024,
        }),
        picture: Type.Object(
          {
            source: Enum(['auto', 'stream', 'snapshot'] as const, {
              type: 'string',
              description: 'Where pictures come from: auto = sub stream, else main stream, else the snapshot URI; stream or snapshot = only that.',
              default: 'auto',
            }),
            seconds: Type.Number({
              description:
                'How long one picture probe watches the stream, in seconds (several frames, so a picture frozen since before the agent started is caught at the first probe).',
              default: 3,
              minimum: 0.5,
              maximum: 60,
            }),
            frames: Type.Integer({
              description: 'Frames decoded per picture probe (spread over health.picture.seconds; snapshots: this many grabs).',
              default: 6,
              minimum: 2,
              maximum: 60,
            }),
            timeoutMs: Type.Integer({
              description: 'Hard timeout of one picture probe, ffmpeg start-up included, in milliseconds; ffmpeg is killed at the deadline.',
              default: 15000,
              minimum: 1000,
              maximum: 300000,
            }),
            concurrency: Type.Integer({ description: 'ffmpeg processes for picture probes at once.', default: 2, minimum: 1, maximum: 64 }),
            confirmProbes: Type.Integer({
              description:
                'A picture fault (no-picture included) is reported, and raises picture-fault, only once this many probes in a row have found it, so one odd moment (a truck passing close, a headlight) raises no alarm; it clears at the first probe without it. 1 = at the first probe.',
              default: 2,
              minimum: 1,
              maximum: 20,
            }),
            confirmSeconds: Type.Integer({
              description:
                "When a probe finds a picture fault not yet confirmed (health.picture.confirmProbes), the camera's next picture probe runs after this many seconds instead of health.pictureIntervalSec.",
              default: 30,
              minimum: 1,
              maximum: 86400,
            }),
            maxSnapshotBytes: Type.Integer({
              description: 'Largest snapshot accepted from a camera, in bytes; anything larger is a too-large fault and is not downloaded further.',
              default: 4194304,
              minimum: 1024,
              maximum: 104857600,
            }),
            thumbnailMaxBytes: Type.Integer({
              description: 'Largest thumbnail JPEG kept per camera (the latest one, for the central and the local UI), in bytes.',
              default: 20480,
              minimum: 2048,
              maximum: 1048576,
            }),
            thumbnailWidth: Type.Integer({
              description: 'Thumbnail width in pixels (height keeps the aspect ratio).',
              default: 320,
              minimum: 64,
              maximum: 1920,
            }),
            ffmpegPath: Type.Optional(
              Type.String({
                description:
                  'Older name of video.ffmpegPath, used only when that is unset (every ffmpeg, picture probes included, runs under the one supervisor with one binary).',
                'x-expected': 'a path to an ffmpeg executable',
              }),
            ),
          },
          { description: 'Picture probes: a few seconds of the sub stream (or repeated snapshots) decoded small with ffmpeg.', additionalProperties: false },
        ),
        diagnosis: Type.Object(
          {
            noVideoMinArea: Type.Number({
              description:
                'no-video when the flat background of an NVR "no video" card (blue, or black with centred text) covers at least this share of the picture (0..1).',
              default: 0.8,
              minimum: 0,
              maximum: 1,
            }),
            blackMaxLevel: Type.Number({
              description: 'black when 95% of the picture stays at or under this brightness (0..255); the only score where low is bad.',
              default: 32,
              minimum: 0,
              maximum: 255,
            }),
            frozenMinStillArea: Type.Number({
              description:
                "frozen when at least this share of the picture is unchanged across the probe's frames (0..1; a ticking OSD clock is a small changing area).",
              default: 0.97,
              minimum: 0,
              maximum: 1,
            }),
            blurredMinBlur: Type.Number({ description: 'blurred when the blur score (0 sharp .. 1) is at least this.', default: 0.3, minimum: 0, maximum: 1 }),
            occludedMinArea: Type.Number({
              description: 'occluded when the largest flat one-colour region covers at least this share of the picture (0..1).',
              default: 0.25,
              minimum: 0,
              maximum: 1,
            }),
            occludedMinRise: Type.Number({
              description:
                "With a reference: occluded only when the flat region grew at least this much beyond the reference's own (a sky, a wall, fog; 0..1).",
              default: 0.15,
              minimum: 0,
              maximum: 1,
            }),
            castMinImbalance: Type.Number({
              description: "colour-cast when one colour channel's highlights or shadows sit at least this far from the others (0..1).",
              default: 0.24,
              minimum: 0,
              maximum: 1,
            }),
            castMinShift: Type.Number({
              description:
                "With a reference: colour-cast only when the colour balance also moved at least this far from the reference's (0..1, the same scale): a scene that is always one colour (sky, grass, a sunset) is not a cast.",
              default: 0.15,
              minimum: 0,
              maximum: 1,
            }),
            blurredMinRise: Type.Number({
              description:
                "With a reference: blurred only when the blur score rose at least this much above the reference's (0..1): a camera that was always soft is not blurred.",
              default: 0.12,
              minimum: 0,
              maximum: 1,
            }),
            sceneChangeMin: Type.Number({
              description:
                "scene-change (the camera was turned or moved) when the picture's layout is at least this far from the reference's (0 same .. 1 unrelated; judged only with a reference).",
              default: 0.7,
              minimum: 0,
              maximum: 1,
            }),
            overexposedMinArea: Type.Number({
              description: 'overexposed when at least this share of the picture is burnt out to white (luma ≥ 245; 0..1).',
              default: 0.5,
              minimum: 0,
              maximum: 1,
            }),
            overexposedMinRise: Type.Number({
              description: "With a reference: overexposed only when the burnt-out share rose at least this much above the reference's (0..1).",
              default: 0.25,
              minimum: 0,
              maximum: 1,
            }),
            overexposedMinBrighten: Type.Number({
              description:
                "With a reference: also overexposed when the picture's mean brightness rose at least this much above the reference's (luma levels) and some of it (10 %) is burnt out: a dark scene pushed far too bright.",
              default: 80,
              minimum: 0,
              maximum: 255,
            }),
            noiseMinLevel: Type.Number({
              description:
                'noise (snow) when the flatter blocks of the picture change their light, their fine texture or their tint between frames by at least this much beyond what the whole picture does (luma levels).',
              default: 2,
              minimum: 0,
              maximum: 255,
            }),
            noiseMinRise: Type.Number({
              description: "With a reference: noise only when the score rose at least this much above the reference's (luma levels).",
              default: 2,
              minimum: 0,
              maximum: 255,
            }),
            stripesMinAmplitude: Type.Number({
              description: 'stripes (interference) when a regular pattern of lines across the picture has at least this amplitude (luma levels).',
              default: 3,
              minimum: 0,
              maximum: 255,
            }),
            stripesMinRise: Type.Number({
              description:
                "With a reference: stripes only when the amplitude rose at least this much above the reference's (luma levels): a camera that looks at blinds always has lines.",
              default: 2,
              minimum: 0,
              maximum: 255,
            }),
            shakingMinShift: Type.Number({
              description:
                'shaking when the whole picture jumps irregularly between frames by at least this many pixels (at 640 wide); a steady pan is not shaking.',
              default: 6.5,
              minimum: 0,
              maximum: 640,
            }),
          },
          {
            description:
              'Picture diagnosis thresholds (docs/health.md). Each fault has a score in the status and picture-fault events; the fault is reported when its score passes the threshold.',
            additionalProperties: false,
          },
        ),
        clock: Type.Object(
          {
            maxDriftMs: Type.Integer({
              description: 'A camera clock further than this from the box raises a clock-drift event, in milliseconds.',
              default: 5000,
              minimum: 100,
              maximum: 86400000,
            }),
            autoSync: Type.Boolean({
              description:
                "Set the camera's clock over ONVIF (SetSystemDateAndTime, stored credentials) when it drifts beyond health.clock.maxDriftMs. Off by default: the box's own clock must be right (NTP) first.",
              default: false,
            }),
          },
          { description: 'Camera clocks against the box.', additionalProperties: false },
        ),
        host: Type.Object(
          {
            diskLowPercent: Type.Number({
              description: "Free space on the data directory's file system below this share (percent) raises disk-low; it clears at 1.5 times the threshold.",
              default: 10,
              minimum: 0,
              maximum: 100,
            }),
            temperatureHighC: Type.Number({
              description: 'CPU temperature above this (°C) raises temperature-high; it clears 5 °C lower. Ignored when the box reports no temperature.',
              default: 80,
              minimum: 20,
              maximum: 150,
            }),
          },
          { description: "The box's own alarms.", additionalProperties: false },
        ),
      },
      {
        description: 'Camera health monitoring: probes, picture diagnosis, debounced status and alarms, host metrics (see docs/health.md).',
        additionalProperties: false,
      },
    ),
    video: Type.Object(
      {
        ffmpegPath: Type.Optional(
          Type.String({
            description:
              'ffmpeg binary to use. When unset: FFMPEG_PATH, then the optional ffmpeg-static package, then ffmpeg on PATH (`camgate doctor` shows which was found).',
          }),
        ),
        stallTimeoutSec: Type.Integer({
          description: 'An ffmpeg process whose output has not moved for this long is killed and restarted, in seconds.',
          default: 10,
          minimum: 2,
          maximum: 600,
        }),
        restartMinMs: Type.Integer({
          description: 'First restart delay after an ffmpeg process fails, in milliseconds; doubles at each failure in a row.',
          default: 1000,
          minimum: 100,
          maximum: 600000,
        }),
        restartMaxMs: Type.Integer({ description: 'Longest restart delay, in milliseconds.', default: 30000, minimum: 1000, maximum: 3600000 }),
        connectTimeoutMs: Type.Integer({
          description:
            "ffmpeg's socket timeout when pulling a camera, in milliseconds: a camera that stops sending fails the process after this long. Also how long the agent's RTSP gate (through which ffmpeg reaches a camera with a login) waits for a TCP connection to the camera.",
          default: 5000,
          minimum: 500,
          maximum: 120000,
        }),
        relay: Type.Object(
          {
            budgetKbps: Type.Integer({
              description:
                "The site's uplink budget for relays, in kbit/s: a stream-start that would take the relays' total above it is refused. 0 = no budget.",
              default: 20000,
              minimum: 0,
              maximum: 10000000,
            }),
            maxRelays: Type.Integer({ description: 'Relays at once on this box.', default: 16, minimum: 0, maximum: 256 }),
            idleTimeoutSec: Type.Integer({
              description:
                'A relay not renewed (stream-start repeated with the same camera, stream and target) for this long is stopped, in seconds. 0 = runs until stream-stop.',
              default: 600,
              minimum: 0,
              maximum: 604800,
            }),
            assumedMainKbps: Type.Integer({
              description: 'Bitrate counted against the budget for a main stream whose bitrate the ledger does not know, in kbit/s.',
              default: 4096,
              minimum: 1,
              maximum: 1000000,
            }),
            assumedSubKbps: Type.Integer({ description: 'The same for a sub stream, in kbit/s.', default: 1024, minimum: 1, maximum: 1000000 }),
            allowedHosts: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
              description:
                "Centre hosts relays may be sent to: host names (exactly as targets spell them; no DNS lookup), IPv4/IPv6 addresses and CIDR blocks. A stream-start to any other host is refused with invalid-args. Empty: any host (the broker's ACL decides who may command relays).",
              default: [],
              examples: [['media.county.example', '10.20.0.0/24']],
            }),
          },
          { description: 'Relays to the centre (cmd/stream-start, cmd/stream-stop).', additionalProperties: false },
        ),
      },
      {
        description: 'Video: every ffmpeg process (relays to the centre, live view, picture probes) is started and watched by one supervisor (docs/video.md).',
        additionalProperties: false,
      },
    ),
    web: Type.Object(
      {
        enabled: Type.Boolean({ description: 'Serve the live view page in `camgate run`.', default: true }),
        host: Type.String({
          description: 'Address the page listens on. 127.0.0.1 = this box only; 0.0.0.0 or a LAN address needs web.password.',
          default: '127.0.0.1',
        }),
        port: Type.Integer({ description: 'TCP port of the page.', default: 8088, minimum: 0, maximum: 65535 }),
        username: Type.String({ description: 'User name for the page (HTTP Basic), when web.password is set.', default: 'admin' }),
        password: Type.Optional(
          Type.String({
            description:
              'Password for the page (HTTP Basic). Required when web.host is not a loopback address; on the LAN, set web.tls.cert and web.tls.key too, or the password and the session cookie cross the network in clear.',
            'x-secret': true,
          }),
        ),
        hostnames: Type.Array(Type.String({ minLength: 1, maxLength: 253 }), {
          description:
            "Names the page is opened by (the browser's Host header), besides the addresses it listens on and localhost: e.g. the box's DNS name. A request for any other name is refused (421): a page of another site that rebinds its DNS name to this box cannot read it.",
          default: [],
          examples: [['camgate-v012.local']],
        }),
        tls: Type.Object(
          {
            cert: Type.Optional(
              Type.String({
                description: 'Path of the PEM certificate (chain) of the page. With web.tls.key: the page is served over https and wss only.',
                minLength: 1,
              }),
            ),
            key: Type.Optional(Type.String({ description: 'Path of the PEM private key of web.tls.cert.', minLength: 1 })),
          },
          { description: 'HTTPS for the page: the password and the session cookie (then Secure) are encrypted on the LAN.', additionalProperties: false },
        ),
        login: Type.Object(
          {
            maxFailures: Type.Integer({
              description:
                'Wrong passwords in a row from one client (one IPv4 address, or one IPv6 /64) before it is locked out for web.login.lockoutSec (429 with Retry-After, even for the right password). The lockout is logged and sent as an audit event (action web-login-locked). A session cookie the page already holds keeps working.',
              default: 10,
              minimum: 1,
              maximum: 1000,
            }),
            freeFailures: Type.Integer({
              description:
                'Wrong passwords in a row from one client before each further try must wait: 1 s after this many, doubling with each one more, up to 30 s. A try made before its wait is over is refused (429) without its password being looked at.',
              default: 3,
              minimum: 0,
              maximum: 1000,
            }),
            lockoutSec: Type.Integer({
              description:
                'How long a locked-out client is refused (429 with Retry-After), in seconds; its count of wrong logins is forgotten after as long without one.',
              default: 900,
              minimum: 1,
              maximum: 86400,
            }),
          },
          { description: 'Password guessing on the page: backoff and lockout per client.', additionalProperties: false },
        ),
        lingerSec: Type.Integer({
          description: 'Seconds a camera pull stays up after its last viewer leaves (a page reload does not restart ffmpeg).',
          default: 5,
          minimum: 0,
          maximum: 600,
        }),
        maxViewers: Type.Integer({ description: 'Viewers at once on this box, all cameras together.', default: 32, minimum: 1, maximum: 1024 }),
        fallbackWidth: Type.Integer({
          description: 'Width of the MPEG-1 fallback picture (JSMpeg: H.265 cameras, browsers without MSE), in pixels.',
          default: 640,
          minimum: 160,
          maximum: 1920,
        }),
        fallbackBitrateKbps: Type.Integer({ description: 'Bitrate of the MPEG-1 fallback picture, in kbit/s.', default: 1000, minimum: 100, maximum: 20000 }),
        maxKeyframeIntervalSec: Type.Number({
          description:
            "Opt-in camera change for a fast first picture: before the first live view of a camera's sub stream, if its ONVIF encoder sends keyframes less often than every this many seconds, set its GovLength to this many seconds of frames (persisted in the camera; the camera restarts that stream once; main streams are never changed). 0 = never change cameras.",
          default: 0,
          minimum: 0,
          maximum: 10,
        }),
      },
      { description: 'The local live view page (the village security room): http://<host>:<port>/ plays any camera.', additionalProperties: false },
    ),
    log: Type.Object(
      {
        level: Enum(LOG_LEVELS, {
          type: 'string',
          description: 'Least severe level written. debug also prints stack traces of errors.',
          default: 'info',
          'x-flag-alias': '--log-level',
        }),
        format: Enum(LOG_FORMATS, {
          type: 'string',
          description:
            'How log lines look. auto: readable (pino-pretty, coloured when the terminal supports it) when stderr is a terminal, one JSON object per line otherwise (services, pipes, files). json or pretty force one or the other.',
          default: 'auto',
          'x-flag-alias': '--log-format',
        }),
      },
      { description: 'Logging on stderr: JSON lines for services and log collectors, readable lines on a terminal.', additionalProperties: false },
    ),
  },
  {
    $id: 'https://camgate.local/schema/agent-config.json',
    title: 'camgate agent configuration',
    description:
      'Configuration of the camgate site agent. Sources, lowest to highest precedence: these defaults < the YAML file given with --config (or CAMGATE_CONFIG) < CAMGATE_* environment variables < command-line flags. Every key has a generated flag and environment variable: key discovery.timeoutMs is --discovery.timeout-ms and CAMGATE_DISCOVERY_TIMEOUT_MS. List values (ranges, interfaces, broker URLs) are comma-separated in environment variables and may be repeated or comma-separated as flags. Relative paths are resolved against the working directory. Keys marked x-secret are masked by `camgate config show`. Run `camgate config keys` for the full list of flags and variables.',
    additionalProperties: false,
  },
);

export type AgentConfig = Static<typeof AgentConfigSchema>;
