// Geohash decoding (the registry stores each station's location as a geohash in a bytes8).
const BASE32 = "0123456789bcdefghjkmnpqrstuvwxyz";

export interface LatLon {
  lat: number;
  lon: number;
}

/** The centre of the cell named by `hash` (lower-case base32, 1-12 characters). */
export function decodeGeohash(hash: string): LatLon {
  if (hash.length === 0 || hash.length > 12) throw new Error(`geohash ${JSON.stringify(hash)}: 1-12 characters`);
  let lat: [number, number] = [-90, 90];
  let lon: [number, number] = [-180, 180];
  let even = true;
  for (const ch of hash) {
    const v = BASE32.indexOf(ch);
    if (v < 0) throw new Error(`geohash ${JSON.stringify(hash)}: bad character ${JSON.stringify(ch)}`);
    for (let bit = 4; bit >= 0; bit--) {
      const on = (v >> bit) & 1;
      const range = even ? lon : lat;
      const mid = (range[0] + range[1]) / 2;
      if (on) range[0] = mid;
      else range[1] = mid;
      even = !even;
    }
  }
  return { lat: (lat[0] + lat[1]) / 2, lon: (lon[0] + lon[1]) / 2 };
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
