import { describe, expect, it } from "vitest";
import { duration } from "../src/format";
import { escrowText, tariffRuleText, unbondingText, type OperatorView, type StakeView } from "../src/operator";

const watt = (v: bigint) => `${v / 10n ** 18n} WATT`;
const stake: StakeView = { active: 10n * 10n ** 18n, unbonding: 0n, unbondingEndsAt: 0n, bondedStations: 2, bondedKw: 172, unbondingDelay: 7n * 86400n, watt: 0n };
const JAN1 = 1_798_761_600n; // 2027-01-01 00:00 UTC

describe("operator", () => {
  it("words durations", () => {
    expect(duration(90n)).toBe("2 min");
    expect(duration(3n * 3600n)).toBe("3 h");
    expect(duration(30n * 86400n + 4n * 3600n)).toBe("30 d 4 h");
    expect(duration(7n * 86400n)).toBe("7 d");
  });
  it("shows the unbonding clock: nothing, running, ready", () => {
    expect(unbondingText(stake, JAN1, watt)).toBe("Unbonding takes 7 d; nothing is unbonding.");
    const running = { ...stake, unbonding: 4n * 10n ** 18n, unbondingEndsAt: JAN1 };
    expect(unbondingText(running, JAN1 - 86400n - 3600n, watt)).toBe(
      "4 WATT unbonding: withdrawable from 2027-01-01 00:00 UTC (in 1 d 1 h); a new request restarts the clock.");
    expect(unbondingText(running, JAN1, watt)).toBe("4 WATT unbonded: ready to withdraw.");
  });
  it("explains the tariff spacing rule and when the next change may come", () => {
    const cooldown = 37n * 86400n;
    expect(tariffRuleText(JAN1, cooldown, JAN1 + 1n)).toMatch(/once every 37 d .* Last changed 2027-01-01 00:00 UTC: next change from 2027-02-07 00:00 UTC\.$/);
    expect(tariffRuleText(JAN1, cooldown, JAN1 + cooldown)).toMatch(/It may change now\.$/);
  });
  it("shows rewards in escrow for the challenge window, then claimable", () => {
    const station = { station: {} as never, tariffChangedAt: 0n, rewards: 3n * 10n ** 18n };
    const v: OperatorView = { stake, owed: [], stations: [station, station], cooldown: 0n, epoch: 2n, claimableAt: JAN1, now: JAN1 - 1n };
    expect(escrowText(v, watt)).toBe(
      "Epoch 2: 6 WATT for your stations, in escrow until 2027-01-01 00:00 UTC (the challenge window: a fraud proof until then forfeits them).");
    expect(escrowText({ ...v, now: JAN1 }, watt)).toBe("Epoch 2: 6 WATT for your stations, out of escrow: claimable.");
    expect(escrowText({ ...v, epoch: null }, watt)).toMatch(/^No epoch has closed yet/);
  });
});
