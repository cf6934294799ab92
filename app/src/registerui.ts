// The "Register a station" form of the operator section (register.ts): the binding the
// station's signing key signs is shown as soon as the charge point id is typed; the location is
// picked on a map (registermap.ts) or typed; the meter key read from what is pasted (meter.ts).
import { getAddress, isAddress, isHex, type Hex } from "viem";
import type { Page } from "./chargeui";
import { parseAmount } from "./format";
import { describeMeterKey, parseMeterKey } from "./meter";
import { bindingTypedData, registerStation, stationIdFor, type NewStation } from "./register";
import { wireLocationPicker } from "./registermap";
import { signed } from "./ui";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const value = (id: string) => $<HTMLInputElement>(id).value.trim();

/** The typed data to sign, as JSON, for the charge point id typed (hidden until there is one). */
export function showBinding(page: Page): void {
  const w = page.wallet();
  const config = page.config();
  const pre = $("binding-data");
  pre.hidden = !(w && config && value("reg-cp"));
  if (pre.hidden || !w || !config) return;
  const typed = bindingTypedData(config, stationIdFor(value("reg-cp")), w.account);
  pre.textContent = JSON.stringify(typed, null, 2);
  $("binding-note").textContent = `The station's signing key signs this (station id of "${value("reg-cp")}", bound to your wallet ${w.account} on chain ${config.chain_id}):`;
}

/** What is pasted as the meter, read and said back (or why it is refused). */
async function showMeter(): Promise<void> {
  const note = $("reg-meter-note");
  try {
    note.textContent = describeMeterKey(await parseMeterKey(value("reg-meter")));
    note.classList.remove("error");
  } catch (err) {
    note.textContent = err instanceof Error ? err.message : String(err);
    note.classList.add("error");
  }
}

async function form(page: Page): Promise<NewStation> {
  const signer = value("reg-signer");
  if (!isAddress(signer)) throw new Error(`${signer || "(empty)"} is not an address: enter the signing key's address.`);
  const kw = Number(value("reg-power"));
  if (!(kw > 0)) throw new Error("Enter the rated power in kW.");
  return {
    chargePoint: value("reg-cp"), signer: getAddress(signer), ratedPowerW: Math.round(kw * 1000), connectors: Number(value("reg-connectors")),
    geohash: value("reg-geohash"), metadataUri: value("reg-uri"), tariff: parseAmount(value("reg-tariff"), page.credit().decimals),
    meterPublicKey: (await parseMeterKey(value("reg-meter"))).key,
  };
}

export function wireRegister(page: Page, after: () => Promise<unknown>): void {
  $("reg-cp").addEventListener("input", () => showBinding(page));
  $("reg-meter").addEventListener("input", () => void showMeter());
  wireLocationPicker(page);
  $("register-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void signed(page, "#operator-section button", "Registering the station", async (w, config) => {
      const signature = value("reg-signature");
      if (!isHex(signature) || signature.length !== 132) throw new Error("Paste the 65-byte signature (0x and 130 hex digits) the station's key made.");
      return registerStation(w, config, page.credit(), await form(page), signature as Hex);
    }, after);
  });
}
