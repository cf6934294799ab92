// Maps (Leaflet): the stations map and the registration's location picker. Tiles come from the
// URL template `wattnet app --tile-url` sets (/api/config); without one, as offline, the map
// draws the bundled Natural Earth outline (outline.ts) and nothing leaves the app's server.
import L from "leaflet";
import "leaflet/dist/leaflet.css";
import type { Tiles } from "./api";
import { decodeGeohash, geohashCell, type Cell, type LatLon } from "./geohash";
import { loadOutline } from "./outline";

export interface MapStation {
  id: string;
  geohash: string;
  name: string;
  details: string[]; // lines of its popup under the name
}

const EUROPE = L.latLngBounds([35, -10], [60, 30]);

/** A Leaflet map in `el` (a labelled, keyboard-focusable region) over the configured tiles;
 * without tiles, the returned `outline` draws the bundled outline (the caller picks when: its
 * 750 kB chunk should not hold up the page's data). */
export function baseMap(el: HTMLElement, tiles: Tiles | undefined, label: string): { map: L.Map; outline: () => void } {
  el.setAttribute("role", "region");
  el.setAttribute("aria-label", label);
  const map = L.map(el, { worldCopyJump: true, zoomSnap: 0.5 }).fitBounds(EUROPE);
  map.attributionControl.setPrefix('<a href="https://leafletjs.com">Leaflet</a>');
  if (tiles) {
    L.tileLayer(tiles.url, { attribution: tiles.attribution, maxZoom: 19 }).addTo(map);
    return { map, outline: () => undefined };
  }
  el.classList.add("map-offline");
  let drawn = false;
  const outline = () => {
    if (drawn) return;
    drawn = true;
    void loadOutline().then((o) => {
      L.geoJSON(o, { interactive: false, style: { className: "outline-country", weight: 1 } }).addTo(map);
      map.attributionControl.addAttribution("Outline: Natural Earth");
    });
  };
  return { map, outline };
}

function popup(s: MapStation): HTMLElement {
  const box = document.createElement("div");
  const name = document.createElement("strong");
  name.textContent = s.name;
  box.append(name);
  for (const line of s.details) {
    const p = document.createElement("div");
    p.textContent = line;
    box.append(p);
  }
  return box;
}

/** The stations as markers (tab to one, Enter opens its popup); `show` keeps them in step with
 * the filtered list. */
export class StationMap {
  readonly map: L.Map;
  /** Draw the bundled outline (without tiles): called once the stations are on the page. */
  readonly outline: () => void;
  private readonly layer = L.layerGroup();
  private readonly markers = new Map<string, L.Marker>();
  private fitted = false;

  constructor(el: HTMLElement, tiles: Tiles | undefined) {
    ({ map: this.map, outline: this.outline } = baseMap(el, tiles, "Map of the stations"));
    this.layer.addTo(this.map);
  }

  show(stations: MapStation[]): void {
    this.layer.clearLayers();
    this.markers.clear();
    const at: L.LatLng[] = [];
    for (const s of stations) {
      let p: LatLon;
      try {
        p = decodeGeohash(s.geohash);
      } catch {
        continue; // a station with an unreadable geohash stays in the list, off the map
      }
      const icon = L.divIcon({ className: "station-marker", iconSize: [18, 18], html: "" });
      const marker = L.marker([p.lat, p.lon], { icon, title: `${s.name}: details`, keyboard: true, riseOnHover: true })
        .bindPopup(popup(s));
      marker.addTo(this.layer);
      marker.getElement()?.setAttribute("data-station", s.id);
      this.markers.set(s.id, marker);
      at.push(marker.getLatLng());
    }
    if (!this.fitted && at.length > 0) {
      this.map.fitBounds(L.latLngBounds(at).pad(0.5), { maxZoom: 15 });
      this.fitted = true;
    }
  }

  /** Centre the map on a station and open its popup (from the list). */
  open(id: string): void {
    const marker = this.markers.get(id);
    if (!marker) return;
    this.map.panTo(marker.getLatLng());
    marker.openPopup();
  }
}

/** The registration's location picker: a click (or Enter on the focused map, at its centre)
 * reports a point; `showCell` outlines the geohash cell picked or typed. */
export class LocationPicker {
  readonly map: L.Map;
  private cell: L.Rectangle | null = null;

  constructor(el: HTMLElement, tiles: Tiles | undefined, pick: (at: LatLon) => void) {
    const base = baseMap(el, tiles, "Pick the station's location: click, or press Enter to pick the centre");
    this.map = base.map;
    base.outline();
    el.classList.add("map-picker");
    this.map.on("click", (e: L.LeafletMouseEvent) => pick({ lat: e.latlng.lat, lon: e.latlng.lng }));
    el.addEventListener("keydown", (e) => {
      if (e.key !== "Enter" || e.target !== el) return;
      e.preventDefault();
      const c = this.map.getCenter();
      pick({ lat: c.lat, lon: c.lng });
    });
  }

  showCell(hash: string | null): Cell | null {
    this.cell?.remove();
    this.cell = null;
    if (!hash) return null;
    const c = geohashCell(hash);
    const bounds = L.latLngBounds([c.south, c.west], [c.north, c.east]);
    this.cell = L.rectangle(bounds, { className: "geohash-cell", weight: 2, interactive: false }).addTo(this.map);
    if (!this.map.getBounds().contains(bounds)) this.map.fitBounds(bounds.pad(2), { maxZoom: 17 });
    return c;
  }
}
