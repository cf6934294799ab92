import { describe, expect, it } from "vitest";
import { cellSizeM, decodeGeohash, describeCell, encodeGeohash, geohashCell, geohashFromBytes8 } from "../src/geohash";

describe("decodeGeohash", () => {
  it("decodes a known cell to its centre (Berlin u33db)", () => {
    const p = decodeGeohash("u33db");
    expect(p.lat).toBeCloseTo(52.5, 0);
    expect(p.lon).toBeCloseTo(13.4, 0);
  });
  it("is more precise with more characters", () => {
    // the textbook examples: ezs42 = (42.605, -5.603), u4pruydqqvj = (57.64911, 10.40744)
    const coarse = decodeGeohash("ezs42");
    expect(coarse.lat).toBeCloseTo(42.605, 2);
    expect(coarse.lon).toBeCloseTo(-5.603, 2);
    const fine = decodeGeohash("u4pruydqqvj");
    expect(fine.lat).toBeCloseTo(57.64911, 4);
    expect(fine.lon).toBeCloseTo(10.40744, 4);
  });
  it("rejects characters outside the alphabet and empty hashes", () => {
    expect(() => decodeGeohash("u3a")).toThrow(/bad character "a"/);
    expect(() => decodeGeohash("")).toThrow(/1-12/);
  });
});

describe("geohashFromBytes8", () => {
  it("reads the registry's right-padded bytes8", () => {
    expect(geohashFromBytes8("0x7533336462000000")).toBe("u33db");
  });
  it("rejects what is not 8 bytes", () => {
    expect(() => geohashFromBytes8("0x7533")).toThrow(/bytes8/);
  });
});

describe("encodeGeohash (a point clicked on the map)", () => {
  it("gives the textbook hashes back", () => {
    expect(encodeGeohash({ lat: 42.605, lon: -5.603 }, 5)).toBe("ezs42");
    expect(encodeGeohash({ lat: 57.64911, lon: 10.40744 }, 11)).toBe("u4pruydqqvj");
  });
  it("names the cell that holds the point, at each precision the registry takes (1-8)", () => {
    const at = { lat: 52.5163, lon: 13.3777 }; // Brandenburg Gate
    for (let n = 1; n <= 8; n++) {
      const hash = encodeGeohash(at, n);
      expect(hash).toHaveLength(n);
      const c = geohashCell(hash);
      expect(at.lat).toBeGreaterThanOrEqual(c.south); expect(at.lat).toBeLessThan(c.north);
      expect(at.lon).toBeGreaterThanOrEqual(c.west); expect(at.lon).toBeLessThan(c.east);
      if (n > 1) expect(hash.startsWith(encodeGeohash(at, n - 1))).toBe(true);
    }
  });
  it("round-trips a cell's centre and wraps longitudes from a map's world copies", () => {
    expect(encodeGeohash(decodeGeohash("u33dbfc"), 7)).toBe("u33dbfc");
    expect(encodeGeohash({ lat: 52.5163, lon: 13.3777 + 360 }, 6)).toBe(encodeGeohash({ lat: 52.5163, lon: 13.3777 }, 6));
  });
  it("refuses a precision outside 1-12 and a latitude off the globe", () => {
    expect(() => encodeGeohash({ lat: 0, lon: 0 }, 0)).toThrow(/precision 0/);
    expect(() => encodeGeohash({ lat: 91, lon: 0 }, 5)).toThrow(/latitude 91/);
  });
  it("sizes a cell in metres (7 characters: about 153 m by 153 m at the equator)", () => {
    const { width, height } = cellSizeM(geohashCell(encodeGeohash({ lat: 0.01, lon: 0.01 }, 7)));
    expect(width).toBeCloseTo(152.9, 0);
    expect(height).toBeCloseTo(152.9, 0);
  });
});

describe("describeCell", () => {
  it("says the cell's size and centre", () => {
    expect(describeCell("u33dbfc")).toMatch(/^u33dbfc: a cell of 9\d m × 153 m around 52\.5\d{3}° N, 13\.\d{4}° E$/);
    expect(describeCell("6")).toMatch(/^6: a cell of \d+ km × 5004 km around 22\.5000° S, 67\.5000° W$/);
  });
});
