// node-rtsp-stream's Mpeg1Muxer: the brief's MPEG-1 muxer for the JSMpeg fallback.
import type { ChildProcess } from 'node:child_process';

export interface Mpeg1LaunchOptions {
  url: string;
  ffmpegPath: string;
  /** Flat key/value ffmpeg options, as node-rtsp-stream's Mpeg1Muxer takes them ('' = flag without value). */
  ffmpegOptions: Record<string, string>;
}

/** Starts node-rtsp-stream's Mpeg1Muxer (it spawns `ffmpegPath -i url -f mpegts -codec:v mpeg1video … -`) and returns its ChildProcess. */
export function launchMpeg1Muxer(options: Mpeg1LaunchOptions): ChildProcess {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const Mpeg1Muxer = require('node-rtsp-stream/mpeg1muxer') as new (o: { url: string; ffmpegPath: string; ffmpegOptions: Record<string, string> }) => {
    stream: ChildProcess;
  };
  const muxer = new Mpeg1Muxer(options);
  // Mpeg1Muxer re-emits stdout/stderr as events (harmless: nobody listens) and console.error()s
  // "RTSP stream exited with error" on exit code 1, outside our logger: drop its exit listener.
  // The supervisor reads the ChildProcess itself (stdout, stderr tail, exit, restarts).
  muxer.stream.removeAllListeners('exit');
  return muxer.stream;
}
