import { describe, expect, it } from "vitest";
import { meterKeyBytes } from "../src/keys";

// the P-256 public key of private scalar 12345 (Python cryptography: DER SPKI and X9.62 point)
const XY = "26efcebd0ee9e34a669187e18b3a9122b2f733945b649cc9f9f921e9f9dad81290238bde9cc7bb330d150c67704dd25ae7055205744b6f31bf4070745872d0e6";
const DER = `3059301306072a8648ce3d020106082a8648ce3d03010703420004${XY}`;

describe("the meter key a rotation sends", () => {
  it("is x‖y from each form a meter exports, and empty clears it", async () => {
    for (const form of [XY, `0x${XY}`, `04${XY}`, DER, ` 0x${DER.toUpperCase()} `]) {
      expect(await meterKeyBytes(form)).toBe(`0x${XY}`);
    }
    expect(await meterKeyBytes("  ")).toBe("0x");
  });
  it("refuses a wrong length and a point off the curve", async () => {
    await expect(meterKeyBytes(XY.slice(2))).rejects.toThrow("64 bytes");
    const off = `${XY.slice(0, 127)}${XY.endsWith("6") ? "7" : "6"}`; // y changed: not on P-256
    await expect(meterKeyBytes(off)).rejects.toThrow("not a point of the P-256 curve");
  });
});
