// The meter key a station is registered with (StationRegistry's meterPublicKey: the P-256 key's
// x || y, 64 bytes), from what an operator has at hand: the meter's X.509 certificate or its
// public key as PEM, or the key in hex (x || y, 04 || x || y or DER SubjectPublicKeyInfo, as the
// gateway's config takes it). Checked in the browser: P-256, and a point on the curve
// (WebCrypto imports it). Receipts' OCMF records are verified against this key.
import { bytesToHex, type Hex } from "viem";
import { children, oid, pemBody, readTlv, text, type Tlv } from "./der";

const EC_PUBLIC_KEY = "1.2.840.10045.2.1";
const P256 = "1.2.840.10045.3.1.7";
const NAMES: Record<string, string> = {
  "1.2.840.113549.1.1.1": "an RSA key", "1.3.132.0.10": "a secp256k1 key", "1.3.132.0.34": "a P-384 key",
  "1.3.132.0.35": "a P-521 key", "1.3.101.112": "an Ed25519 key",
};
const COMMON_NAME = "2.5.4.3";

export interface MeterKey {
  key: Hex; // x || y as the registry stores it; "0x" when none is given
  from: "certificate" | "public key" | "hex" | "none";
  subject?: string; // the certificate's subject common name
  notAfter?: string; // the certificate's end of validity, as written in it
}

/** x || y of a SubjectPublicKeyInfo, refusing anything but an uncompressed P-256 key. */
function spkiKey(der: Uint8Array, spki: Tlv): Uint8Array {
  const [alg, bits] = children(der, spki);
  if (alg?.tag !== 0x30 || bits?.tag !== 0x03) throw new Error("no public key in it");
  const [algOid, param] = children(der, alg);
  const what = algOid ? oid(der, algOid) : "";
  const curve = what === EC_PUBLIC_KEY && param?.tag === 0x06 ? oid(der, param) : what;
  if (curve !== P256) {
    throw new Error(`its key is ${NAMES[curve] ?? `of another kind (${curve})`}, not P-256: meters sign with ECDSA P-256`);
  }
  const point = der.subarray(bits.start + 1, bits.end);
  if (point[0] !== 0x04 || point.length !== 65) throw new Error("its key is not an uncompressed P-256 point (04 || x || y)");
  return point.subarray(1);
}

function commonName(der: Uint8Array, name: Tlv): string | undefined {
  for (const rdn of children(der, name)) {
    for (const atv of children(der, rdn)) {
      const [type, value] = children(der, atv);
      if (type && value && oid(der, type) === COMMON_NAME) return text(der, value);
    }
  }
  return undefined;
}

/** The meter key and subject of an X.509 certificate (DER). Its signature is not checked here:
 * the registry reads no X.509 chain (its own certification is `certifyMeter`). */
export function certificateKey(der: Uint8Array): Omit<MeterKey, "key" | "from"> & { xy: Uint8Array } {
  const cert = readTlv(der, 0);
  const tbs = cert.tag === 0x30 ? children(der, cert)[0] : undefined;
  if (tbs?.tag !== 0x30) throw new Error("not an X.509 certificate");
  const fields = children(der, tbs).filter((t) => t.tag !== 0xa0); // drop the explicit version
  const [, , , validity, subject, spki] = fields;
  if (validity?.tag !== 0x30 || subject?.tag !== 0x30 || spki?.tag !== 0x30) throw new Error("not an X.509 certificate");
  const until = children(der, validity)[1];
  return { xy: spkiKey(der, spki), subject: commonName(der, subject), notAfter: until && isoDate(der, until) };
}

/** A UTCTime (YYMMDD…) or GeneralizedTime (YYYYMMDD…) as YYYY-MM-DD. */
function isoDate(der: Uint8Array, t: Tlv): string | undefined {
  const v = text(der, t);
  const full = t.tag === 0x17 ? `${Number(v.slice(0, 2)) < 50 ? "20" : "19"}${v}` : v;
  return /^\d{8}/.test(full) ? `${full.slice(0, 4)}-${full.slice(4, 6)}-${full.slice(6, 8)}` : undefined;
}

function fromHex(clean: string): Uint8Array {
  const raw = Uint8Array.from(clean.match(/../g) ?? [], (b) => parseInt(b, 16));
  if (raw.length === 64) return raw;
  if (raw.length === 65 && raw[0] === 0x04) return raw.subarray(1);
  if (raw[0] === 0x30) return spkiKey(raw, readTlv(raw, 0));
  throw new Error(`${raw.length} bytes: give x || y (64 bytes), 04 || x || y (65) or a DER public key`);
}

/** Throws unless x || y is a point of P-256 (WebCrypto refuses a point off the curve). */
async function onCurve(xy: Uint8Array): Promise<void> {
  const raw = new Uint8Array(65);
  raw[0] = 0x04;
  raw.set(xy, 1);
  try {
    await crypto.subtle.importKey("raw", raw, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
  } catch {
    throw new Error("its key is not a point on the P-256 curve");
  }
}

/** What the operator pasted, as the registry's meter key; a clear error says what is wrong. */
export async function parseMeterKey(input: string): Promise<MeterKey> {
  const s = input.trim();
  if (!s) return { key: "0x", from: "none" };
  if (/-----BEGIN [A-Z ]*PRIVATE KEY-----/.test(s)) {
    throw new Error("That is a private key: paste the meter's certificate or public key, never a private key.");
  }
  let out: { xy: Uint8Array; from: MeterKey["from"]; subject?: string; notAfter?: string };
  const kind = s.startsWith("-----") ? "PEM" : "hex";
  try {
    const cert = pemBody(s, "CERTIFICATE");
    const pub = cert ? null : pemBody(s, "PUBLIC KEY");
    if (cert) out = { ...certificateKey(cert), from: "certificate" };
    else if (pub) out = { xy: spkiKey(pub, readTlv(pub, 0)), from: "public key" };
    else if (kind === "PEM") throw new Error("no CERTIFICATE or PUBLIC KEY block in it");
    else {
      const clean = s.replace(/^0x/i, "");
      if (clean.length % 2 || !/^[0-9a-f]+$/i.test(clean)) throw new Error("it is neither PEM nor hex");
      out = { xy: fromHex(clean), from: "hex" };
    }
    await onCurve(out.xy);
  } catch (err) {
    const why = err instanceof Error ? err.message : String(err);
    throw new Error(`Meter key: ${why}. Paste the meter's PEM certificate or public key (P-256), or its key in hex.`);
  }
  const { xy, ...rest } = out;
  return { key: bytesToHex(xy), ...rest };
}

/** One line for the page: what was read. */
export function describeMeterKey(m: MeterKey): string {
  if (m.from === "none") return "No meter key: the station is registered without one.";
  const of = m.from === "certificate" ? `${m.subject ? ` of "${m.subject}"` : ""}${m.notAfter ? `, valid until ${m.notAfter}` : ""}` : "";
  return `Meter key (P-256) from the ${m.from}${of}: ${m.key.slice(0, 10)}…${m.key.slice(-8)}`;
}
