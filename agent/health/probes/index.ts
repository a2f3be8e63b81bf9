// The real probes behind the monitor's HealthProbes interface: TCP, ONVIF clock, RTSP DESCRIBE
// (probes/), and the picture probe (picture/) with the snapshot fetch as its fallback source.
import type { HealthConfig, HealthProbes } from '../monitor';
import type { DiagnosisThresholds } from '../picture/diagnose';
import { probePicture } from '../picture/probe';
import { FramePool } from '../picture/grab';
import { checkReach } from './reach';
import { checkClock } from './clock';
import { checkStream } from './describe';
import { fetchSnapshot } from './snapshot';
import type { CameraInput, SpawnFn } from '../../ffmpeg/types';

/** Without a gate: a stream that needs a login is not grabbed (its login would go into ffmpeg's arguments). */
const noLoginInput: CameraInput = async (source) => {
  if (source.credentials)
    throw Object.assign(new Error(`${source.label}: the camera needs a login and no RTSP gate was given to log in for ffmpeg`), { code: 'failed' });
  return source.url;
};

/**
 * `ffmpeg.spawn`: how picture probes start ffmpeg — in the agent, the supervisor's spawnOnce (its
 * ffmpeg, counted, killed with the agent); default node's spawn of health.picture.ffmpegPath.
 * `ffmpeg.input`: what ffmpeg opens for a camera stream — in the agent, its RTSP gate (the login
 * never goes into ffmpeg's arguments); default: streams without a login only.
 */
export function defaultHealthProbes(
  config: HealthConfig,
  thresholds?: Partial<DiagnosisThresholds>,
  ffmpeg?: { spawn?: SpawnFn; input?: CameraInput },
): HealthProbes {
  const pic = config.picture;
  // The probes' frame buffers (two frames of ~0.7 MB per probe at a time) are reused, not allocated
  // per probe (the agent's memory budget).
  const framePool = new FramePool();
  const input = ffmpeg?.input ?? noLoginInput;
  return {
    reach: (target, { timeoutMs, signal }) => checkReach({ host: target.host, port: target.port, timeoutMs, signal }),
    clock: (deviceUrl, { timeoutMs, signal }) => checkClock({ deviceUrl, timeoutMs, signal }),
    stream: (args) => checkStream(args),
    picture: async ({ camera, streamUrl, snapshotUrl, credentials, reference, takeReference, signal }) =>
      probePicture(
        {
          label: camera,
          ...(streamUrl ? { streamInput: () => input({ url: streamUrl, ...(credentials ? { credentials } : {}), label: `picture probe ${camera}` }) } : {}),
          ...(snapshotUrl
            ? {
                fetchSnapshot: (s: AbortSignal) =>
                  fetchSnapshot({
                    url: snapshotUrl,
                    ...(credentials ? { credentials } : {}),
                    maxBytes: pic.maxSnapshotBytes,
                    timeoutMs: config.requestTimeoutMs,
                    signal: s,
                  }),
              }
            : {}),
          frames: pic.frames,
          seconds: pic.seconds,
          timeoutMs: pic.timeoutMs,
          thumbnailWidth: pic.thumbnailWidth,
          thumbnailMaxBytes: pic.thumbnailMaxBytes,
          ...(pic.ffmpegPath ? { ffmpegPath: pic.ffmpegPath } : {}),
          ...(thresholds ? { thresholds } : {}),
          ...(reference ? { reference } : {}),
          ...(takeReference ? { takeReference } : {}),
          signal,
        },
        { framePool, ...(ffmpeg?.spawn ? { spawn: ffmpeg.spawn } : {}) },
      ),
  };
}
