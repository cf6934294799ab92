import { describe, expect, it } from "vitest";
import { idTokenHash, mandateText, redemptionText, type Settings } from "../src/settings";

const amount = (v: bigint) => `${v / 1_000_000n} USDC`;
const base: Settings = { perSessionCap: 20_000_000n, dailyCap: 100_000_000n, validUntil: 0n, anyStation: false, referrer: "0x0000000000000000000000000000000000000000", redeeming: 0n, redeemableAt: 0n };

describe("driver settings", () => {
  it("words the mandate: none, open, revoked until a day, revoked", () => {
    expect(mandateText({ ...base, perSessionCap: 0n, dailyCap: 0n }, 0n, amount)).toBe("No mandate: no station may charge you.");
    expect(mandateText(base, 0n, amount)).toBe("Stations may charge you up to 20 USDC a session and 100 USDC a day.");
    const until = { ...base, validUntil: 1_798_761_600n }; // 2027-01-01 00:00 UTC
    expect(mandateText(until, 1_798_000_000n, amount)).toBe(
      "Revoked: stations may charge you up to 20 USDC a session and 100 USDC a day until 2027-01-01 00:00 UTC.");
    expect(mandateText(until, 1_799_000_000n, amount)).toBe("Revoked since 2027-01-01 00:00 UTC.");
  });
  it("hashes a card id as the gateways do (wattnet.domain.id_token_hash: trimmed, upper case)", () => {
    expect(idTokenHash(" 04a2b3c4d5 ")).toBe("0xb17d791fb175971fa6b5b5084a1ddd35e0c5fe0546856544e95c23534db208e8");
    expect(() => idTokenHash("  ")).toThrow("Enter the card's id.");
  });
  it("words a pending redemption: none, locked until a date, ready", () => {
    expect(redemptionText(base, 0n, amount)).toBe("No redemption pending.");
    const pending = { ...base, redeeming: 5_000_000n, redeemableAt: 1_798_761_600n };
    expect(redemptionText(pending, 1_798_000_000n, amount)).toBe(
      "5 USDC being redeemed: paid out from 2027-01-01 00:00 UTC (stations may still settle sessions from it until then).");
    expect(redemptionText(pending, 1_798_761_600n, amount)).toBe("5 USDC redeemed: ready to be paid out.");
  });
});
