// The "DAO" section: governed parameters and proposals (read API), the member's votes and
// delegate, and delegate / vote / queue / execute signed in the wallet (dao.ts).
import { getAddress, isAddress, type Address } from "viem";
import type { Page } from "./chargeui";
import { tableRow, signed } from "./ui";
import { duration, formatUnits, shortAddress } from "./format";
import { actionsFor, applyDaoChange, buildProposal, fetchParameters, fetchProposals, readMember, SUPPORT, timelineText, votesText, type DaoChange, type GovParam } from "./dao";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const watt = (v: bigint) => `${formatUnits(v, 18, 2)} WATT`;
let params: GovParam[] = [];

function button(text: string, label: string, onClick: () => void): HTMLButtonElement {
  const b = document.createElement("button");
  b.type = "button";
  b.textContent = text;
  b.setAttribute("aria-label", label);
  b.addEventListener("click", onClick);
  return b;
}

/** Parameters and proposals (no wallet needed); the member's part once connected. */
export async function showDao(page: Page): Promise<void> {
  const [list, g] = await Promise.all([fetchParameters(), fetchProposals()]);
  params = list;
  $("parameters").querySelector("tbody")!.replaceChildren(...params.map((p) =>
    tableRow([p.key, `${p.contract}.${p.setter}`, p.unit ? `${p.value} ${p.unit}` : p.value, p.bounds])));
  $("dao-rules").textContent = `Proposing takes ${watt(BigInt(g.proposal_threshold))} of votes; voting opens ${duration(BigInt(g.voting_delay))} after a proposal and lasts ${duration(BigInt(g.voting_period))}.`;
  const w = page.wallet();
  $("proposals").querySelector("tbody")!.replaceChildren(...g.proposals.map((p) => {
    const acts = document.createElement("div");
    acts.className = "row";
    if (w) {
      for (const a of actionsFor(p, g.clock)) {
        if (a === "vote") {
          for (const [name, support] of Object.entries(SUPPORT)) {
            acts.append(button(`Vote ${name}`, `Vote ${name} proposal ${p.short_id}`, () =>
              void change(page, `Voting ${name}`, { kind: "vote", proposal: p, support })));
          }
        } else {
          const what = a === "queue" ? "Queue" : "Execute";
          acts.append(button(what, `${what} proposal ${p.short_id}`, () =>
            void change(page, a === "queue" ? "Queueing the proposal" : "Executing the proposal", { kind: a, proposal: p })));
        }
      }
    }
    const tr = tableRow([`${p.short_id}: ${p.description}`, p.calls.join("; "), p.state, votesText(p, watt), timelineText(p, g.clock), acts]);
    tr.dataset.proposal = p.short_id;
    return tr;
  }));
  if (!w || !page.config()) return;
  const m = await readMember(w, page.config()!);
  $("delegate-form").hidden = false;
  $("propose-form").hidden = false;
  showProposeKeys();
  const to = m.delegate.toLowerCase() === w.account.toLowerCase() ? "yourself"
    : /^0x0+$/.test(m.delegate) ? "nobody (your WATT does not vote until you delegate, to yourself or another)" : shortAddress(m.delegate);
  $("dao-member").textContent = `You hold ${watt(m.balance)}; your votes: ${watt(m.votes)}; delegated to ${to}.`;
}

function change(page: Page, what: string, c: DaoChange): Promise<void> {
  return signed(page, "#dao-section button", what, (w, config) => applyDaoChange(w, config, c), () => showDao(page));
}

/** The governed parameters to pick from, and the bounds and value of the one picked. */
function showProposeKeys(): void {
  const select = $<HTMLSelectElement>("propose-key");
  const chosen = select.value;
  select.replaceChildren(...params.map((p) => {
    const o = document.createElement("option");
    o.value = p.key;
    o.textContent = p.key;
    return o;
  }));
  if (params.some((p) => p.key === chosen)) select.value = chosen;
  showProposeBounds();
}

function showProposeBounds(): void {
  const p = params.find((x) => x.key === $<HTMLSelectElement>("propose-key").value);
  $("propose-bounds").textContent = p
    ? `${p.contract}.${p.setter}: now ${p.unit ? `${p.value} ${p.unit}` : p.value}; governance may set ${p.bounds}${p.note ? ` (${p.note})` : ""}. Durations as seconds or 30m, 12h, 7d.`
    : "";
}

function propose(page: Page): Promise<void> {
  return signed(page, "#dao-section button", "Proposing the change", async (w, config) => {
    const calls = await buildProposal($<HTMLSelectElement>("propose-key").value, $<HTMLInputElement>("propose-value").value,
      $<HTMLTextAreaElement>("propose-description").value);
    page.status(`Proposing ${calls.calls.join("; ")}: confirm in your wallet…`);
    return applyDaoChange(w, config, { kind: "propose", calls });
  }, () => showDao(page));
}

export function wireDao(page: Page): void {
  $("propose-key").addEventListener("change", showProposeBounds);
  $("propose-form").addEventListener("submit", (e) => {
    e.preventDefault();
    void propose(page);
  });
  $("delegate-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const text = $<HTMLInputElement>("delegate-to").value.trim();
    if (text && !isAddress(text)) {
      page.error(new Error(`${text} is not an address.`));
      return;
    }
    const to: Address = text ? getAddress(text) : page.wallet()!.account;
    void change(page, "Delegating your votes", { kind: "delegate", to });
  });
}
