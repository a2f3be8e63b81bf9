// The live-view routes of one camera (docs/live-view.md) through the dashboard's API client, so
// every change carries the CSRF header, the DELETE of a closing tab included (keepalive).
import type { ApiClient } from '../api/client';
import type { LiveApi, LiveLease } from './view';

export function cameraLiveApi(api: ApiClient, site: string, camera: string): LiveApi {
  const base = `/api/cameras/${encodeURIComponent(site)}/${encodeURIComponent(camera)}/live`;
  return {
    start: () => api.send<LiveLease>('POST', base, {}),
    renew: (lease) => api.send('POST', `${base}/${encodeURIComponent(lease)}/renew`),
    end: (lease, how) => api.send('DELETE', `${base}/${encodeURIComponent(lease)}`, undefined, { keepalive: how.keepalive }),
  };
}
