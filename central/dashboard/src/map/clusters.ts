// Clustering of the cameras' points (supercluster: 20,000 points index in well under a second and a
// view's clusters come back in milliseconds), each cluster carrying its count per state so its
// colour is its worst state and its tooltip can say how many of each.
import Supercluster from 'supercluster';
import { noCounts, worstOf, type MarkerState, type StateCounts } from './state';

export interface MapPoint {
  /** Position on the map (already in the tiles' coordinate system). */
  lat: number;
  lng: number;
  state: MarkerState;
  /** Index into the caller's camera list. */
  index: number;
}

type PointProps = { index: number; state: MarkerState };
type ClusterProps = StateCounts;

export type Shown =
  | { kind: 'cluster'; id: number; lat: number; lng: number; count: number; counts: StateCounts; worst: MarkerState }
  | { kind: 'point'; lat: number; lng: number; index: number; state: MarkerState };

export interface ClusterIndex {
  /** What to draw for a view: bbox is [west, south, east, north]. */
  shown(bbox: [number, number, number, number], zoom: number): Shown[];
  /** The zoom at which a cluster falls apart (to zoom into on a click). */
  expansionZoom(clusterId: number): number;
}

export function clusterIndex(points: readonly MapPoint[], options: { radius?: number; maxZoom?: number } = {}): ClusterIndex {
  const index = new Supercluster<PointProps, ClusterProps>({
    radius: options.radius ?? 60,
    maxZoom: options.maxZoom ?? 17,
    map: (p) => {
      const counts = noCounts();
      counts[p.state] = 1;
      return counts;
    },
    reduce: (acc, p) => {
      acc.offline += p.offline;
      acc.fault += p.fault;
      acc.unknown += p.unknown;
      acc.online += p.online;
    },
  });
  index.load(
    points.map((p) => ({
      type: 'Feature' as const,
      geometry: { type: 'Point' as const, coordinates: [p.lng, p.lat] },
      properties: { index: p.index, state: p.state },
    })),
  );
  return {
    shown(bbox, zoom) {
      return index.getClusters(bbox, Math.round(zoom)).map((f): Shown => {
        const [lng, lat] = f.geometry.coordinates;
        const props = f.properties;
        if ('cluster' in props && props.cluster) {
          const counts: StateCounts = { offline: props.offline, fault: props.fault, unknown: props.unknown, online: props.online };
          return { kind: 'cluster', id: props.cluster_id, lat, lng, count: props.point_count, counts, worst: worstOf(counts) };
        }
        const p = props as PointProps;
        return { kind: 'point', lat, lng, index: p.index, state: p.state };
      });
    },
    expansionZoom(clusterId) {
      return index.getClusterExpansionZoom(clusterId);
    },
  };
}
