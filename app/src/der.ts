// A minimal ASN.1 DER reader: enough to walk an X.509 certificate to its subject and public key.

export interface Tlv {
  tag: number;
  start: number; // first byte of the content
  end: number; // one past the last byte of the content
}

/** The element at `at` in `der` (definite lengths only, as DER requires). */
export function readTlv(der: Uint8Array, at: number): Tlv {
  const tag = der[at];
  let len = der[at + 1];
  if (tag === undefined || len === undefined) throw new Error("truncated DER");
  let start = at + 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    if (n === 0 || n > 3) throw new Error("unsupported DER length");
    len = 0;
    for (let i = 0; i < n; i++) len = len * 256 + (der[start + i] ?? NaN);
    start += n;
  }
  const end = start + len;
  if (!(end <= der.length)) throw new Error("truncated DER");
  return { tag, start, end };
}

/** The elements inside a constructed element (a SEQUENCE, a SET, a context tag). */
export function children(der: Uint8Array, parent: Tlv): Tlv[] {
  const out: Tlv[] = [];
  for (let at = parent.start; at < parent.end; at = out[out.length - 1]!.end) out.push(readTlv(der, at));
  return out;
}

/** An OBJECT IDENTIFIER's content in dotted form. */
export function oid(der: Uint8Array, t: Tlv): string {
  const bytes = der.subarray(t.start, t.end);
  const parts: number[] = [];
  let v = 0;
  for (const b of bytes) {
    v = v * 128 + (b & 0x7f);
    if (!(b & 0x80)) {
      if (parts.length === 0) parts.push(v < 80 ? Math.floor(v / 40) : 2, v < 80 ? v % 40 : v - 80);
      else parts.push(v);
      v = 0;
    }
  }
  return parts.join(".");
}

export function text(der: Uint8Array, t: Tlv): string {
  return new TextDecoder().decode(der.subarray(t.start, t.end));
}

/** The DER bytes inside a PEM block of `label` (e.g. "CERTIFICATE"), or null when there is none. */
export function pemBody(pem: string, label: string): Uint8Array | null {
  const m = pem.match(new RegExp(`-----BEGIN ${label}-----([\\s\\S]*?)-----END ${label}-----`));
  if (!m) return null;
  const b64 = m[1]!.replace(/\s+/g, "");
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64)) throw new Error(`the ${label} block is not base64`);
  return Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
}
