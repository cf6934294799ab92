import { describe, expect, it } from "vitest";
import type { Station } from "../src/api";
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
