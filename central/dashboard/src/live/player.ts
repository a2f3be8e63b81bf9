// Plays a live view's play URLs in a <video>: hls.js for HLS over Media Source Extensions, the
// browser's own HLS where there is no MSE (Safari on iPhone), mpegts.js for HTTP-FLV. Both
// libraries are imported when a live view first starts, so the map's first paint does not carry
// them. What the players report is turned into the view's events (view.ts): buffering, playing,
// or a failure a user can be told about (network, decode, unsupported, ended).
import { choosePlayback, NoPlayback, type Playback } from './playback';
import type { OpenPlayer, Player, PlayerEvent, PlayerFailure } from './view';

export class PlayerError extends Error {
  constructor(
    readonly reason: PlayerFailure,
    message: string,
  ) {
    super(message);
    this.name = 'PlayerError';
  }
}

const H264 = 'video/mp4; codecs="avc1.42E01E"';

function abilities(video: HTMLVideoElement) {
  const mse = typeof MediaSource !== 'undefined' && MediaSource.isTypeSupported(H264);
  return { mse, nativeHls: video.canPlayType('application/vnd.apple.mpegurl') !== '' };
}

/** The <video> element's own events, the same for every way of playing. */
function watchVideo(video: HTMLVideoElement, events: (e: PlayerEvent) => void, onError: (() => void) | undefined): () => void {
  const playing = () => events({ kind: 'playing' });
  const waiting = () => events({ kind: 'buffering' });
  const ended = () => events({ kind: 'failed', reason: 'ended', detail: 'the stream ended' });
  const error = () => onError?.();
  video.addEventListener('playing', playing);
  video.addEventListener('waiting', waiting);
  video.addEventListener('ended', ended);
  video.addEventListener('error', error);
  return () => {
    video.removeEventListener('playing', playing);
    video.removeEventListener('waiting', waiting);
    video.removeEventListener('ended', ended);
    video.removeEventListener('error', error);
  };
}

function emptyVideo(video: HTMLVideoElement): void {
  video.pause();
  video.removeAttribute('src');
  video.load();
}

function startPlaying(video: HTMLVideoElement): void {
  // Muted: browsers play a muted video without a further gesture (the relay is picture only anyway).
  video.muted = true;
  // A refused play() is followed by the video's own events; nothing more to tell here.
  video.play().catch(() => undefined);
}

async function playHlsJs(video: HTMLVideoElement, url: string, events: (e: PlayerEvent) => void): Promise<Player> {
  const { default: Hls } = await import('hls.js/light');
  const hls = new Hls({ lowLatencyMode: false, backBufferLength: 10 });
  let mediaErrors = 0;
  hls.on(Hls.Events.ERROR, (_event, data) => {
    if (!data.fatal) return;
    const detail = `${data.type}: ${data.details}${data.response?.code ? ` (HTTP ${data.response.code})` : ''}`;
    if (data.type === Hls.ErrorTypes.MEDIA_ERROR && mediaErrors++ === 0) return hls.recoverMediaError();
    events({ kind: 'failed', reason: data.type === Hls.ErrorTypes.NETWORK_ERROR ? 'network' : 'decode', detail });
  });
  hls.on(Hls.Events.MANIFEST_PARSED, () => startPlaying(video));
  const unwatch = watchVideo(video, events, undefined);
  hls.loadSource(url);
  hls.attachMedia(video);
  return {
    destroy() {
      unwatch();
      hls.destroy();
      emptyVideo(video);
    },
  };
}

function playNativeHls(video: HTMLVideoElement, url: string, events: (e: PlayerEvent) => void): Player {
  const unwatch = watchVideo(video, events, () => {
    const code = video.error?.code;
    // The browser does not say why a source failed: a playlist not there yet and a codec it
    // cannot play both come as "not supported"; the view opens the player again for a while.
    events({
      kind: 'failed',
      reason: code === MediaError.MEDIA_ERR_DECODE ? 'decode' : 'network',
      detail: video.error?.message || `media error ${code ?? ''}`,
    });
  });
  video.src = url;
  startPlaying(video);
  return {
    destroy() {
      unwatch();
      emptyVideo(video);
    },
  };
}

async function playMpegts(video: HTMLVideoElement, url: string, events: (e: PlayerEvent) => void): Promise<Player> {
  const { default: mpegts } = await import('mpegts.js');
  const player = mpegts.createPlayer({ type: 'flv', isLive: true, url }, { enableWorker: false, liveBufferLatencyChasing: true });
  player.on(mpegts.Events.ERROR, (type: string, detail: string) => {
    events({ kind: 'failed', reason: type === mpegts.ErrorTypes.MEDIA_ERROR ? 'decode' : 'network', detail: `${type}: ${detail}` });
  });
  // The server closing the stream (LOADING_COMPLETE) is not the end of the picture yet: mpegts.js
  // ends the MediaSource, the video plays what it holds, then fires 'ended' (watchVideo).
  const unwatch = watchVideo(video, events, undefined);
  player.attachMediaElement(video);
  player.load();
  video.muted = true;
  void Promise.resolve(player.play()).catch(() => undefined);
  return {
    destroy() {
      unwatch();
      player.pause();
      player.unload();
      player.detachMediaElement();
      player.destroy();
    },
  };
}

/** A player factory bound to one <video>. */
export function videoPlayer(video: HTMLVideoElement): OpenPlayer {
  return async (play, events) => {
    let playback: Playback;
    try {
      playback = choosePlayback(play, abilities(video));
    } catch (err) {
      throw new PlayerError('unsupported', err instanceof NoPlayback ? err.message : String(err));
    }
    if (playback.kind === 'hls.js') return playHlsJs(video, playback.url, events);
    if (playback.kind === 'native-hls') return playNativeHls(video, playback.url, events);
    return playMpegts(video, playback.url, events);
  };
}
