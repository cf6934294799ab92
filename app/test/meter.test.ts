import { describe, expect, it } from "vitest";
import { describeMeterKey, parseMeterKey } from "../src/meter";
import certPem from "./fixtures/meter-p256.pem?raw";
import pubPem from "./fixtures/meter-p256-pub.pem?raw";
import spkiHex from "./fixtures/meter-p256-spki.hex?raw";
import xy from "./fixtures/meter-p256.xy?raw";
import rsaPem from "./fixtures/meter-rsa.pem?raw";
import k1Pem from "./fixtures/secp256k1-pub.pem?raw";

// Made with Python's `cryptography` (an independent X.509/SPKI encoder); the expected x || y is
// wattnet.chain.meters.public_xy of the same key.
const XY = xy.trim();

describe("the meter key at registration", () => {
  it("reads the key, subject and validity of a P-256 meter certificate", async () => {
    const m = await parseMeterKey(certPem);
    expect(m).toEqual({ key: XY, from: "certificate", subject: "Meter EM-0042", notAfter: "2031-01-01" });
    expect(describeMeterKey(m)).toBe(`Meter key (P-256) from the certificate of "Meter EM-0042", valid until 2031-01-01: ${XY.slice(0, 10)}…${XY.slice(-8)}`);
  });
  it("reads the same key from a PEM public key and from hex in each form the gateway takes", async () => {
    expect((await parseMeterKey(pubPem)).key).toBe(XY);
    expect((await parseMeterKey(spkiHex)).key).toBe(XY);
    expect((await parseMeterKey(XY)).key).toBe(XY);
    expect((await parseMeterKey(`04${XY.slice(2)}`)).key).toBe(XY);
  });
  it("registers none when the field is empty", async () => {
    expect(await parseMeterKey("  ")).toEqual({ key: "0x", from: "none" });
  });
  it("refuses keys meters do not sign with, points off the curve, private keys and garbage, saying why", async () => {
    await expect(parseMeterKey(rsaPem)).rejects.toThrow("Meter key: its key is an RSA key, not P-256");
    await expect(parseMeterKey(k1Pem)).rejects.toThrow("its key is a secp256k1 key, not P-256");
    const offCurve = `${XY.slice(0, -1)}${XY.endsWith("6") ? "7" : "6"}`;
    await expect(parseMeterKey(offCurve)).rejects.toThrow("its key is not a point on the P-256 curve");
    await expect(parseMeterKey("-----BEGIN EC PRIVATE KEY-----\nMHc=\n-----END EC PRIVATE KEY-----")).rejects.toThrow("That is a private key");
    await expect(parseMeterKey("0x1234")).rejects.toThrow("2 bytes: give x || y (64 bytes)");
    await expect(parseMeterKey("hello")).rejects.toThrow("it is neither PEM nor hex");
    const cut = certPem.replace(/\n[A-Za-z0-9+/=]+\n-----END/, "\n-----END");
    await expect(parseMeterKey(cut)).rejects.toThrow(/Meter key: (truncated DER|not an X.509)/);
  });
});
