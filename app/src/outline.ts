// The bundled outline map drawn when no tile server is configured (offline): Natural Earth's
// 1:50m countries from the world-atlas package, TopoJSON turned into GeoJSON in the browser.
// Vite bundles the file as its own chunk: it is served by `wattnet app`, never fetched from
// the internet.
import type { FeatureCollection, Geometry } from "geojson";
import { feature } from "topojson-client";
import type { GeometryCollection, Topology } from "topojson-specification";

export type Outline = FeatureCollection<Geometry, { name: string }>;

/** The countries of a world-atlas topology as GeoJSON features (one per country, with its name). */
export function outlineFromTopology(topology: Topology): Outline {
  const countries = topology.objects.countries as GeometryCollection<{ name: string }> | undefined;
  if (!countries || countries.type !== "GeometryCollection") throw new Error("the outline map has no countries");
  return feature(topology, countries) as Outline;
}

/** The bundled outline (loaded on first use: the chunk is about 750 kB). */
export async function loadOutline(): Promise<Outline> {
  const topology = (await import("world-atlas/countries-50m.json")).default as unknown as Topology;
  return outlineFromTopology(topology);
}
