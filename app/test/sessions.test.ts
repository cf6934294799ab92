import { describe, expect, it } from "vitest";
import { energyKwh, settlementText, statusText } from "../src/sessions";

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
  it("names the settlement tx, or the block by which a committee node saw it settled", () => {
    const tx = `0x${"5e".repeat(32)}` as const;
    expect(settlementText({ status: "settled", tx_hash: tx, block: 42 }, false)).toBe(`${tx} (block 42)`);
    expect(settlementText({ status: "settled", tx_hash: null, block: 241 })).toBe("seen on chain by block 241");
    expect(settlementText({ status: "confirming", tx_hash: null, block: 241 })).toBe("—");
    expect(settlementText({ status: "pending", tx_hash: null, block: null })).toBe("—");
  });
});
