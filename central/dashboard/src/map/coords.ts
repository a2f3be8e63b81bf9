// Camera coordinates are WGS-84 (GPS, the ledgers); Chinese basemaps are GCJ-02, hundreds of metres
// off in a city. Points are shifted to the tiles' system (map.coordinateSystem) before they are
// drawn; gcoord leaves points outside China as they are, as GCJ-02 itself does.
import gcoord from 'gcoord';

export type CoordinateSystem = 'wgs84' | 'gcj02';

/** [lat, lng] on the map for a WGS-84 position. */
export function toMap(latitude: number, longitude: number, system: CoordinateSystem): [number, number] {
  if (system === 'wgs84') return [latitude, longitude];
  const [lng, lat] = gcoord.transform([longitude, latitude], gcoord.WGS84, gcoord.GCJ02);
  return [lat, lng];
}
