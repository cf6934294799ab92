// Rotating a station's keys from the browser. The signing key: the new key signs the registry's
// SignerBinding(stationId, operator) where it lives (as at registration, register.ts), the
// operator pastes the signature, the page checks it recovers to the new key's address and sends
// rotateSigner with the (r, vs) proof; the old key stops being accepted at once. The meter key:
// the meter's P-256 public key (x‖y, the uncompressed point or its DER SubjectPublicKeyInfo),
// checked to be a point of the curve, sent with setMeterKey (which releases a certified meter).
import { hexToBytes, isHex, toHex, type Address, type Hash, type Hex } from "viem";
import { stationRegistryAbi } from "./abi/contracts";
import type { AppConfig } from "./api";
import { send } from "./charge";
import { bindingTypedData, signerProof } from "./register";
import type { Wallet } from "./wallet";

const SPKI_P256 = "3059301306072a8648ce3d020106082a8648ce3d030107034200"; // DER prefix of a P-256 key

/** The meter key as the registry stores it (64 bytes x‖y), from x‖y, 04‖x‖y or DER SPKI hex;
 * empty clears it. Refuses what is not a point of P-256. */
export async function meterKeyBytes(text: string): Promise<Hex> {
  const t = text.trim().toLowerCase().replace(/^0x/, "");
  if (!t) return "0x";
  const raw = t.startsWith(SPKI_P256) ? t.slice(SPKI_P256.length) : t;
  const xy = raw.length === 130 && raw.startsWith("04") ? raw.slice(2) : raw;
  if (!isHex(`0x${xy}`) || xy.length !== 128) {
    throw new Error("The meter key is 64 bytes (x‖y, 128 hex digits), the 65-byte uncompressed point (04‖x‖y) or its DER SubjectPublicKeyInfo.");
  }
  try {
    await crypto.subtle.importKey("raw", new Uint8Array(hexToBytes(`0x04${xy}`)), { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } catch {
    throw new Error("That meter key is not a point of the P-256 curve: copy it again from the meter.");
  }
  return toHex(hexToBytes(`0x${xy}`));
}

export type KeyChange =
  | { kind: "signer"; station: Hex; signer: Address; signature: Hex }
  | { kind: "meter"; station: Hex; key: Hex };

/** Simulate then send a rotation (a refusal shows decoded before the wallet is asked). */
export async function rotateKey(w: Wallet, config: AppConfig, c: KeyChange): Promise<Hash> {
  const registry = { account: w.account, address: config.contracts.StationRegistry!, abi: stationRegistryAbi } as const;
  if (c.kind === "meter") {
    const { request } = await w.reader.simulateContract({ ...registry, functionName: "setMeterKey", args: [c.station, c.key] });
    return send(w, request);
  }
  const [r, vs] = await signerProof(bindingTypedData(config, c.station, w.account), c.signature, c.signer);
  const { request } = await w.reader.simulateContract({ ...registry, functionName: "rotateSigner", args: [c.station, c.signer, r, vs] });
  return send(w, request);
}
