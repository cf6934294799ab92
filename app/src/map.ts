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

/** The box around `points`, with a margin of a fifth of their spread (at least 0.01 degrees),
 * widened to the drawing's aspect (`width`/`height`, longitude scaled by the cosine of the
 * latitude) so the stations are not distorted. No points: Europe. */
export function boundingBox(points: LatLon[], width = 640, height = 360): Box {
  if (points.length === 0) return { south: 35, north: 60, west: -10, east: 30 };
  const lats = points.map((p) => p.lat);
  const lons = points.map((p) => p.lon);
  let south = Math.min(...lats);
  let north = Math.max(...lats);
  let west = Math.min(...lons);
  let east = Math.max(...lons);
  const pad = Math.max(0.01, (north - south) / 5, (east - west) / 5);
  south -= pad; north += pad; west -= pad; east += pad;
  const cos = Math.max(0.1, Math.cos((((south + north) / 2) * Math.PI) / 180));
  const latSpan = north - south;
  const lonSpan = east - west;
  const want = width / height; // drawn width per drawn height
  if ((lonSpan * cos) / latSpan < want) {
    const grow = (want * latSpan) / cos - lonSpan;
    west -= grow / 2; east += grow / 2;
  } else {
    const grow = (lonSpan * cos) / want - latSpan;
    south -= grow / 2; north += grow / 2;
  }
  return { south: Math.max(-90, south), north: Math.min(90, north), west: Math.max(-180, west), east: Math.min(180, east) };
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
  const box = boundingBox(points.map((p) => p.at), width, height);
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
