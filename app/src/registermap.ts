// The registration form's location: a geohash picked by clicking the map (or Enter on the
// focused map, at its centre) at the precision chosen, or typed; the cell is outlined on the
// map and said in words. The map is made once its box is on screen (the form is hidden until a
// wallet connects, and Leaflet needs a size).
import type { Page } from "./chargeui";
import { decodeGeohash, describeCell, encodeGeohash, type LatLon } from "./geohash";
import type { LocationPicker } from "./map";
import { geohashBytes8 } from "./register";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export function wireLocationPicker(page: Page): void {
  const box = $("reg-map");
  const input = $<HTMLInputElement>("reg-geohash");
  const precision = $<HTMLSelectElement>("reg-precision");
  const note = $("reg-cell");
  let picker: LocationPicker | null = null;
  let picked: LatLon | null = null;

  const show = (hash: string) => {
    try {
      geohashBytes8(hash); // the registry's rule: 1 to 8 base32 characters
      picker?.showCell(hash.trim().toLowerCase());
      note.textContent = describeCell(hash.trim().toLowerCase());
      note.classList.remove("error");
    } catch (err) {
      picker?.showCell(null);
      note.textContent = err instanceof Error ? err.message : String(err);
      note.classList.add("error");
    }
  };
  const pick = (at: LatLon) => {
    picked = at;
    input.value = encodeGeohash(at, Number(precision.value));
    show(input.value);
  };

  input.addEventListener("input", () => {
    picked = null;
    show(input.value);
  });
  precision.addEventListener("change", () => {
    if (picked) pick(picked);
  });
  const open = (made: LocationPicker) => {
    picker = made;
    if (input.value.trim()) return show(input.value);
    const first = page.stations()[0]?.geohash; // start where the network's stations are
    try {
      if (first) {
        const { lat, lon } = decodeGeohash(first);
        picker.map.setView([lat, lon], 13);
      }
    } catch {
      // an unreadable geohash: stay on the overview
    }
  };
  let opening = false;
  new ResizeObserver(() => {
    if (box.clientWidth === 0) return;
    if (picker) {
      picker.map.invalidateSize();
      return;
    }
    if (opening) return;
    opening = true;
    void import("./map").then(({ LocationPicker }) => open(new LocationPicker(box, page.config()?.tiles, pick)));
  }).observe(box);
}
