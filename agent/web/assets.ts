// The page's files: read once at start from agent/web/static, and JSMpeg's browser build from
// node_modules (the box has no internet), served without the stylesheet it would inject.
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, extname, join } from 'node:path';
import type { Logger } from '../../lib/log';

export const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
};

/**
 * Where the page's files are: compiled code runs from dist/agent/web (the files stay in the source
 * tree: ../../../agent/web/static); run from source (ts-node, tsx) it is ./static.
 */
export function staticDir(): string {
  const candidates = [join(__dirname, '..', '..', '..', 'agent', 'web', 'static'), join(__dirname, 'static')];
  for (const c of candidates) if (existsSync(join(c, 'index.html'))) return c;
  throw new Error(`live view page not found (looked in ${candidates.join(', ')})`);
}

/** Every servable file of the directory (plain names with a known type), by name. */
export function loadStatic(dir: string): Map<string, Buffer> {
  const files = new Map<string, Buffer>();
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (!/^[\w.-]+$/.test(name) || !statSync(p).isFile() || !CONTENT_TYPES[extname(name)]) continue;
    files.set(name, readFileSync(p));
  }
  return files;
}

/** JSMpeg's browser build from node_modules (its package "exports" hide dist/, so resolve the main file and look beside it). */
export function jsmpegPath(): string {
  const main = require.resolve('@cycjimmy/jsmpeg-player');
  return join(dirname(main), 'jsmpeg-player.umd.min.js');
}

const JSMPEG_STYLE_TARGET = 'document.head||document.getElementsByTagName("head")[0]';

/**
 * JSMpeg's bundles put a <style> into document.head as soon as they load, for the overlay of its
 * VideoElement (play button, poster). The page uses only JSMpeg.Player on a canvas of its own, so
 * that sheet styles nothing here, and under style-src 'self' every browser blocks it with a console
 * error. Pointing the injector at a detached <head> keeps the sheet out of the document (a style
 * element that is not in the document is never checked against the policy), and the policy stays
 * free of 'unsafe-inline' and hashes. Undefined when the injector is not there exactly once
 * (another JSMpeg build).
 */
export function withoutJsmpegStylesheet(bundle: string): string | undefined {
  const at = bundle.indexOf(JSMPEG_STYLE_TARGET);
  if (at < 0 || bundle.includes(JSMPEG_STYLE_TARGET, at + 1)) return undefined;
  const rest = bundle.slice(at + JSMPEG_STYLE_TARGET.length);
  if (!/^,\w+=document\.createElement\("style"\)/.test(rest)) return undefined;
  return bundle.slice(0, at) + 'document.createElement("head")' + rest;
}

export function loadJsmpeg(logger: Logger): Buffer {
  const path = jsmpegPath();
  const bundle = readFileSync(path, 'utf8');
  const served = withoutJsmpegStylesheet(bundle);
  if (served === undefined) {
    logger.warn(
      { path },
      "web: JSMpeg's stylesheet injector not found (a JSMpeg build other than @cycjimmy/jsmpeg-player 6.x?): served unchanged, so browsers log a blocked inline style (style-src 'self') when JSMpeg loads; playing is not affected",
    );
    return Buffer.from(bundle);
  }
  return Buffer.from(served);
}
