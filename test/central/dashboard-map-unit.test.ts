// The map's marker sizes (pure): a cluster grows with its count, and each size leaves room between
// its count and its ring, where the colour of the cluster shows plain (the browser tests read the
// canvas there, test/kit/map-canvas.ts: six pixels inside the outer edge, below the centre).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CLUSTER_RING, clusterFontPx, clusterRadius, POINT_RADIUS, POINT_RING } from '../../central/dashboard/src/map/marker-look';

test('clusters grow with their count in four steps, each larger than a single point', () => {
  const radii = [1, 9, 10, 99, 100, 999, 1000, 20000].map(clusterRadius);
  assert.deepEqual(radii, [15, 15, 19, 19, 23, 23, 28, 28]);
  assert.ok(radii[0] > POINT_RADIUS);
  assert.ok(POINT_RADIUS - POINT_RING >= 3, "a point's fill is wider than its ring");
});

test("every cluster size has plain fill between its count's glyphs and its ring", () => {
  for (const count of [1, 10, 100, 1000]) {
    const sampled = clusterRadius(count) - 6;
    // Digits reach about 0.4 em either side of the middle baseline.
    assert.ok(sampled > clusterFontPx(count) * 0.5, `${count}: below the count`);
    assert.ok(sampled < clusterRadius(count) - CLUSTER_RING - 1, `${count}: inside the ring`);
  }
});
