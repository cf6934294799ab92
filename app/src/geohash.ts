// Geohashes: the registry stores each station's location as a geohash in a bytes8 (1 to 8
// characters); the map decodes them to cells and encodes a clicked point to one.
const BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz";

export interface LatLon {
  lat: number;
  lon: number;
}

/** A geohash cell's edges in degrees. */
export interface Cell {
  south: number;
  north: number;
  west: number;
  east: number;
}

/** The cell named by `hash` (lower-case base32, 1-12 characters). */
export function geohashCell(hash: string): Cell {
  if (hash.length === 0 || hash.length > 12) throw new Error(`geohash ${JSON.stringify(hash)}: 1-12 characters`);
  const lat: [number, number] = [-90, 90];
  const lon: [number, number] = [-180, 180];
  let even = true;
  for (const ch of hash) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`geohash ${JSON.stringify(hash)}: bad character ${JSON.stringify(ch)}`);
    for (let bit = 4; bit >= 0; bit--) {
      const range = even ? lon : lat;
      const mid = (range[0] + range[1]) / 2;
      range[(v >> bit) & 1 ? 0 : 1] = mid;
      even = !even;
    }
  }
  return { south: lat[0], north: lat[1], west: lon[0], east: lon[1] };
}

/** The centre of the cell named by `hash`. */
export function decodeGeohash(hash: string): LatLon {
  const c = geohashCell(hash);
  return { lat: (c.south + c.north) / 2, lon: (c.west + c.east) / 2 };
}

/** The geohash of `precision` characters (1-12) whose cell holds the point (longitude wrapped
 * into -180..180, as a map's world copies give it). */
export function encodeGeohash(at: LatLon, precision: number): string {
  if (!Number.isInteger(precision) || precision < 1 || precision > 12) throw new Error(`geohash precision ${precision}: 1-12 characters`);
  if (!(at.lat >= -90 && at.lat <= 90)) throw new Error(`latitude ${at.lat} is outside -90..90`);
  const lonWrapped = ((((at.lon + 180) % 360) + 360) % 360) - 180;
  const lat: [number, number] = [-90, 90];
  const lon: [number, number] = [-180, 180];
  let even = true;
  let out = "";
  let v = 0;
  for (let bits = 0; out.length < precision; ) {
    const range = even ? lon : lat;
    const x = even ? lonWrapped : at.lat;
    const mid = (range[0] + range[1]) / 2;
    const on = x >= mid;
    v = (v << 1) | (on ? 1 : 0);
    range[on ? 0 : 1] = mid;
    even = !even;
    if (++bits % 5 === 0) {
      out += BASE32[v];
      v = 0;
    }
  }
  return out;
}

/** A cell's width and height in metres (spherical Earth, width at the cell's middle latitude). */
export function cellSizeM(c: Cell): { width: number; height: number } {
  const perDegree = (Math.PI * 6_371_008.8) / 180;
  const mid = ((c.south + c.north) / 2) * (Math.PI / 180);
  return { width: (c.east - c.west) * perDegree * Math.cos(mid), height: (c.north - c.south) * perDegree };
}

/** The geohash text in the registry's bytes8 (ASCII, right-padded with zero bytes). */
export function geohashFromBytes8(hex: string): string {
  const clean = hex.startsWith("0x") ? hex.slice(2) : hex;
  if (!/^[0-9a-fA-F]{16}$/.test(clean)) throw new Error(`not a bytes8: ${hex}`);
  let out = "";
  for (let i = 0; i < 16; i += 2) {
    const code = parseInt(clean.slice(i, i + 2), 16);
    if (code === 0) break;
    out += String.fromCharCode(code);
  }
  return out;
}

/** The cell of `hash` in words: its size and centre. */
export function describeCell(hash: string): string {
  const c = geohashCell(hash);
  const { width, height } = cellSizeM(c);
  const m = (v: number) => (v >= 10_000 ? `${Math.round(v / 1000)} km` : v >= 1000 ? `${(v / 1000).toFixed(1)} km` : `${Math.round(v)} m`);
  const { lat, lon } = decodeGeohash(hash);
  const deg = (v: number, pos: string, neg: string) => `${Math.abs(v).toFixed(4)}° ${v >= 0 ? pos : neg}`;
  return `${hash}: a cell of ${m(width)} × ${m(height)} around ${deg(lat, "N", "S")}, ${deg(lon, "E", "W")}`;
}
