import { describe, expect, it } from "vitest";
import { connectorsText } from "../src/availability";

const ID = "0xABCD";

describe("live availability in the stations list", () => {
  it("names each connector's status, unknown where no gateway reported", () => {
    const a = { gateways: 1, stations: { "0xabcd": ["AVAILABLE", "UNKNOWN"], "0xef": ["OUTOFORDER"] } };
    expect(connectorsText(a, ID)).toBe("connectors 1 available, 2 unknown");
    expect(connectorsText(a, "0xef")).toBe("connector 1 out of order");
    expect(connectorsText(a, "0x99")).toBe("connectors unknown");
  });
  it("says nothing when the server polls no gateway (the registry's state stands alone)", () => {
    expect(connectorsText({ gateways: 0, stations: { "0xabcd": ["UNKNOWN"] } }, ID)).toBe("");
    expect(connectorsText(null, ID)).toBe("");
  });
});
