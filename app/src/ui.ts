// Small DOM pieces the sections share: figure lists, table rows, and a change signed in the
// wallet (buttons held while it runs, progress and the outcome in the live regions).
import type { Hash } from "viem";
import type { AppConfig } from "./api";
import type { Page } from "./chargeui";
import type { Wallet } from "./wallet";

export function figures(target: HTMLElement, rows: [string, string][]): void {
  target.replaceChildren(
    ...rows.map(([k, v]) => {
      const div = document.createElement("div");
      const dt = document.createElement("dt");
      const dd = document.createElement("dd");
      dt.textContent = k;
      dd.textContent = v;
      div.append(dt, dd);
      return div;
    }),
  );
}

export function tableRow(values: (string | Node)[]): HTMLTableRowElement {
  const tr = document.createElement("tr");
  for (const v of values) {
    const td = document.createElement("td");
    td.append(v);
    tr.append(td);
  }
  return tr;
}

/** Run `act` (which asks the wallet to sign) with the `buttons` held, then `after`; the
 * status says "<what>: done in <tx>.", or the error shows decoded. */
export async function signed(page: Page, buttons: string, what: string,
  act: (w: Wallet, config: AppConfig) => Promise<Hash>, after: () => Promise<unknown>): Promise<void> {
  const w = page.wallet();
  const config = page.config();
  if (!w || !config) return;
  page.error(null);
  const held = document.querySelectorAll<HTMLButtonElement>(buttons);
  held.forEach((b) => (b.disabled = true));
  try {
    page.status(`${what}: confirm in your wallet…`);
    const hash = await act(w, config);
    await after();
    page.status(`${what}: done in ${hash}.`);
  } catch (err) {
    page.status("");
    page.error(err);
  } finally {
    held.forEach((b) => (b.disabled = false));
  }
}
