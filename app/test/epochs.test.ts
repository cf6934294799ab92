import { describe, expect, it } from "vitest";
import type { Credit } from "../src/api";
import { bars, earningsCells, epochSeries, thisEpoch, undecodedNote, type Epochs } from "../src/epochs";

const USD: Credit = { id: 1, token: "0x0000000000000000000000000000000000000001", symbol: "USDC", decimals: 6 };
const DATA: Epochs = {
  current_epoch: 8, indexed_block: 120,
  epochs: [
    { epoch: 7, sessions: 4, energy_wh: 25_000, undecoded_batches: 0, watt_claimed: "0", watt_emission: "1000000000000000000000",
      fees: { "1": { cost: "12500000", to_operator: "10000000", to_referrer: "625000", to_treasury: "1875000" } } },
    { epoch: 8, sessions: 0, energy_wh: 0, undecoded_batches: 0, watt_claimed: "0", watt_emission: "990000000000000000000", fees: {} },
  ],
};

describe("epoch series", () => {
  it("charts energy in kWh, sessions, fees in the credit and WATT, with their text", () => {
    const [energy, sessions, fees, watt] = epochSeries(DATA, USD);
    expect(energy!.values).toEqual([25, 0]);
    expect(sessions!.text).toEqual(["4", "0"]);
    expect(fees!.values).toEqual([12.5, 0]);
    expect(fees!.text[0]).toBe("12.5 USDC");
    expect(watt!.values).toEqual([1000, 990]);
    expect(energy!.labels).toEqual(["epoch 7", "epoch 8"]);
  });

  it("says this epoch's figures with the fee split, zero when nothing settled", () => {
    const rows = Object.fromEntries(thisEpoch(DATA, USD));
    expect(rows["Epoch 8: energy"]).toBe("0.0 kWh");
    expect(rows["Fees paid"]).toBe("0 USDC");
    const last: Epochs = { ...DATA, current_epoch: 7 };
    const r7 = Object.fromEntries(thisEpoch(last, USD));
    expect([r7["to operators"], r7["to referrers"], r7["to the treasury"]]).toEqual(["10 USDC", "0.62 USDC", "1.87 USDC"]);
  });
});

describe("bars", () => {
  it("scales to the largest value, baseline at the bottom", () => {
    const b = bars([1, 4, 0], 300, 100, 0);
    expect(b.map((x) => x.height)).toEqual([25, 100, 0]);
    expect(b.map((x) => x.y)).toEqual([75, 0, 100]);
    expect(b.map((x) => x.x)).toEqual([0, 100, 200]);
  });

  it("draws nothing tall when every value is zero", () => {
    expect(bars([0, 0], 100, 50).every((x) => x.height === 0 && x.y === 50)).toBe(true);
  });
});

describe("earnings cells", () => {
  it("names the station and formats the credit", () => {
    const cells = earningsCells({ station_id: "0xab", epoch: 7, credit_id: 1, sessions: 2, energy_wh: 11_000, earned: "7250000" }, [USD], () => "WEB-CP-1");
    expect(cells).toEqual(["WEB-CP-1", "7", "2", "11.0 kWh", "7.25 USDC"]);
  });
});

describe("batches the index cannot read", () => {
  it("says nothing when every batch was read", () => {
    expect(undecodedNote(DATA)).toBe("");
  });

  it("counts them and names their epochs", () => {
    const one: Epochs = { ...DATA, epochs: DATA.epochs.map((e) => ({ ...e, undecoded_batches: e.epoch === 8 ? 1 : 0 })) };
    expect(undecodedNote(one)).toMatch(/^1 settlement batch was sent through a contract the index cannot read \(epoch 8\)/);
    const two: Epochs = { ...DATA, epochs: DATA.epochs.map((e) => ({ ...e, undecoded_batches: 1 })) };
    expect(undecodedNote(two)).toMatch(/^2 settlement batches were .* \(epoch 7, 8\): their sessions are counted/);
  });
});
