import { describe, expect, it } from "vitest";
import { formatPower, formatUnits, parseAmount } from "../src/format";

describe("formatUnits", () => {
  it("keeps whole and fractional parts exact", () => {
    expect(formatUnits(12_345_678n, 6)).toBe("12.34");
    expect(formatUnits(12_345_678n, 6, 6)).toBe("12.345678");
    expect(formatUnits(10_000_000n, 6)).toBe("10");
    expect(formatUnits(-1_500_000n, 6)).toBe("-1.5");
  });
  it("does not lose precision past 2^53", () => {
    expect(formatUnits(123456789012345678901234n, 18, 18)).toBe("123456.789012345678901234");
  });
});

describe("parseAmount", () => {
  it("parses decimals into the token's units", () => {
    expect(parseAmount("25", 6)).toBe(25_000_000n);
    expect(parseAmount("0.35", 6)).toBe(350_000n);
    expect(parseAmount(" 1_000.5 ", 6)).toBe(1_000_500_000n);
  });
  it("refuses what a token cannot hold", () => {
    expect(() => parseAmount("1.1234567", 6)).toThrow(/more than 6 decimals/);
    expect(() => parseAmount("-3", 6)).toThrow(/not an amount/);
    expect(() => parseAmount("0", 6)).toThrow(/more than zero/);
    expect(() => parseAmount("abc", 6)).toThrow(/not an amount/);
  });
});

describe("formatPower", () => {
  it("shows kW", () => {
    expect(formatPower(22_000)).toBe("22 kW");
    expect(formatPower(7_400)).toBe("7.4 kW");
  });
});
