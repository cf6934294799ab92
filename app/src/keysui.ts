// The "Rotate a station's keys" form of the operator section (keys.ts): the binding the new
// signing key signs is shown for the station picked; the signing key and the meter key rotate
// apart, each simulated before the wallet is asked.
import { getAddress, isAddress, isHex, type Hex } from "viem";
import type { Page } from "./chargeui";
import { stationName } from "./chargeui";
import { meterKeyBytes, rotateKey, type KeyChange } from "./keys";
import { bindingTypedData } from "./register";
import { signed } from "./ui";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const value = (id: string) => $<HTMLInputElement>(id).value.trim();

const mine = (page: Page) => page.stations().filter((s) => s.operator.toLowerCase() === page.wallet()?.account.toLowerCase());

/** The wallet's stations in the picker, the station's current key and the binding to sign. */
export function showKeys(page: Page): void {
  const w = page.wallet();
  const config = page.config();
  const select = $<HTMLSelectElement>("keys-station");
  const chosen = select.value;
  const stations = mine(page);
  select.replaceChildren(...stations.map((s) => {
    const o = document.createElement("option");
    o.value = s.id;
    o.textContent = stationName(s);
    return o;
  }));
  if (stations.some((s) => s.id === chosen)) select.value = chosen;
  $("keys-form").hidden = stations.length === 0;
  const st = stations.find((s) => s.id === select.value);
  if (!w || !config || !st) return;
  $("keys-current").textContent = `Signing key now: ${st.signer}. The new key signs this (station ${stationName(st)}, bound to your wallet ${w.account} on chain ${config.chain_id}):`;
  $("keys-binding").textContent = JSON.stringify(bindingTypedData(config, st.id, w.account), null, 2);
}

function rotate(page: Page, what: string, make: () => Promise<KeyChange>, after: () => Promise<unknown>): Promise<void> {
  return signed(page, "#operator-section button", what, async (w, config) => rotateKey(w, config, await make()), after);
}

export function wireKeys(page: Page, after: () => Promise<unknown>): void {
  const station = () => $<HTMLSelectElement>("keys-station").value as Hex;
  $("keys-station").addEventListener("change", () => showKeys(page));
  $("rotate-signer").addEventListener("click", () => void rotate(page, "Rotating the signing key", async () => {
    const signer = value("keys-signer");
    if (!isAddress(signer)) throw new Error(`${signer || "(empty)"} is not an address: enter the new signing key's address.`);
    const signature = value("keys-signature");
    if (!isHex(signature) || signature.length !== 132) throw new Error("Paste the 65-byte signature (0x and 130 hex digits) the new signing key made.");
    return { kind: "signer", station: station(), signer: getAddress(signer), signature };
  }, after));
  $("set-meter-key").addEventListener("click", () => void rotate(page, "Setting the meter key", async () =>
    ({ kind: "meter", station: station(), key: await meterKeyBytes(value("keys-meter")) }), after));
}
