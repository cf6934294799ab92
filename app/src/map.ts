// Stations drawn as SVG over a bundled latitude/longitude grid (no map tiles: the app works
// offline). Equirectangular projection of the stations' bounding box, padded.
import { decodeGeohash, type LatLon } from "./geohash";

export interface MapPoint {
  id: string;
  label: string;
  at: LatLon;
}

export interface Box {
  south: number;
  north: number;
  west: number;
  east: number;
}

/** The box around `points` with `padDeg` of margin (a 2-degree box around one point). */
export function boundingBox(points: LatLon[], padDeg = 0.5): Box {
  if (points.length === 0) return { south: 35, north: 60, west: -10, east: 30 };
  const lats = points.map((p) => p.lat);
  const lons = points.map((p) => p.lon);
  // a box of no width (one station, or stations on one meridian) gets a 0.01-degree margin
  const latPad = Math.max(padDeg, Math.min(...lats) === Math.max(...lats) ? 0.01 : 0);
  const lonPad = Math.max(padDeg, Math.min(...lons) === Math.max(...lons) ? 0.01 : 0);
  return {
    south: Math.max(-90, Math.min(...lats) - latPad),
    north: Math.min(90, Math.max(...lats) + latPad),
    west: Math.max(-180, Math.min(...lons) - lonPad),
    east: Math.min(180, Math.max(...lons) + lonPad),
  };
}

/** Where `p` falls in a `width` x `height` drawing of `box` (y grows southwards). */
export function project(p: LatLon, box: Box, width: number, height: number): { x: number; y: number } {
  return {
    x: ((p.lon - box.west) / (box.east - box.west)) * width,
    y: ((box.north - p.lat) / (box.north - box.south)) * height,
  };
}

function gridStep(span: number): number {
  for (const step of [0.01, 0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 20]) if (span / step <= 8) return step;
  return 30;
}

const SVG = "http://www.w3.org/2000/svg";

function el(name: string, attrs: Record<string, string | number>, text?: string): SVGElement {
  const node = document.createElementNS(SVG, name);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== undefined) node.textContent = text;
  return node;
}

export function stationPoints(stations: { id: string; geohash: string; label: string }[]): MapPoint[] {
  const out: MapPoint[] = [];
  for (const s of stations) {
    try {
      out.push({ id: s.id, label: s.label, at: decodeGeohash(s.geohash) });
    } catch {
      // a station with an unreadable geohash stays in the list, off the map
    }
  }
  return out;
}

export function drawMap(svg: SVGSVGElement, points: MapPoint[], width = 640, height = 360): void {
  svg.replaceChildren();
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  const box = boundingBox(points.map((p) => p.at));
  svg.append(el("rect", { x: 0, y: 0, width, height, class: "map-sea" }));
  const latStep = gridStep(box.north - box.south);
  const lonStep = gridStep(box.east - box.west);
  for (let lat = Math.ceil(box.south / latStep) * latStep; lat <= box.north; lat += latStep) {
    const { y } = project({ lat, lon: box.west }, box, width, height);
    svg.append(el("line", { x1: 0, y1: y, x2: width, y2: y, class: "map-grid" }));
    svg.append(el("text", { x: 4, y: y - 2, class: "map-label" }, `${lat.toFixed(2)}°`));
  }
  for (let lon = Math.ceil(box.west / lonStep) * lonStep; lon <= box.east; lon += lonStep) {
    const { x } = project({ lat: box.south, lon }, box, width, height);
    svg.append(el("line", { x1: x, y1: 0, x2: x, y2: height, class: "map-grid" }));
    svg.append(el("text", { x: x + 2, y: height - 4, class: "map-label" }, `${lon.toFixed(2)}°`));
  }
  for (const p of points) {
    const { x, y } = project(p.at, box, width, height);
    const dot = el("circle", { cx: x.toFixed(1), cy: y.toFixed(1), r: 7, class: "map-station", "data-station": p.id });
    dot.append(el("title", {}, p.label));
    svg.append(dot);
  }
}
