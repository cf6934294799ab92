import { describe, expect, it } from "vitest";
import { privateKeyToAccount } from "viem/accounts";
import type { AppConfig } from "../src/api";
import { bindingTypedData, geohashBytes8, signerProof, stationIdFor } from "../src/register";

// anvil dev key 1 as a station's signing key; the registry address of a fresh anvil deploy
const station = privateKeyToAccount("0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d");
const config = { chain_id: 31337, contracts: { StationRegistry: "0x5FbDB2315678afecb367f032d93F642f64180aa3" } } as unknown as AppConfig;
const OPERATOR = "0x90F79bf6EB2c4f870365E785982E1f101E93b906";

describe("registering a station", () => {
  it("derives the station id and the geohash bytes as wattnet.domain and the deploy do", () => {
    expect(stationIdFor(" WEB-CP-1 ")).toBe("0x39dadb2ee3ff08b32f3f8d1a5cdf179a8feca409ebb44a7459347a5a0223658a");
    expect(geohashBytes8("u33dbfc")).toBe("0x7533336462666300");
    expect(() => geohashBytes8("u33dafc")).toThrow("is not a geohash");
    expect(() => geohashBytes8("u33dbfcxy")).toThrow("1 to 8 characters");
  });
  it("turns the signing key's signature into the proof wattnet.chain.signer_binding makes", async () => {
    const typed = bindingTypedData(config, stationIdFor("WEB-CP-1"), OPERATOR);
    const { EIP712Domain: _, ...types } = typed.types;
    const signature = await station.signTypedData({ ...typed, types });
    // signer_proof(key, chain_id=31337, registry=..., station_id=station_id_for("WEB-CP-1"), operator=OPERATOR)
    expect(await signerProof(typed, signature, station.address)).toEqual([
      "0x1af2de9a29c221f0ea22688feacc328db4f4ad4433a2b064210b90c03769948a",
      "0x05d1f16fe3919af8c905e28df547714199f27db8b10fd22bc65bb7178574dba7",
    ]);
    await expect(signerProof(typed, signature, OPERATOR)).rejects.toThrow(`not from the station's signing key ${OPERATOR}`);
  });
});
