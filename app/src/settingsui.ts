// The "What stations may do" section: the driver's mandate, any-station consent, referrer and
// RFID cards, and the wallet's redemption (settings.ts), each change signed in the wallet.
import { getAddress, isAddress } from "viem";
import type { Page } from "./chargeui";
import { formatUnits, parseAmount } from "./format";
import type { Address } from "viem";
import { EVERY_STATION } from "./charge";
import { stationName } from "./chargeui";
import { signed } from "./ui";
import { applyChange, consentedOperators, mandateText, NO_REFERRER, readSettings, redemptionText, type Change, type Settings } from "./settings";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
let current: Settings | null = null;

export async function showSettings(page: Page): Promise<void> {
  const w = page.wallet();
  const config = page.config();
  if (!w || !config) return;
  const credit = page.credit();
  const owners = new Map<Address, string[]>();
  for (const st of page.stations()) owners.set(st.operator, [...(owners.get(st.operator) ?? []), stationName(st)]);
  const label = (op: Address) => `${op.slice(0, 10)}… (${owners.get(op)!.join(", ")})`;
  const [s, block, allowed] = await Promise.all([
    readSettings(w, config.contracts.EnergyCredits!, credit), w.reader.getBlock(), consentedOperators(w, config.contracts.EnergyCredits!, [...owners.keys()]),
  ]);
  current = s;
  const amount = (v: bigint) => `${formatUnits(v, credit.decimals)} ${credit.symbol}`;
  $("settings-section").hidden = false;
  $("mandate-text").textContent = mandateText(s, block.timestamp, amount);
  $<HTMLButtonElement>("revoke").hidden = s.dailyCap === 0n || s.validUntil !== 0n;
  $("any-text").textContent = s.anyStation
    ? "Every station may charge you within your mandate."
    : "Only stations of operators you allowed may charge you.";
  $("any-station").textContent = s.anyStation ? "Stop letting every station charge me" : "Let every station charge me";
  $("consent-text").textContent = allowed.length
    ? `You let the stations of these operators charge you: ${allowed.map(label).join("; ")}.`
    : "You let no operator's stations charge you by name.";
  const select = $<HTMLSelectElement>("consent-operator");
  const chosen = select.value;
  select.replaceChildren(...[...owners.keys()].map((op) => {
    const o = document.createElement("option");
    o.value = op;
    o.textContent = label(op);
    return o;
  }));
  if (owners.has(chosen as Address)) select.value = chosen;
  $<HTMLInputElement>("referrer").value = s.referrer === NO_REFERRER ? "" : s.referrer;
  $("redemption").hidden = false;
  $("redemption-text").textContent = redemptionText(s, block.timestamp, amount);
  $("redeem-complete").hidden = s.redeeming === 0n;
  $("redeem-cancel").hidden = s.redeeming === 0n;
}

function change(page: Page, what: string, make: () => Change): Promise<void> {
  return signed(page, "#settings-section button, #redemption button", what,
    (w, config) => applyChange(w, config.contracts.EnergyCredits!, page.credit(), make()), () => page.refresh());
}

export function wireSettings(page: Page): void {
  const amount = (id: string) => parseAmount($<HTMLInputElement>(id).value, page.credit().decimals);
  $("mandate").addEventListener("submit", (e) => {
    e.preventDefault();
    void change(page, "Setting your mandate", () => ({ kind: "mandate", perSessionCap: amount("mandate-session"), dailyCap: amount("mandate-daily") }));
  });
  $("revoke").addEventListener("click", () => void change(page, "Revoking your mandate", () => ({ kind: "revoke" })));
  $("any-station").addEventListener("click", () =>
    void change(page, current?.anyStation ? "Stopping every station" : "Letting every station charge you", () => ({ kind: "consent", operator: EVERY_STATION, allowed: !current?.anyStation })));
  const operator = () => $<HTMLSelectElement>("consent-operator").value as Address;
  $("consent-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void change(page, "Allowing this operator's stations", () => ({ kind: "consent", operator: operator(), allowed: true }));
  });
  $("consent-withdraw").addEventListener("click", () =>
    void change(page, "Withdrawing this operator's consent", () => ({ kind: "consent", operator: operator(), allowed: false })));
  $("referrer-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void change(page, "Choosing your referrer", () => {
      const text = $<HTMLInputElement>("referrer").value.trim();
      if (text && !isAddress(text)) throw new Error(`${text} is not an address.`);
      return { kind: "referrer", referrer: text ? getAddress(text) : NO_REFERRER };
    });
  });
  $("card-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void change(page, "Binding your card", () => ({ kind: "bind", card: $<HTMLInputElement>("card").value }));
  });
  $("unbind").addEventListener("click", () => void change(page, "Unbinding your card", () => ({ kind: "unbind", card: $<HTMLInputElement>("card").value })));
  $("redeem").addEventListener("submit", (e) => {
    e.preventDefault();
    void change(page, "Requesting a redemption", () => ({ kind: "redeem", amount: amount("redeem-amount") }));
  });
  $("redeem-complete").addEventListener("click", () => void change(page, "Paying out your redemption", () => ({ kind: "completeRedemption" })));
  $("redeem-cancel").addEventListener("click", () => void change(page, "Cancelling your redemption", () => ({ kind: "cancelRedemption" })));
}
