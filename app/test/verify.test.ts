import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import { derToRaw, ocmfValid, receiptSigner, receiptTypes, splitOcmf } from "../src/verify";
import type { Receipt } from "../src/api";

function toHex(b: Uint8Array): string {
  return Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");
}

/** r || s -> DER, as the meter (Python cryptography) writes it. */
function rawToDer(raw: Uint8Array): Uint8Array {
  const int = (b: Uint8Array) => {
    let i = 0;
    while (i < b.length - 1 && b[i] === 0) i++;
    const v = b.subarray(i);
    return v[0]! & 0x80 ? [0x02, v.length + 1, 0, ...v] : [0x02, v.length, ...v];
  };
  const body = [...int(raw.subarray(0, 32)), ...int(raw.subarray(32))];
  return Uint8Array.from([0x30, body.length, ...body]);
}

async function signedRecord(payload: string) {
  const pair = await crypto.subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, true, ["sign", "verify"]);
  const raw = new Uint8Array(await crypto.subtle.sign({ name: "ECDSA", hash: "SHA-256" }, pair.privateKey, new TextEncoder().encode(payload)));
  const pub = new Uint8Array(await crypto.subtle.exportKey("raw", pair.publicKey));
  const record = `OCMF|${payload}|${JSON.stringify({ SA: "ECDSA-secp256r1-SHA256", SD: toHex(rawToDer(raw)) })}`;
  return { record, keyXY: `0x${toHex(pub.subarray(1))}` as const, raw };
}

describe("OCMF meter signatures", () => {
  it("DER signatures convert back to r || s", async () => {
    const { raw } = await signedRecord('{"RD":[]}');
    expect(toHex(derToRaw(rawToDer(raw)))).toBe(toHex(raw));
  });
  it("a record verifies with its meter key and fails once a byte of the payload changes", async () => {
    const payload = '{"MS":"M-1","RD":[{"TX":"B","RV":1.5,"RU":"kWh"}]}';
    const { record, keyXY } = await signedRecord(payload);
    expect(splitOcmf(record).payload).toBe(payload);
    expect(await ocmfValid(record, keyXY)).toBe(true);
    expect(await ocmfValid(record.replace("1.5", "2.5"), keyXY)).toBe(false);
    const other = await signedRecord(payload);
    expect(await ocmfValid(record, other.keyXY)).toBe(false);
  });
  it("refuses what is not an OCMF record", () => {
    expect(() => splitOcmf("hello")).toThrow("not an OCMF record");
  });
});

describe("receipt signatures", () => {
  const station = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
  const domain = { name: "WattNet Settlement", version: "1", chainId: 31337, verifyingContract: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } as const;
  const receipt: Omit<Receipt, "signature"> = {
    stationId: `0x${"11".repeat(32)}`, sessionId: "7", connectorId: 1, driver: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65",
    creditId: "1", energyWh: 2933, startTime: 1_800_000_000, endTime: 1_800_000_600, cost: "1026550",
    referrer: "0x0000000000000000000000000000000000000000", readings: `0x${"00".repeat(32)}`, meterData: null, status: "settled", txHash: null,
  };
  it("recovers the station's key, and another key once a field is changed", async () => {
    const signature = await station.signTypedData({
      domain, types: receiptTypes, primaryType: "SessionReceipt",
      message: { ...receipt, sessionId: 7n, creditId: 1n, cost: 1026550n },
    });
    expect(await receiptSigner({ ...receipt, signature }, domain)).toBe(station.address);
    expect(await receiptSigner({ ...receipt, signature, energyWh: 2934 }, domain)).not.toBe(station.address);
  });
});
