// What a driver lets stations do, on the ledger: the mandate (caps per session and per day, in
// whole cap units; revoked from a day after the redemption delay), the any-station consent, the
// referrer and the RFID cards bound to the wallet; and redeeming credits back into the stablecoin
// (requested, paid out after the redemption delay, or cancelled back into the balance). Every change is simulated first, so a refusal
// shows decoded before the wallet is asked to sign.
import { keccak256, toHex, zeroAddress, type Address, type Hash, type Hex } from "viem";
import { energyCreditsAbi } from "./abi/contracts";
import type { Credit } from "./api";
import { utc } from "./format";
import { send } from "./charge";
import type { Wallet } from "./wallet";

export interface Settings {
  perSessionCap: bigint;
  dailyCap: bigint;
  validUntil: bigint; // 0: open (or none); otherwise the mandate ends then (revoked)
  anyStation: boolean;
  referrer: Address;
  redeeming: bigint; // credits pending redemption
  redeemableAt: bigint; // when they may be paid out (later by any time the ledger spends paused)
}

export async function readSettings(w: Wallet, ledger: Address, credit: Credit): Promise<Settings> {
  const id = BigInt(credit.id);
  const [m, account, referrer, redemption] = await Promise.all([
    w.reader.readContract({ address: ledger, abi: energyCreditsAbi, functionName: "mandateOf", args: [w.account, id] }),
    w.reader.readContract({ address: ledger, abi: energyCreditsAbi, functionName: "accountOf", args: [w.account, id] }),
    w.reader.readContract({ address: ledger, abi: energyCreditsAbi, functionName: "referrerOf", args: [w.account] }),
    w.reader.readContract({ address: ledger, abi: energyCreditsAbi, functionName: "redemptionOf", args: [w.account, id] }),
  ]);
  return {
    perSessionCap: m.perSessionCap, dailyCap: m.dailyCap, validUntil: m.validUntil, anyStation: account.anyStation, referrer,
    redeeming: redemption.amount, redeemableAt: BigInt(redemption.unlockAt),
  };
}

/** The operators (of `operators`) whose stations the driver lets charge it. */
export async function consentedOperators(w: Wallet, ledger: Address, operators: Address[]): Promise<Address[]> {
  const flags = await Promise.all(operators.map((op) =>
    w.reader.readContract({ address: ledger, abi: energyCreditsAbi, functionName: "consentOf", args: [w.account, op] })));
  return operators.filter((_, i) => flags[i]);
}

/** The mandate in plain words at chain time `nowS`. */
export function mandateText(s: Settings, nowS: bigint, amount: (v: bigint) => string): string {
  if (s.dailyCap === 0n) return "No mandate: no station may charge you.";
  const caps = `up to ${amount(s.perSessionCap)} a session and ${amount(s.dailyCap)} a day`;
  if (s.validUntil === 0n) return `Stations may charge you ${caps}.`;
  return s.validUntil > nowS ? `Revoked: stations may charge you ${caps} until ${utc(s.validUntil)}.` : `Revoked since ${utc(s.validUntil)}.`;
}

/** The pending redemption in plain words at chain time `nowS`. */
export function redemptionText(s: Settings, nowS: bigint, amount: (v: bigint) => string): string {
  if (s.redeeming === 0n) return "No redemption pending.";
  return s.redeemableAt > nowS
    ? `${amount(s.redeeming)} being redeemed: paid out from ${utc(s.redeemableAt)} (stations may still settle sessions from it until then).`
    : `${amount(s.redeeming)} redeemed: ready to be paid out.`;
}

/** The on-chain key of an RFID card or idToken (as the gateways compute it: wattnet.domain). */
export function idTokenHash(token: string): Hex {
  const t = token.trim().toUpperCase();
  if (!t) throw new Error("Enter the card's id.");
  return keccak256(toHex(t));
}

export type Change =
  | { kind: "mandate"; perSessionCap: bigint; dailyCap: bigint }
  | { kind: "revoke" }
  | { kind: "consent"; operator: Address; allowed: boolean } // EVERY_STATION: any station
  | { kind: "referrer"; referrer: Address }
  | { kind: "bind" | "unbind"; card: string }
  | { kind: "redeem"; amount: bigint }
  | { kind: "cancelRedemption" | "completeRedemption" };

/** Simulate then send one change; returns its transaction. */
export async function applyChange(w: Wallet, ledger: Address, credit: Credit, c: Change): Promise<Hash> {
  const base = { account: w.account, address: ledger, abi: energyCreditsAbi } as const;
  const id = BigInt(credit.id);
  const sim = (() => {
    switch (c.kind) {
      case "mandate": return w.reader.simulateContract({ ...base, functionName: "setMandate", args: [id, c.perSessionCap, c.dailyCap] });
      case "revoke": return w.reader.simulateContract({ ...base, functionName: "revokeMandate", args: [id] });
      case "consent": return w.reader.simulateContract({ ...base, functionName: "setConsent", args: [id, c.operator, c.allowed] });
      case "referrer": return w.reader.simulateContract({ ...base, functionName: "setReferrer", args: [c.referrer] });
      case "bind": return w.reader.simulateContract({ ...base, functionName: "bindIdToken", args: [idTokenHash(c.card)] });
      case "unbind": return w.reader.simulateContract({ ...base, functionName: "unbindIdToken", args: [idTokenHash(c.card)] });
      case "redeem": return w.reader.simulateContract({ ...base, functionName: "requestRedemption", args: [id, c.amount] });
      default: return w.reader.simulateContract({ ...base, functionName: c.kind, args: [id] });
    }
  })();
  const { request } = await sim;
  return send(w, request);
}

export const NO_REFERRER = zeroAddress;
