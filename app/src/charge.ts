// Starting a session from the app: the driver allows the station's operator to charge it
// (mandate caps and consent, on chain, only when missing), then signs an EIP-712 ChargeRequest
// in the wallet; the server relays it to the station's gateway, which checks the signature and
// remote-starts the charger with a one-time idToken bound to this driver.
import { type Address, type Hash, type Hex } from "viem";
import { energyCreditsAbi } from "./abi/contracts";
import { postCharge, type AppConfig, type Credit, type Station } from "./api";
import type { Wallet } from "./wallet";

export const chargeRequestTypes = {
  ChargeRequest: [
    { name: "stationId", type: "bytes32" },
    { name: "connectorId", type: "uint8" },
    { name: "driver", type: "address" },
    { name: "creditId", type: "uint256" },
    { name: "maxCost", type: "uint128" },
    { name: "nonce", type: "uint64" },
    { name: "deadline", type: "uint40" },
  ],
} as const;

export const REQUEST_TTL_S = 300;

/** A random 64-bit nonce: the gateway refuses a (driver, nonce) pair it saw before. */
export function newNonce(random: (a: Uint32Array) => Uint32Array = (a) => crypto.getRandomValues(a)): bigint {
  const [hi, lo] = random(new Uint32Array(2));
  return (BigInt(hi!) << 32n) | BigInt(lo!);
}

export interface Permission {
  perSessionCap: bigint;
  dailyCap: bigint;
  open: boolean; // a mandate with a daily cap, not revoked
  consent: boolean; // the station's operator may charge this driver
}

export const EVERY_STATION = "0x0000000000000000000000000000000000000000" as const;

/** The mandate, and the consent to `operator` (EVERY_STATION: the account's any-station flag). */
export async function readPermission(w: Wallet, ledger: Address, credit: Credit, operator: Address): Promise<Permission> {
  const [m, consent, account] = await Promise.all([
    w.reader.readContract({ address: ledger, abi: energyCreditsAbi, functionName: "mandateOf", args: [w.account, BigInt(credit.id)] }),
    w.reader.readContract({ address: ledger, abi: energyCreditsAbi, functionName: "consentOf", args: [w.account, operator] }),
    w.reader.readContract({ address: ledger, abi: energyCreditsAbi, functionName: "accountOf", args: [w.account, BigInt(credit.id)] }),
  ]);
  const open = m.dailyCap > 0n && m.validUntil === 0n;
  return { perSessionCap: m.perSessionCap, dailyCap: m.dailyCap, open, consent: account.anyStation || (operator !== EVERY_STATION && consent) };
}

/** What must be sent before a session of up to `maxCost` may be charged. */
export function missingSteps(p: Permission, maxCost: bigint): ("mandate" | "consent")[] {
  const steps: ("mandate" | "consent")[] = [];
  if (!p.open || p.perSessionCap < maxCost || p.dailyCap < maxCost) steps.push("mandate");
  if (!p.consent) steps.push("consent");
  return steps;
}

/** Send a simulated request from the wallet and wait until it is mined (a revert throws). */
export async function send(w: Wallet, request: Parameters<Wallet["wallet"]["writeContract"]>[0]): Promise<Hash> {
  return confirmed(w, await w.wallet.writeContract({ ...request, chain: null }));
}

/** `hash` once mined; a transaction that reverted on chain is an error. */
export async function confirmed(w: Wallet, hash: Hash): Promise<Hash> {
  const receipt = await w.reader.waitForTransactionReceipt({ hash, pollingInterval: 250 });
  if (receipt.status !== "success") throw new Error(`Transaction ${hash} failed on chain.`);
  return hash;
}

/** Set the mandate (caps at least `maxCost` per session, `dailyCap` a day; caps only rise) and
 * the consent to `operator`, each simulated first so a refusal shows decoded before signing. */
export async function allowStation(
  w: Wallet, ledger: Address, credit: Credit, operator: Address, maxCost: bigint, dailyCap: bigint,
  onStep: (what: string) => void,
): Promise<void> {
  const p = await readPermission(w, ledger, credit, operator);
  const id = BigInt(credit.id);
  for (const step of missingSteps(p, maxCost)) {
    if (step === "mandate") {
      const per = p.perSessionCap > maxCost ? p.perSessionCap : maxCost;
      const day = [p.dailyCap, dailyCap, per].reduce((a, b) => (a > b ? a : b));
      const { request } = await w.reader.simulateContract({
        account: w.account, address: ledger, abi: energyCreditsAbi, functionName: "setMandate", args: [id, per, day],
      });
      onStep("Setting your mandate (what stations may charge you)");
      await send(w, request);
    } else {
      const { request } = await w.reader.simulateContract({
        account: w.account, address: ledger, abi: energyCreditsAbi, functionName: "setConsent", args: [id, operator, true],
      });
      onStep(operator === EVERY_STATION ? "Letting every station charge you within your mandate" : "Allowing this station's operator to charge you");
      await send(w, request);
    }
  }
}

/** Sign a ChargeRequest in the wallet and have the station's gateway start the charger. */
export async function requestCharge(
  w: Wallet, config: AppConfig, station: Station, connectorId: number, credit: Credit, maxCost: bigint, now = Date.now(),
): Promise<string> {
  if (!config.charge) throw new Error("This server relays no remote starts.");
  const message = {
    stationId: station.id as Hex,
    connectorId,
    driver: w.account,
    creditId: BigInt(credit.id),
    maxCost,
    nonce: newNonce(),
    deadline: Math.floor(now / 1000) + REQUEST_TTL_S,
  };
  const signature = await w.wallet.signTypedData({
    account: w.account, domain: config.charge.domain, types: chargeRequestTypes, primaryType: "ChargeRequest", message,
  });
  const request = { ...message, creditId: String(message.creditId), maxCost: String(maxCost), nonce: String(message.nonce) };
  return postCharge({ request, signature });
}
