// The region outlines an operator gives the dashboard's map (map.regionsGeoJson): read once at
// start and checked, so a wrong file stops the start with one line instead of an empty map later.
import { readFileSync } from 'node:fs';
import { CamgateError, EXIT_USAGE } from '../../lib/errors';

const AREA_TYPES = new Set(['Polygon', 'MultiPolygon']);

/** What is wrong with a parsed GeoJSON as region outlines, or undefined when it will do. */
export function outlineProblem(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null || (doc as { type?: unknown }).type !== 'FeatureCollection') {
    return 'not a GeoJSON FeatureCollection (its top level must be {"type": "FeatureCollection", "features": [...]})';
  }
  const features = (doc as { features?: unknown }).features;
  if (!Array.isArray(features)) return 'the FeatureCollection has no "features" array';
  for (const [i, f] of features.entries()) {
    const geometry = (f as { geometry?: { type?: unknown; coordinates?: unknown } } | null)?.geometry;
    if (!geometry || typeof geometry.type !== 'string' || !AREA_TYPES.has(geometry.type)) {
      return `feature ${i} is not a Polygon or MultiPolygon (outlines are areas; points and lines belong elsewhere)`;
    }
    if (!Array.isArray(geometry.coordinates)) return `feature ${i} has no coordinates`;
  }
  return undefined;
}

/** The outlines file's text, checked; undefined when none is configured. */
export function loadOutlines(file: string): string | undefined {
  if (file === '') return undefined;
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new CamgateError(`map.regionsGeoJson: cannot read ${file} (${(err as Error).message}): fix the path or leave the key empty`, EXIT_USAGE);
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new CamgateError(`map.regionsGeoJson: ${file} is not JSON (${(err as Error).message}): export the outlines as GeoJSON`, EXIT_USAGE);
  }
  const problem = outlineProblem(doc);
  if (problem) throw new CamgateError(`map.regionsGeoJson: ${file}: ${problem}`, EXIT_USAGE);
  return text;
}
