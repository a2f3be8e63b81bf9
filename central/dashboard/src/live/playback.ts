// Which way a browser plays a live view, from the play URLs the central answered (named after the
// media server's play templates: hls, flv, rtmp, webrtc, …). HLS first: every browser has a way
// to play it (hls.js over Media Source Extensions, or the browser's own HLS as in Safari), and it
// passes proxies; HTTP-FLV through mpegts.js when there is no HLS. hls.js before the browser's own
// HLS when both are there: recent Chromium answers canPlayType(HLS) "maybe" too, and hls.js
// reports errors a user can be told about. Pure.

export type Playback = { kind: 'hls.js'; url: string } | { kind: 'native-hls'; url: string } | { kind: 'mpegts'; url: string };

export interface BrowserAbilities {
  /** Media Source Extensions with H.264 (what hls.js and mpegts.js feed). */
  mse: boolean;
  /** The <video> plays HLS itself (canPlayType('application/vnd.apple.mpegurl') not empty). */
  nativeHls: boolean;
}

export class NoPlayback extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'NoPlayback';
  }
}

/** The way to play, or NoPlayback saying what the answer offered and what this browser lacks. */
export function choosePlayback(play: Readonly<Record<string, string>>, browser: BrowserAbilities): Playback {
  const names = Object.keys(play);
  const hls = play.hls;
  const flv = play.flv;
  if (hls !== undefined && browser.mse) return { kind: 'hls.js', url: hls };
  if (hls !== undefined && browser.nativeHls) return { kind: 'native-hls', url: hls };
  if (flv !== undefined && browser.mse) return { kind: 'mpegts', url: flv };
  if (hls === undefined && flv === undefined)
    return fail(
      `the media server offers ${names.join(', ') || 'no play URL'}; the dashboard plays hls or flv: add one to the server's play templates (media.servers[].play)`,
    );
  return fail(`this browser has neither Media Source Extensions nor its own HLS: it cannot play ${names.join(', ')}`);
}

function fail(message: string): never {
  throw new NoPlayback(message);
}
