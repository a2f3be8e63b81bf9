// The basemap when no tile server is configured (an intranet without one): a plain grid of tile
// outlines, so the points still sit on something that pans and zooms.
import L from 'leaflet';

export function blankGrid(): L.GridLayer {
  const Grid = L.GridLayer.extend({
    createTile(): HTMLElement {
      const tile = document.createElement('div');
      tile.className = 'grid-tile';
      return tile;
    },
  }) as new (options?: L.GridLayerOptions) => L.GridLayer;
  return new Grid({ attribution: '' });
}
