// Registering a station from the browser. The station's signing key stays where it is (a
// keystore, a hardware signer): it signs the registry's EIP-712 SignerBinding(stationId,
// operator) the app shows, and the operator pastes that signature. The app checks it recovers
// to the signer named, turns it into the registry's compact (r, vs) proof, simulates
// registerStation and only then asks the wallet (the operator's) to send it.
import {
  keccak256, parseSignature, recoverTypedDataAddress, serializeCompactSignature, signatureToCompactSignature, toHex,
  type Address, type Hash, type Hex,
} from "viem";
import { stationRegistryAbi } from "./abi/contracts";
import type { AppConfig, Credit } from "./api";
import { send } from "./charge";
import type { Wallet } from "./wallet";

const BASE32 = /^[0-9b-hjkmnp-z]{1,8}$/;

/** The on-chain station id: keccak256 of the OCPP charge point id (UTF-8), as wattnet.domain. */
export function stationIdFor(chargePoint: string): Hex {
  const cp = chargePoint.trim();
  if (!cp) throw new Error("Enter the charge point's OCPP id.");
  return keccak256(toHex(cp));
}

/** A geohash as the registry stores it: ASCII, left aligned, zero padded to 8 bytes. */
export function geohashBytes8(geohash: string): Hex {
  const g = geohash.trim().toLowerCase();
  if (!BASE32.test(g)) throw new Error(`"${geohash}" is not a geohash of 1 to 8 characters (0-9, b-z without a, i, l, o).`);
  return `0x${[...g].map((c) => c.charCodeAt(0).toString(16)).join("").padEnd(16, "0")}`;
}

/** What the station's signing key signs (eth_signTypedData_v4's JSON, with its domain type). */
export function bindingTypedData(config: AppConfig, stationId: Hex, operator: Address) {
  return {
    domain: { name: "WattNet StationRegistry", version: "1", chainId: config.chain_id, verifyingContract: config.contracts.StationRegistry! },
    types: {
      EIP712Domain: [
        { name: "name", type: "string" }, { name: "version", type: "string" },
        { name: "chainId", type: "uint256" }, { name: "verifyingContract", type: "address" },
      ],
      SignerBinding: [{ name: "stationId", type: "bytes32" }, { name: "operator", type: "address" }],
    },
    primaryType: "SignerBinding" as const,
    message: { stationId, operator },
  };
}

/** The registry's (r, vs) proof from the signer key's 65-byte signature, once it is checked to
 * come from `signer`. */
export async function signerProof(typed: ReturnType<typeof bindingTypedData>, signature: Hex, signer: Address): Promise<[Hex, Hex]> {
  const { EIP712Domain: _, ...types } = typed.types;
  const from = await recoverTypedDataAddress({ ...typed, types, signature });
  if (from.toLowerCase() !== signer.toLowerCase()) {
    throw new Error(`That signature is from ${from}, not from the station's signing key ${signer}: sign the binding above with the station's key.`);
  }
  const compact = signatureToCompactSignature(parseSignature(signature));
  const raw = serializeCompactSignature(compact);
  return [raw.slice(0, 66) as Hex, `0x${raw.slice(66)}` as Hex];
}

export interface NewStation {
  chargePoint: string;
  signer: Address;
  ratedPowerW: number;
  connectors: number;
  geohash: string;
  metadataUri: string;
  tariff: bigint; // per kWh in `credit`'s units
  meterPublicKey: Hex; // P-256 x || y (meter.ts), or "0x": none
}

export async function registerStation(w: Wallet, config: AppConfig, credit: Credit, s: NewStation, signature: Hex): Promise<Hash> {
  const stationId = stationIdFor(s.chargePoint);
  const [r, vs] = await signerProof(bindingTypedData(config, stationId, w.account), signature, s.signer);
  const params = {
    stationId, signer: s.signer, ratedPowerW: s.ratedPowerW, connectorCount: s.connectors, geohash: geohashBytes8(s.geohash),
    metadataURI: s.metadataUri, meterPublicKey: s.meterPublicKey, creditIds: [BigInt(credit.id)], tariffsPerKwh: [s.tariff],
  };
  const { request } = await w.reader.simulateContract({
    account: w.account, address: config.contracts.StationRegistry!, abi: stationRegistryAbi, functionName: "registerStation", args: [params, r, vs],
  });
  return send(w, request);
}
