// "Verify" a session in the browser: the station's EIP-712 receipt signature against the
// station key the registry holds, and each signed meter record (OCMF, ECDSA P-256 over the
// payload's exact bytes) against the meter key the registry holds, with WebCrypto.
import { recoverTypedDataAddress, type Address, type Hex } from "viem";
import { energyCreditsAbi, stationRegistryAbi } from "./abi/contracts";
import type { AppConfig, Receipt } from "./api";
import type { Wallet } from "./wallet";

export const receiptTypes = {
  SessionReceipt: [
    { name: "stationId", type: "bytes32" },
    { name: "sessionId", type: "uint64" },
    { name: "connectorId", type: "uint8" },
    { name: "driver", type: "address" },
    { name: "creditId", type: "uint256" },
    { name: "energyWh", type: "uint32" },
    { name: "startTime", type: "uint40" },
    { name: "endTime", type: "uint40" },
    { name: "cost", type: "uint128" },
    { name: "referrer", type: "address" },
    { name: "readings", type: "bytes32" },
  ],
} as const;

export async function receiptSigner(r: Receipt, domain: AppConfig["receipt_domain"]): Promise<Address> {
  return recoverTypedDataAddress({
    domain, types: receiptTypes, primaryType: "SessionReceipt", signature: r.signature,
    message: {
      stationId: r.stationId, sessionId: BigInt(r.sessionId), connectorId: r.connectorId, driver: r.driver,
      creditId: BigInt(r.creditId), energyWh: r.energyWh, startTime: r.startTime, endTime: r.endTime,
      cost: BigInt(r.cost), referrer: r.referrer, readings: r.readings,
    },
  });
}

export function hexBytes(hex: string): Uint8Array<ArrayBuffer> {
  const clean = hex.replace(/^0x/, "");
  if (clean.length % 2 || /[^0-9a-f]/i.test(clean)) throw new Error("not hex");
  return Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
}

/** An ASN.1 DER ECDSA signature (SEQUENCE { INTEGER r, INTEGER s }) as WebCrypto's r || s. */
export function derToRaw(der: Uint8Array, size = 32): Uint8Array<ArrayBuffer> {
  if (der[0] !== 0x30) throw new Error("not a DER signature");
  let i = der[1]! & 0x80 ? 2 + (der[1]! & 0x7f) : 2;
  const out = new Uint8Array(size * 2);
  for (const half of [0, 1]) {
    if (der[i] !== 0x02) throw new Error("not a DER signature");
    const len = der[i + 1]!;
    let int = der.subarray(i + 2, i + 2 + len);
    while (int.length > size && int[0] === 0) int = int.subarray(1);
    if (int.length > size) throw new Error("DER integer too long");
    out.set(int, half * size + size - int.length);
    i += 2 + len;
  }
  return out;
}

/** `OCMF|{payload}|{signature}` -> the payload's exact text and the signature's fields. */
export function splitOcmf(record: string): { payload: string; sa: string; sd: string } {
  const first = record.indexOf("|");
  const last = record.lastIndexOf("|");
  if (record.slice(0, first) !== "OCMF" || last <= first) throw new Error("not an OCMF record");
  const sig = JSON.parse(record.slice(last + 1)) as { SA?: string; SD?: string };
  return { payload: record.slice(first + 1, last), sa: sig.SA ?? "", sd: sig.SD ?? "" };
}

/** Whether the meter key (P-256, x || y as registered on chain) signed this OCMF record. */
export async function ocmfValid(record: string, meterKeyXY: Hex): Promise<boolean> {
  const { payload, sa, sd } = splitOcmf(record);
  if (sa !== "ECDSA-secp256r1-SHA256") return false;
  const raw = new Uint8Array(65);
  raw[0] = 4;
  raw.set(hexBytes(meterKeyXY), 1);
  const key = await crypto.subtle.importKey("raw", raw, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  return crypto.subtle.verify({ name: "ECDSA", hash: "SHA-256" }, key, derToRaw(hexBytes(sd)), new TextEncoder().encode(payload));
}

export interface Verdict {
  ok: boolean;
  lines: string[];
}

/** Check a receipt against the chain's registry (read through the wallet's node). */
export async function verifySession(w: Wallet, config: AppConfig, r: Receipt): Promise<Verdict> {
  const registry = config.contracts.StationRegistry!;
  const [station, meterKey, settled] = await Promise.all([
    w.reader.readContract({ address: registry, abi: stationRegistryAbi, functionName: "getStation", args: [r.stationId] }),
    w.reader.readContract({ address: registry, abi: stationRegistryAbi, functionName: "meterPublicKey", args: [r.stationId] }),
    w.reader.readContract({
      address: config.contracts.EnergyCredits!, abi: energyCreditsAbi, functionName: "isSettled", args: [r.stationId, BigInt(r.sessionId)],
    }),
  ]);
  const lines: string[] = [];
  let ok = true;
  const signer = await receiptSigner(r, config.receipt_domain).catch(() => null);
  if (signer && signer.toLowerCase() === station.signer.toLowerCase()) {
    lines.push(`Receipt signature valid: signed by the station's key ${station.signer} (from the registry).`);
  } else {
    ok = false;
    lines.push(`Receipt signature INVALID: it does not recover to the station's key ${station.signer}.`);
  }
  const records = (r.meterData ?? "").split("\n").filter(Boolean);
  if (records.length && meterKey !== "0x") {
    const valid = await Promise.all(records.map((rec) => ocmfValid(rec, meterKey).catch(() => false)));
    const good = valid.filter(Boolean).length;
    ok = ok && good === records.length;
    lines.push(`Meter readings: ${good} of ${records.length} OCMF signatures valid (meter key from the registry).`);
  } else {
    lines.push("No signed meter readings with this receipt.");
  }
  lines.push(settled ? "On chain: settled (isSettled, read through your wallet's node)." : "On chain: not settled (yet).");
  return { ok, lines };
}
