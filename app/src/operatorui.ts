// The "Your stations (operator)" section: stake and unbond with the clock shown, payouts owed and
// their withdrawal, WATT rewards and their escrow, each station's tariff with the spacing rule
// explained before a change is sent (operator.ts); each change signed in the wallet.
import type { Hex } from "viem";
import type { Page } from "./chargeui";
import { stationName } from "./chargeui";
import { showKeys, wireKeys } from "./keysui";
import { wireRegister } from "./registerui";
import { showEarnings } from "./epochsui";
import { figures, signed, tableRow } from "./ui";
import { formatUnits, parseAmount, utc } from "./format";
import { applyOperatorChange, escrowText, readOperator, tariffRuleText, unbondingText, type OperatorChange, type OperatorView } from "./operator";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const WATT_DECIMALS = 18;
const watt = (v: bigint) => `${formatUnits(v, WATT_DECIMALS, 4)} WATT`;
let current: OperatorView | null = null;

export async function showOperator(page: Page): Promise<void> {
  const w = page.wallet();
  const config = page.config();
  if (!w || !config) return;
  const v = await readOperator(w, config, page.stations());
  current = v;
  const named = (id: string) => { const st = page.stations().find((x) => x.id === id); return st ? stationName(st) : id.slice(0, 10); };
  void showEarnings(w.account, config, named);
  const credit = page.credit();
  const s = v.stake;
  $("operator-section").hidden = false;
  figures($("stake-figures"), [
    ["Staked (active)", watt(s.active)],
    ["Bonded by your stations", `${s.bondedStations} stations, ${s.bondedKw} kW`],
    ["WATT in wallet", watt(s.watt)],
  ]);
  $("unbond-text").textContent = unbondingText(s, v.now, watt);
  $("withdraw-stake").hidden = s.unbonding === 0n;
  $("payout-text").textContent = `Owed to you by the ledger (pull payment: withdraw when you like): ${config.credits
    .map((c, i) => `${formatUnits(v.owed[i] ?? 0n, c.decimals)} ${c.symbol}`).join(", ")}.`;
  $("escrow-text").textContent = escrowText(v, watt);
  $("claim-rewards").hidden = v.epoch === null || v.stations.length === 0;
  $("operator-stations").querySelector("tbody")!.replaceChildren(...v.stations.map((st) => {
    const t = st.station.tariffs[String(credit.id)];
    return tableRow([stationName(st.station), st.station.active ? "active" : "inactive",
      t === undefined ? "—" : `${formatUnits(BigInt(t), credit.decimals, 4)} ${credit.symbol}`,
      st.tariffChangedAt ? utc(st.tariffChangedAt) : "—", v.epoch === null ? "—" : formatUnits(st.rewards, WATT_DECIMALS, 4)]);
  }));
  const select = $<HTMLSelectElement>("tariff-station");
  const chosen = select.value;
  select.replaceChildren(...v.stations.map((st) => {
    const o = document.createElement("option");
    o.value = st.station.id;
    o.textContent = stationName(st.station);
    return o;
  }));
  if (v.stations.some((st) => st.station.id === chosen)) select.value = chosen;
  $("tariff-form").hidden = v.stations.length === 0;
  showTariffRule();
  showKeys(page);
}

/** The spacing rule for the station picked, shown before anything is sent. */
function showTariffRule(): void {
  const st = current?.stations.find((x) => x.station.id === $<HTMLSelectElement>("tariff-station").value);
  $("tariff-rule").textContent = current && st ? tariffRuleText(st.tariffChangedAt, current.cooldown, current.now) : "";
}

function change(page: Page, what: string, make: () => OperatorChange): Promise<void> {
  return signed(page, "#operator-section button", what,
    (w, config) => applyOperatorChange(w, config, make(), (step) => page.status(`${step}: confirm in your wallet…`)),
    () => refreshOperator(page));
}

/** Stations (a registration adds one) and balances first, then this section from them. */
async function refreshOperator(page: Page): Promise<void> {
  await page.refresh();
  await showOperator(page);
}

export function wireOperator(page: Page): void {
  const amount = () => parseAmount($<HTMLInputElement>("stake-amount").value, WATT_DECIMALS);
  $("stake-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void change(page, "Staking WATT", () => ({ kind: "stake", amount: amount() }));
  });
  $("unbond-button").addEventListener("click", () => void change(page, "Requesting an unbond", () => ({ kind: "unbond", amount: amount() })));
  $("withdraw-stake").addEventListener("click", () => void change(page, "Withdrawing unbonded WATT", () => ({ kind: "withdrawStake" })));
  $("withdraw-payout").addEventListener("click", () => void change(page, "Withdrawing your payouts", () => ({ kind: "payout", credit: page.credit() })));
  $("claim-rewards").addEventListener("click", () => void change(page, "Claiming WATT rewards", () => {
    if (!current || current.epoch === null) throw new Error("No epoch has closed yet.");
    return { kind: "claim", epoch: current.epoch, stations: current.stations.map((s) => s.station.id) };
  }));
  $("tariff-station").addEventListener("change", showTariffRule);
  wireRegister(page, () => refreshOperator(page));
  wireKeys(page, () => refreshOperator(page));
  $("tariff-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void change(page, "Changing the tariff", () => ({
      kind: "tariff", station: $<HTMLSelectElement>("tariff-station").value as Hex, credit: page.credit(),
      price: parseAmount($<HTMLInputElement>("tariff-price").value, page.credit().decimals),
    }));
  });
}
