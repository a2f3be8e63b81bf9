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
import type { SpawnFn } from '../../ffmpeg/types';
import { withCredentials } from '../../../lib/url';

/**
 * `ffmpeg`: how picture probes start ffmpeg — in the agent, the supervisor's spawnOnce (its
 * ffmpeg, counted, killed with the agent); default node's spawn of health.picture.ffmpegPath.
 */
export function defaultHealthProbes(config: HealthConfig, thresholds?: Partial<DiagnosisThresholds>, ffmpeg?: { spawn: SpawnFn }): HealthProbes {
  const pic = config.picture;
  // The probes' frame buffers (~4 MB each) are reused, not allocated per probe (the agent's memory budget).
  const framePool = new FramePool();
  return {
    reach: (target, { timeoutMs, signal }) => checkReach({ host: target.host, port: target.port, timeoutMs, signal }),
    clock: (deviceUrl, { timeoutMs, signal }) => checkClock({ deviceUrl, timeoutMs, signal }),
    stream: (args) => checkStream(args),
    picture: ({ camera, streamUrl, snapshotUrl, credentials, signal }) =>
      probePicture(
        {
          label: camera,
          ...(streamUrl ? { streamUrl: credentials ? withCredentials(streamUrl, credentials) : streamUrl } : {}),
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
          signal,
        },
        { framePool, ...(ffmpeg ? { spawn: ffmpeg.spawn } : {}) },
      ),
  };
}
