import { describe, expect, it } from "vitest";
import type { Station } from "../src/api";
import { boundingBox, project } from "../src/map";
import { filterStations } from "../src/stations";

function station(id: string, powerW: number, tariff: number | null, usable = true): Station {
  return {
    id: id as `0x${string}`, operator: "0x0000000000000000000000000000000000000001",
    signer: "0x0000000000000000000000000000000000000002", rated_power_w: powerW, connectors: 1,
    active: true, certified: true, usable, geohash: "u33db", metadata_uri: "",
    tariffs: tariff === null ? {} : { "1": tariff },
  };
}

const all = [station("0xa", 22_000, 400_000), station("0xb", 150_000, 600_000), station("0xc", 11_000, 300_000, false), station("0xd", 50_000, null)];
const any = { minPowerW: 0, maxTariff: null, creditId: 1, onlyUsable: false };

describe("filterStations", () => {
  it("sorts cheapest first, stations without a tariff last", () => {
    expect(filterStations(all, any).map((s) => s.id)).toEqual(["0xc", "0xa", "0xb", "0xd"]);
  });
  it("filters by power, price and availability", () => {
    expect(filterStations(all, { ...any, minPowerW: 50_000 }).map((s) => s.id)).toEqual(["0xb", "0xd"]);
    expect(filterStations(all, { ...any, maxTariff: 400_000n }).map((s) => s.id)).toEqual(["0xc", "0xa"]);
    expect(filterStations(all, { ...any, onlyUsable: true }).map((s) => s.id)).toEqual(["0xa", "0xb", "0xd"]);
  });
});

describe("map projection", () => {
  it("keeps every station inside the drawing, with a margin", () => {
    const pts = [{ lat: 50, lon: 10 }, { lat: 52, lon: 14 }];
    const box = boundingBox(pts, 400, 200);
    for (const p of pts) {
      const { x, y } = project(p, box, 400, 200);
      expect(x).toBeGreaterThan(0); expect(x).toBeLessThan(400);
      expect(y).toBeGreaterThan(0); expect(y).toBeLessThan(200);
    }
  });
  it("widens the box to the drawing's aspect (longitude scaled by cos(latitude))", () => {
    const box = boundingBox([{ lat: 60, lon: 10 }, { lat: 61, lon: 10.1 }], 400, 200);
    const cos = Math.cos((((box.south + box.north) / 2) * Math.PI) / 180);
    expect(((box.east - box.west) * cos) / (box.north - box.south)).toBeCloseTo(2, 5);
  });
  it("puts north up and west left", () => {
    const box = { south: 50, north: 52, west: 10, east: 14 };
    expect(project({ lat: 52, lon: 10 }, box, 400, 200)).toEqual({ x: 0, y: 0 });
    expect(project({ lat: 50, lon: 14 }, box, 400, 200)).toEqual({ x: 400, y: 200 });
  });
});
