import { describe, expect, it } from "vitest";
import { decodeGeohash, geohashFromBytes8 } from "../src/geohash";

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
