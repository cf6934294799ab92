import { describe, expect, it } from "vitest";
import { encode } from "uqr";
import jsQR from "jsqr";
import { explainError } from "../src/errors";
import { asEip1193, asUserRejection, qrPath, WALLET_METHODS, wcNamespaces } from "../src/wcconfig";
import { qrCode } from "../src/walletconnect";

describe("wcNamespaces", () => {
  it("asks for the network's chain only, with the signing methods and its read URL", () => {
    const ns = wcNamespaces(31337, "http://127.0.0.1:8545");
    expect(ns.eip155.chains).toEqual(["eip155:31337"]);
    expect(ns.eip155.rpcMap).toEqual({ "31337": "http://127.0.0.1:8545" });
    expect(ns.eip155.methods).toEqual(WALLET_METHODS);
    // reads never go to the wallet: they are not in the session
    expect(ns.eip155.methods).not.toContain("eth_call");
  });
});

describe("asEip1193", () => {
  it("answers eth_chainId in hex as an injected wallet does, and passes the rest through", async () => {
    const asked: string[] = [];
    const inner = { request: async ({ method }: { method: string }) => { asked.push(method); return method === "eth_chainId" ? 31337 : ["0xabc"]; } };
    const p = asEip1193(inner);
    expect(await p.request({ method: "eth_chainId" })).toBe("0x7a69");
    expect(await p.request({ method: "eth_accounts" })).toEqual(["0xabc"]);
    expect(asked).toEqual(["eth_chainId", "eth_accounts"]);
  });
  it("reads WalletConnect's user rejection (5000) as EIP-1193's 4001; other errors unchanged", async () => {
    const failing = (code: number) => asEip1193({ request: async () => { throw Object.assign(new Error("no"), { code }); } });
    await expect(failing(5000).request({ method: "personal_sign", params: ["0x00", "0x00"] })).rejects.toMatchObject({ code: 4001 });
    await expect(failing(-32000).request({ method: "eth_call", params: [] as never })).rejects.toMatchObject({ code: -32000 });
    expect(explainError(asUserRejection({ code: 5000, message: "User rejected." }))).toMatch(/cancelled/);
  });
});

describe("qrPath", () => {
  it("draws one unit square per dark module, offset by the quiet zone", () => {
    expect(qrPath([[true, false], [false, true]], 4)).toBe("M4 4h1v1h-1zM5 5h1v1h-1z");
  });
  it("draws a code a QR reader decodes back to the pairing URI (the page's qrCode)", () => {
    const uri = "wc:7f6e504b8a2c1d0e9f8a7b6c5d4e3f2a1b0c9d8e7f6a5b4c3d2e1f0a9b8c7d6e@2?expiryTimestamp=1767000300&relay-protocol=irn&symKey=587d5484ce2a2a6ee3ba1962fdd7e8588e06200c46823bd18fbd67def96ad303";
    const { path, side } = qrCode(uri);
    // rasterize the SVG path as the browser fills it: 4 pixels a module, white background
    const scale = 4, w = side * scale;
    const rgba = new Uint8ClampedArray(w * w * 4).fill(255);
    for (const [, x, y] of path.matchAll(/M(\d+) (\d+)h1v1h-1z/g)) {
      for (let dy = 0; dy < scale; dy++) for (let dx = 0; dx < scale; dx++) {
        const i = ((Number(y) * scale + dy) * w + Number(x) * scale + dx) * 4;
        rgba[i] = rgba[i + 1] = rgba[i + 2] = 0;
      }
    }
    expect(jsQR(rgba, w, w)?.data).toBe(uri);
  });
  it("draws every dark module of a pairing URI's code", () => {
    const qr = encode("wc:7f6e504b@2?relay-protocol=irn&symKey=587d5484ce2a2a6ee3ba1962fdd7e8588e06200c46823bd18fbd67def96ad303", { ecc: "M", border: 0 });
    const dark = qr.data.flat().filter(Boolean).length;
    expect(qrPath(qr.data).split("M").length - 1).toBe(dark);
    expect(qr.size).toBeGreaterThanOrEqual(29); // version 3 or more for a URI this long
  });
});
