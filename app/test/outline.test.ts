import { describe, expect, it } from "vitest";
import { loadOutline } from "../src/outline";

/** Ray casting over a polygon's outer ring ([lon, lat] pairs). */
function inRing(ring: number[][], lon: number, lat: number): boolean {
  let inside = false;
  for (let i = 0, j = ring.length - 1; i < ring.length; j = i++) {
    const [xi, yi] = ring[i]!;
    const [xj, yj] = ring[j]!;
    if (yi! > lat !== yj! > lat && lon < ((xj! - xi!) * (lat - yi!)) / (yj! - yi!) + xi!) inside = !inside;
  }
  return inside;
}

describe("the bundled outline map", () => {
  it("loads every country of Natural Earth 1:50m as a named GeoJSON feature", async () => {
    const outline = await loadOutline();
    expect(outline.type).toBe("FeatureCollection");
    expect(outline.features.length).toBeGreaterThan(200);
    const names = outline.features.map((f) => f.properties.name);
    expect(names).toContain("Germany");
    expect(names).toContain("Brazil");
  });
  it("puts Berlin (the devnet's stations) in Germany and the North Sea in no country", async () => {
    const outline = await loadOutline();
    const holding = (lon: number, lat: number) => outline.features.filter((f) => {
      const g = f.geometry;
      const polygons = g.type === "Polygon" ? [g.coordinates] : g.type === "MultiPolygon" ? g.coordinates : [];
      return polygons.some((p) => inRing(p[0]!, lon, lat));
    }).map((f) => f.properties.name);
    expect(holding(13.40, 52.52)).toEqual(["Germany"]);
    expect(holding(3.0, 55.5)).toEqual([]);
  });
});
