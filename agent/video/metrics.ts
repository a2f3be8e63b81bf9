// The video part of the metrics payload: ffmpeg processes by kind, relays with their stats, live pulls.
import type { MetricsSample } from '../../contract';
import type { FfmpegSupervisor } from '../ffmpeg/supervisor';
import type { LivePulls } from './live/live-pull';
import type { RelayManager } from './relay/relays';

export interface VideoParts {
  supervisor: FfmpegSupervisor;
  relays: RelayManager;
  pulls: LivePulls;
}

export function videoMetrics({ supervisor, relays, pulls }: VideoParts): NonNullable<MetricsSample['video']> {
  const usage = relays.usage();
  return {
    ffmpeg: supervisor.count().byKind,
    relayKbps: usage.usedKbps,
    budgetKbps: usage.budgetKbps,
    relays: relays.list().map((r) => ({
      streamId: r.streamId,
      camera: r.camera,
      stream: r.stream,
      target: r.target,
      mode: r.mode,
      state: r.state,
      fps: r.fps,
      bitrateKbps: r.bitrateKbps,
      restarts: r.restarts,
      ...(r.lastError ? { lastError: r.lastError } : {}),
    })),
    live: pulls.list().map((p) => ({ camera: p.cameraId, stream: p.stream, mode: p.mode, viewers: p.viewers, state: p.state, dropped: p.dropped })),
  };
}
