// What the dashboard's map needs from the configuration: where its tiles come from, their
// coordinate system, the attribution, and the operator's region outlines.
import { Type } from '@sinclair/typebox';
import type { Api, ApiDeps } from '../types';
import { ErrorSchema } from './schemas';

const MapSettingsSchema = Type.Object({
  tileUrl: Type.String({ description: 'Leaflet URL template of the basemap tiles; empty: no tiles (a plain grid).' }),
  coordinateSystem: Type.Union([Type.Literal('wgs84'), Type.Literal('gcj02')], {
    description: "The tiles' (and outlines') coordinate system; camera coordinates (WGS-84) are shifted to it.",
  }),
  attribution: Type.String(),
  outlines: Type.Boolean({ description: 'Region outlines are configured (GET /api/map/outlines).' }),
});

export function registerMapRoutes(app: Api, deps: ApiDeps): void {
  const { tileUrl, coordinateSystem, attribution } = deps.config.map;
  app.get(
    '/api/map',
    {
      config: { role: 'viewer' },
      schema: { summary: "The map's settings: tile URL, coordinate system, attribution", tags: ['map'], response: { 200: MapSettingsSchema } },
    },
    () => ({ tileUrl, coordinateSystem, attribution, outlines: deps.mapOutlines !== undefined }),
  );

  app.get(
    '/api/map/outlines',
    {
      config: { role: 'viewer' },
      schema: {
        summary: 'The region outlines (GeoJSON) drawn on the map',
        tags: ['map'],
        response: { 200: Type.Unknown({ description: 'A GeoJSON FeatureCollection of Polygon/MultiPolygon features.' }), 404: ErrorSchema },
      },
    },
    (_request, reply) => {
      if (deps.mapOutlines === undefined) {
        return reply.code(404).send({ error: 'not-found', message: 'no region outlines are configured: set map.regionsGeoJson to a GeoJSON file' });
      }
      return reply.type('application/geo+json; charset=utf-8').send(deps.mapOutlines);
    },
  );
}
