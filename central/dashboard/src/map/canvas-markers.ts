// The map's clusters and points drawn on one canvas (Leaflet's canvas renderer) instead of one DOM
// element each: with hundreds of markers in view, every DOM marker was its own compositing layer
// with its own style, so each pan and zoom step spent its time in style recalculation, layer
// commits and hit tests (docs/benchmarks.md, run 6). Leaflet's renderer still finds the marker
// under a click or hover, so clicks, the pointer cursor and tooltips work as before.
import L from 'leaflet';
import { CLUSTER_RING, clusterFontPx, clusterRadius, POINT_RADIUS, POINT_RING, type StateColours } from './marker-look';
import type { MarkerState } from './state';

interface CanvasInternals {
  _drawing: boolean;
  _ctx: CanvasRenderingContext2D;
  _updateCircle(layer: L.CircleMarker): void;
}

/** A circle with a count in it; Leaflet's circle marker draws the circle, the count goes on top. */
const CountMarker = L.CircleMarker.extend({
  _updatePath(this: L.CircleMarker & { _renderer: CanvasInternals; _point: L.Point; options: { label: string; font: string } }) {
    const renderer = this._renderer;
    renderer._updateCircle(this);
    if (!renderer._drawing) return;
    const ctx = renderer._ctx;
    ctx.fillStyle = '#fff';
    ctx.font = this.options.font;
    ctx.textAlign = 'center';
    ctx.textBaseline = 'middle';
    ctx.fillText(this.options.label, this._point.x, this._point.y);
  },
}) as unknown as new (latlng: L.LatLngExpression, options: L.CircleMarkerOptions & { label: string; font: string }) => L.CircleMarker;

export interface MarkerLook {
  colours: StateColours;
  /** The page's font family, for the counts. */
  fontFamily: string;
  renderer: L.Renderer;
}

// The ring is drawn as the circle's stroke, centred on its radius: the circle's own radius is
// half a ring inside the marker's outer edge.
export function clusterMarker(latlng: L.LatLngExpression, count: number, worst: MarkerState, look: MarkerLook): L.CircleMarker {
  return new CountMarker(latlng, {
    renderer: look.renderer,
    radius: clusterRadius(count) - CLUSTER_RING / 2,
    weight: CLUSTER_RING,
    color: '#fff',
    opacity: 0.85,
    fillColor: look.colours[worst],
    fillOpacity: 1,
    label: String(count),
    font: `700 ${clusterFontPx(count)}px ${look.fontFamily}`,
  });
}

export function pointMarker(latlng: L.LatLngExpression, state: MarkerState, look: MarkerLook): L.CircleMarker {
  return L.circleMarker(latlng, {
    renderer: look.renderer,
    radius: POINT_RADIUS - POINT_RING / 2,
    weight: POINT_RING,
    color: '#fff',
    opacity: 1,
    fillColor: look.colours[state],
    fillOpacity: 1,
  });
}
