// The media servers of central.media: which one takes a camera (per site, else the longest region
// prefix, else the default), and their URL templates rendered for one relay. Pure.
//
// Placeholders: {site}, {camera}, {stream} (main or sub) and {key}, a fresh random stream key per
// relay. Values are percent-encoded, so a camera id with spaces or Chinese characters still makes a
// printable-ASCII push URL (what the agent accepts). {key} is required in every template: it keeps
// two relays of one camera apart, and a play URL cannot be guessed from the camera's name.
import { parseRelayTarget } from '../../contract';
import type { CentralConfig } from '../config/schema';

export type MediaConfig = CentralConfig['media'];
export type MediaServer = MediaConfig['servers'][number];

export const PLACEHOLDERS = ['site', 'camera', 'stream', 'key'] as const;
export type TemplateValues = Record<(typeof PLACEHOLDERS)[number], string>;

const PLACEHOLDER = /\{([^{}]*)\}/g;

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

export function renderTemplate(template: string, values: TemplateValues): string {
  return template.replace(PLACEHOLDER, (whole, name: string) => {
    if (!(PLACEHOLDERS as readonly string[]).includes(name))
      throw new TemplateError(`unknown placeholder ${whole}; known: ${PLACEHOLDERS.map((p) => `{${p}}`).join(' ')}`);
    return encodeURIComponent(values[name as keyof TemplateValues]);
  });
}

/** What is wrong with one template (as a push URL or a play URL), or undefined. */
function templateProblem(template: string, kind: 'push' | 'play'): string | undefined {
  const stray = template.replace(PLACEHOLDER, '').match(/[{}]/);
  if (stray) return `has an unmatched '${stray[0]}'`;
  if (!template.includes('{key}')) return 'must hold {key} (the random stream key of each relay)';
  const sample: TemplateValues = { site: 'site-1', camera: 'cam-1', stream: 'sub', key: 'k3y' };
  let url: string;
  try {
    url = renderTemplate(template, sample);
  } catch (err) {
    return (err as Error).message;
  }
  if (kind === 'push') {
    try {
      parseRelayTarget(url);
    } catch (err) {
      return `does not give a push URL the agents accept: ${(err as Error).message}`;
    }
    return undefined;
  }
  try {
    new URL(url);
  } catch {
    return `does not give a URL (rendered: ${url})`;
  }
  // The dashboard's Content-Security-Policy names each media server's origin (central/web/headers.ts):
  // a host that changes per camera could not be named, and the browser would refuse the video.
  const authority = /^[a-z][a-z0-9+.-]*:\/\/([^/?#]*)/i.exec(template)?.[1] ?? '';
  if (authority.includes('{')) return `has a placeholder in its host (${authority}): write the media server's host and port out; placeholders go in the path`;
  return undefined;
}

/** Every problem of central.media, each naming its key; empty when it is usable. */
export function mediaProblems(media: MediaConfig): string[] {
  const problems: string[] = [];
  const names = new Set<string>();
  media.servers.forEach((server, i) => {
    const at = `media.servers[${i}]`;
    if (names.has(server.name)) problems.push(`${at}.name "${server.name}" is used twice; give each server its own name`);
    names.add(server.name);
    const push = templateProblem(server.push, 'push');
    if (push) problems.push(`${at}.push ${push}`);
    for (const [name, template] of Object.entries(server.play)) {
      const play = templateProblem(template, 'play');
      if (play) problems.push(`${at}.play.${name} ${play}`);
    }
  });
  return problems;
}

function trimSlashes(path: string): string {
  return path
    .split('/')
    .filter((level) => level !== '')
    .join('/');
}

/** Does region path `prefix` contain `region` (whole path levels: 浙江省/杭州市 contains 浙江省/杭州市/西湖区, not 浙江省/杭州市郊)? */
export function regionWithin(region: string, prefix: string): boolean {
  const r = trimSlashes(region);
  const p = trimSlashes(prefix);
  return p !== '' && (r === p || r.startsWith(`${p}/`));
}

/**
 * The server that takes a camera: one that lists its site; else the one with the longest region
 * prefix containing its region; else a default server (neither sites nor regions). Ties go to the
 * first in the list. Undefined when none fits.
 */
export function chooseServer(servers: readonly MediaServer[], site: string, region: string | null): MediaServer | undefined {
  let best: { server: MediaServer; score: number } | undefined;
  for (const server of servers) {
    let score = -1;
    if (server.sites?.includes(site)) score = Number.MAX_SAFE_INTEGER;
    else if (region !== null) {
      for (const prefix of server.regions ?? []) {
        if (regionWithin(region, prefix)) score = Math.max(score, 1 + trimSlashes(prefix).split('/').length);
      }
    }
    if (score < 0 && !server.sites?.length && !server.regions?.length) score = 0;
    if (score >= 0 && (!best || score > best.score)) best = { server, score };
  }
  return best?.server;
}

export interface RenderedRelay {
  push: string;
  play: Record<string, string>;
}

export function renderServer(server: MediaServer, values: TemplateValues): RenderedRelay {
  const play: Record<string, string> = {};
  for (const [name, template] of Object.entries(server.play)) play[name] = renderTemplate(template, values);
  return { push: renderTemplate(server.push, values), play };
}
