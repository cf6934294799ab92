// Fixed-point amounts as people read them (never through floating point).

/** `amount` (an integer in units of 10^-decimals) as a decimal string with at most `places`. */
export function formatUnits(amount: bigint, decimals: number, places = 2): string {
  const negative = amount < 0n;
  const abs = negative ? -amount : amount;
  const base = 10n ** BigInt(decimals);
  const whole = abs / base;
  let frac = (abs % base).toString().padStart(decimals, "0").slice(0, Math.max(0, places));
  frac = frac.replace(/0+$/, "");
  const text = frac ? `${whole}.${frac}` : `${whole}`;
  return negative ? `-${text}` : text;
}

/** A decimal string typed by a person, as an integer in units of 10^-decimals. */
export function parseAmount(text: string, decimals: number): bigint {
  const t = text.trim().replace(/_/g, "");
  const m = /^(\d+)(?:\.(\d*))?$/.exec(t);
  if (!m) throw new Error(`"${text}" is not an amount`);
  const frac = m[2] ?? "";
  if (frac.length > decimals) throw new Error(`"${text}" has more than ${decimals} decimals`);
  const value = BigInt(m[1]) * 10n ** BigInt(decimals) + BigInt(frac.padEnd(decimals, "0") || "0");
  if (value === 0n) throw new Error("the amount must be more than zero");
  return value;
}

/** Watts as kW with one decimal where needed: 22000 -> "22 kW", 7400 -> "7.4 kW". */
export function formatPower(watts: number): string {
  const kw = Math.round(watts / 100) / 10;
  return `${kw} kW`;
}

export function shortAddress(address: string): string {
  return address.length > 12 ? `${address.slice(0, 6)}…${address.slice(-4)}` : address;
}

/** A chain timestamp (seconds) as a UTC minute: "2027-01-01 00:00 UTC". */
export const utc = (t: bigint) => `${new Date(Number(t) * 1000).toISOString().slice(0, 16).replace("T", " ")} UTC`;

/** A span of seconds in days and hours (or minutes under an hour): "30 d 4 h", "12 min". */
export function duration(seconds: bigint): string {
  const s = Number(seconds);
  if (s < 3600) return `${Math.ceil(s / 60)} min`;
  const d = Math.floor(s / 86400);
  const h = Math.floor((s % 86400) / 3600);
  return d ? (h ? `${d} d ${h} h` : `${d} d`) : `${h} h`;
}
