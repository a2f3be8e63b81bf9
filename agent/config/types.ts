// The effective agent configuration after defaults, file, environment and flags.
// Mirrors config/schema.json (the schema is the source of truth; test/agent/config.test.ts
// checks that every schema key appears here via the defaults).

import type { DiagnosisThresholds } from '../health/picture/diagnose';

export type LogLevel = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace' | 'silent';
/** auto: pretty when stderr is a terminal, JSON otherwise. */
export type LogFormat = 'auto' | 'json' | 'pretty';

export interface AgentConfig {
  site: { id?: string; name?: string };
  dataDir: string;
  broker: {
    urls: string[];
    username?: string;
    password?: string;
    ca?: string;
    cert?: string;
    key?: string;
    /** 5 = MQTT 5 (default), 4 = MQTT 3.1.1. */
    protocolVersion: 4 | 5;
    clientId?: string;
    keepaliveSec: number;
    connectTimeoutMs: number;
    reconnectMinMs: number;
    reconnectMaxMs: number;
  };
  uplink: {
    outboxQuotaMb: number;
    replayWindow: number;
    replayMaxPerSec: number;
    metricsIntervalSec: number;
    commandTimeoutMs: number;
  };
  cameras: { username?: string; password?: string };
  discovery: {
    /** Probe window (capped at three quarters of overallTimeoutMs by `discover`). */
    timeoutMs: number;
    /** Overall bound of one `discover` (= its --timeout). */
    overallTimeoutMs: number;
    ranges: string[];
    multicast: boolean;
    interfaces: string[];
    concurrency: number;
  };
  onvif: { timeoutMs: number };
  health: {
    enabled: boolean;
    reachIntervalSec: number;
    streamIntervalSec: number;
    pictureIntervalSec: number;
    statusIntervalSec: number;
    connectTimeoutMs: number;
    requestTimeoutMs: number;
    offlineAfterFailures: number;
    onlineAfterSuccesses: number;
    confirmDelayMs: number;
    flapTransitions: number;
    flapWindowSec: number;
    concurrency: number;
    picture: {
      source: 'auto' | 'stream' | 'snapshot';
      seconds: number;
      frames: number;
      timeoutMs: number;
      concurrency: number;
      maxSnapshotBytes: number;
      thumbnailMaxBytes: number;
      thumbnailWidth: number;
      ffmpegPath?: string;
    };
    /** Same keys as the diagnosis' own thresholds (agent/health/picture/diagnose.ts). */
    diagnosis: DiagnosisThresholds;
    clock: { maxDriftMs: number; autoSync: boolean };
    host: { diskLowPercent: number; temperatureHighC: number };
  };
  video: {
    /** Explicit ffmpeg; else FFMPEG_PATH, ffmpeg-static, PATH (agent/video/ffmpeg/locate.ts). */
    ffmpegPath?: string;
    stallTimeoutSec: number;
    restartMinMs: number;
    restartMaxMs: number;
    connectTimeoutMs: number;
    relay: {
      /** 0 = no budget. */
      budgetKbps: number;
      maxRelays: number;
      /** 0 = a relay runs until stream-stop. */
      idleTimeoutSec: number;
      assumedMainKbps: number;
      assumedSubKbps: number;
    };
  };
  web: {
    enabled: boolean;
    host: string;
    port: number;
    username: string;
    password?: string;
    lingerSec: number;
    maxViewers: number;
    fallbackWidth: number;
    fallbackBitrateKbps: number;
    /** 0 = off; see keyframe-interval.ts. */
    maxKeyframeIntervalSec: number;
  };
  log: { level: LogLevel; format: LogFormat };
}

/** Where a value came from, for error messages and `config show`. */
export type ConfigSource =
  | { kind: 'default' }
  | { kind: 'file'; file: string; line?: number }
  | { kind: 'env'; name: string }
  | { kind: 'flag'; name: string };

export function describeSource(source: ConfigSource): string {
  switch (source.kind) {
    case 'default':
      return 'default';
    case 'file':
      return source.line ? `${source.file}:${source.line}` : source.file;
    case 'env':
      return `env ${source.name}`;
    case 'flag':
      return `flag ${source.name}`;
  }
}
