// The fixed MQTT topic tree of the uplink contract (docs/mqtt.md). Pure: builds topics from
// ids and parses received topics back. Site and camera ids become single topic levels, so a
// segment that is empty, has a wildcard (+ #), a level separator (/), a NUL or is too long
// is refused: it would widen subscriptions or escape the site's ACL prefix.

export const TOPIC_ROOT = 'camgate/v1';

/** Largest segment accepted (ids in the inventory are far shorter). */
export const MAX_SEGMENT_LENGTH = 128;

/** Command names: lower-case words joined by '-' (ping, camera-set-time). */
export const COMMAND_NAME = /^[a-z][a-z0-9]*(?:-[a-z0-9]+)*$/;

export class TopicError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TopicError';
  }
}

/** Why `segment` cannot be one topic level, or undefined when it can. */
export function segmentProblem(segment: string): string | undefined {
  if (typeof segment !== 'string' || segment === '') return 'is empty';
  if (segment.length > MAX_SEGMENT_LENGTH) return `is longer than ${MAX_SEGMENT_LENGTH} characters`;
  if (/[+#]/.test(segment)) return "contains an MQTT wildcard ('+' or '#')";
  if (segment.includes('/')) return "contains '/' (a topic level separator)";

  if (/[\u0000-\u001f\u007f]/.test(segment)) return 'contains a control character';
  return undefined;
}

export function assertSegment(what: string, segment: string): string {
  const problem = segmentProblem(segment);
  if (problem) throw new TopicError(`${what} ${JSON.stringify(segment)} ${problem}; it cannot be an MQTT topic level`);
  return segment;
}

/** Every topic of one site. */
export interface SiteTopics {
  site: string;
  /** camgate/v1/{site}/ */
  prefix: string;
  state: string;
  birth: string;
  events: string;
  metrics: string;
  /** Default reply topic for commands. */
  reply: string;
  /** Subscription filter for every command of this site: camgate/v1/{site}/cmd/+ */
  commandFilter: string;
  cameraMeta(camera: string): string;
  cameraStatus(camera: string): string;
  command(name: string): string;
}

export function siteTopics(site: string): SiteTopics {
  assertSegment('site id', site);
  const base = `${TOPIC_ROOT}/${site}`;
  return {
    site,
    prefix: `${base}/`,
    state: `${base}/state`,
    birth: `${base}/birth`,
    events: `${base}/events`,
    metrics: `${base}/metrics`,
    reply: `${base}/reply`,
    commandFilter: `${base}/cmd/+`,
    cameraMeta: (camera) => `${base}/cameras/${assertSegment('camera id', camera)}/meta`,
    cameraStatus: (camera) => `${base}/cameras/${assertSegment('camera id', camera)}/status`,
    command: (name) => {
      assertSegment('command name', name);
      if (!COMMAND_NAME.test(name)) throw new TopicError(`command name ${JSON.stringify(name)} must be lower-case words joined by '-'`);
      return `${base}/cmd/${name}`;
    },
  };
}

export type ParsedTopic =
  | { kind: 'state' | 'birth' | 'events' | 'metrics'; site: string }
  | { kind: 'meta' | 'status'; site: string; camera: string }
  | { kind: 'cmd'; site: string; command: string }
  /** camgate/v1/{site}/reply or any topic below it (a central may ask for camgate/v1/{site}/reply/{client}). */
  | { kind: 'reply'; site: string; rest: string[] };

/** Parses a topic of the tree; undefined for anything else (other roots, wrong shape, bad segments). */
export function parseTopic(topic: string): ParsedTopic | undefined {
  if (typeof topic !== 'string' || !topic.startsWith(TOPIC_ROOT + '/')) return undefined;
  const parts = topic.slice(TOPIC_ROOT.length + 1).split('/');
  if (parts.some((p) => segmentProblem(p) !== undefined)) return undefined;
  const [site, kind, ...rest] = parts;
  if (kind === undefined) return undefined;
  switch (kind) {
    case 'state':
    case 'birth':
    case 'events':
    case 'metrics':
      return rest.length === 0 ? { kind, site } : undefined;
    case 'cameras':
      if (rest.length === 2 && (rest[1] === 'meta' || rest[1] === 'status')) return { kind: rest[1], site, camera: rest[0] };
      return undefined;
    case 'cmd':
      return rest.length === 1 && COMMAND_NAME.test(rest[0]) ? { kind: 'cmd', site, command: rest[0] } : undefined;
    case 'reply':
      return { kind: 'reply', site, rest };
    default:
      return undefined;
  }
}

/** Longest reply topic a request may ask for. */
export const MAX_REPLY_TOPIC_LENGTH = 512;

/**
 * True when `topic` may carry a command's reply: camgate/v1/{site}/reply or a concrete topic
 * below it, at most MAX_REPLY_TOPIC_LENGTH characters. Nothing else of the site's tree: a reply
 * on cmd/… would be taken by the agent as a command (it subscribes there), and one on state,
 * birth, events or a camera's topics would pass for the agent's own data.
 */
export function isReplyTopic(topic: string, site: string): boolean {
  const reply = `${TOPIC_ROOT}/${site}/reply`;
  return (
    typeof topic === 'string' &&
    topic.length <= MAX_REPLY_TOPIC_LENGTH &&
    (topic === reply || (topic.startsWith(reply + '/') && topic.length > reply.length + 1)) &&
    !/[+#\0]/.test(topic)
  );
}

/** True when `topic` is a concrete topic (no wildcard) under this site's prefix. */
export function isUnderSite(topic: string, site: string): boolean {
  const prefix = `${TOPIC_ROOT}/${site}/`;
  return typeof topic === 'string' && topic.startsWith(prefix) && topic.length > prefix.length && !/[+#\0]/.test(topic);
}
