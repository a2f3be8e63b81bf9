// The inventory as the live page sees it (no URIs, no credentials: stream URIs name the camera's
// address), and the source resolver the live pulls use (the URI and the login, server side only;
// the login goes to the RTSP gate, never into ffmpeg's arguments).
import type { Database } from 'better-sqlite3';
import type { Credentials } from '../../drivers/types';
import { getCamera, listCameras, profileOf } from '../inventory/cameras';
import type { DeviceRecord } from '../inventory/types';
import type { LiveSource, LiveStream, ResolveSource } from '../video/live/types';

export interface PublicStream {
  stream: LiveStream;
  codec: string | null;
  width: number | null;
  height: number | null;
  fps: number | null;
}

export interface PublicCamera {
  id: string;
  name: string | null;
  host: string;
  channel: number;
  manufacturer: string | null;
  model: string | null;
  streams: PublicStream[];
  /** Health state (online / degraded / offline / unknown) when the health monitor runs. */
  health?: string;
}

export function publicCameras(db: Database, healthOf?: (cameraId: string) => string | undefined): PublicCamera[] {
  return listCameras(db).map((c) => {
    const streams: PublicStream[] = [];
    (['main', 'sub'] as const).forEach((stream, i) => {
      const p = c.profiles[i];
      if (!p?.streamUri) return;
      streams.push({ stream, codec: p.codec ?? null, width: p.width ?? null, height: p.height ?? null, fps: p.fps ?? null });
    });
    const health = healthOf?.(c.id);
    return {
      id: c.id,
      name: c.name,
      host: c.device.host,
      channel: c.channel,
      manufacturer: c.device.manufacturer,
      model: c.device.model,
      streams,
      ...(health ? { health } : {}),
    };
  });
}

/** ResolveSource from the inventory: the profile's stream URI and the device's (or the default) login. */
export function inventorySource(db: Database, credentialsFor: (device: DeviceRecord) => Credentials | undefined): ResolveSource {
  return (cameraId, stream): LiveSource | undefined => {
    const camera = getCamera(db, cameraId);
    if (!camera) return undefined;
    const p = profileOf(camera, stream);
    if (!p?.streamUri) return undefined;
    const creds = credentialsFor(camera.device);
    return {
      url: p.streamUri,
      ...(creds ? { credentials: creds } : {}),
      ...(p.codec ? { codec: p.codec } : {}),
      ...(p.width ? { width: p.width } : {}),
      ...(p.height ? { height: p.height } : {}),
      ...(p.fps ? { fps: p.fps } : {}),
    };
  };
}
