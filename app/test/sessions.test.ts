import { describe, expect, it } from "vitest";
import { energyKwh, statusText } from "../src/sessions";

describe("sessions", () => {
  it("shows energy in kWh", () => {
    expect(energyKwh(12_000)).toBe("12 kWh");
    expect(energyKwh(12_345)).toBe("12.35 kWh");
  });
  it("words the oracle's statuses for a driver", () => {
    expect(statusText({ status: "settled", reason: null })).toBe("settled");
    expect(statusText({ status: "batched", reason: null })).toBe("waiting for settlement");
    expect(statusText({ status: "pending", reason: null })).toBe("waiting for settlement");
    expect(statusText({ status: "quarantined", reason: "overlap" })).toBe("held back: overlap");
    expect(statusText({ status: "rejected_onchain", reason: null })).toBe("refused on chain");
  });
});
