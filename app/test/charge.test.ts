import { describe, expect, it } from "vitest";
import { missingSteps, newNonce } from "../src/charge";

describe("what a driver must send before charging", () => {
  const open = { perSessionCap: 20_000_000n, dailyCap: 100_000_000n, open: true, consent: true };
  it("nothing when the mandate covers the session and the operator is allowed", () => {
    expect(missingSteps(open, 20_000_000n)).toEqual([]);
  });
  it("a mandate when there is none, or its cap is below the session's maximum", () => {
    expect(missingSteps({ ...open, open: false }, 1n)).toEqual(["mandate"]);
    expect(missingSteps(open, 20_000_001n)).toEqual(["mandate"]);
  });
  it("consent when the station's operator is not allowed", () => {
    expect(missingSteps({ ...open, consent: false }, 1n)).toEqual(["consent"]);
  });
});

describe("ChargeRequest nonces", () => {
  it("use all 64 bits of the randomness", () => {
    expect(newNonce((a) => a.fill(0xffffffff))).toBe(2n ** 64n - 1n);
    expect(newNonce((a) => { a[0] = 1; a[1] = 2; return a; })).toBe((1n << 32n) + 2n);
  });
});
