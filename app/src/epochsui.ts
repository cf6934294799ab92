// The network's figures per epoch (this epoch in words, a bar chart per series with the same
// numbers in a table beside it) and the operator's earnings per station and epoch.
import type { Address } from "viem";
import type { AppConfig, Credit } from "./api";
import { getJson } from "./api";
import { bars, earningsCells, epochSeries, thisEpoch, undecodedNote, type Earnings, type Epochs, type Series } from "./epochs";
import { figures, tableRow } from "./ui";

const SVG = "http://www.w3.org/2000/svg";
const W = 320;
const H = 120;
const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

export const fetchEpochs = () => getJson<Epochs>("api/network/epochs");
export const fetchEarnings = (operator: Address) => getJson<Earnings>(`api/operators/${operator}/earnings`);

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attrs: Record<string, string | number>): SVGElementTagNameMap[K] {
  const el = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, String(v));
  return el;
}

function chart(s: Series, i: number): HTMLElement {
  const fig = document.createElement("figure");
  fig.className = "chart";
  const id = `chart-${i}`;
  const caption = document.createElement("figcaption");
  caption.id = `${id}-title`;
  caption.textContent = s.title;
  const pic = svg("svg", { viewBox: `0 0 ${W} ${H}`, role: "img", "aria-labelledby": `${id}-title ${id}-desc` });
  const desc = svg("desc", { id: `${id}-desc` });
  desc.textContent = s.labels.map((l, j) => `${l}: ${s.text[j]}`).join("; ");
  pic.append(desc);
  bars(s.values, W, H).forEach((b, j) => {
    const rect = svg("rect", { x: b.x, y: b.y, width: b.width, height: b.height, class: "bar" });
    const tip = svg("title", {});
    tip.textContent = `${s.labels[j]}: ${s.text[j]}`;
    rect.append(tip);
    pic.append(rect);
  });
  pic.append(svg("line", { x1: 0, y1: H, x2: W, y2: H, class: "axis" }));
  fig.append(caption, pic);
  return fig;
}

function table(series: Series[]): HTMLElement {
  const wrap = document.createElement("div");
  wrap.className = "table-wrap";
  const t = document.createElement("table");
  t.id = "epochs-table";
  const cap = document.createElement("caption");
  cap.className = "muted";
  cap.textContent = "The charts' numbers per epoch";
  const head = document.createElement("thead");
  const hr = document.createElement("tr");
  for (const h of ["Epoch", ...series.map((s) => s.title)]) {
    const th = document.createElement("th");
    th.scope = "col";
    th.textContent = h;
    hr.append(th);
  }
  head.append(hr);
  const body = document.createElement("tbody");
  const labels = series[0]?.labels ?? [];
  body.append(...labels.map((l, j) => tableRow([l.replace("epoch ", ""), ...series.map((s) => s.text[j]!)])).reverse());
  t.append(cap, head, body);
  wrap.append(t);
  return wrap;
}

/** Fill the "Network per epoch" section; a server without an index says so. */
export async function showEpochs(credit: Credit): Promise<void> {
  let data: Epochs;
  try {
    data = await fetchEpochs();
  } catch (err) {
    $("epochs-note").textContent = `Figures per epoch are not available: ${err instanceof Error ? err.message : String(err)}`;
    return;
  }
  figures($("epoch-figures"), thisEpoch(data, credit));
  const series = epochSeries(data, credit);
  $("epoch-charts").replaceChildren(...series.map(chart));
  $("epoch-table").replaceChildren(table(series));
  $("epochs-note").textContent = `From the event index (block ${data.indexed_block}); WATT emission is the schedule's for each epoch. ${undecodedNote(data)}`.trim();
  document.body.dataset.epochs = "1";
}

/** The operator's earnings per station and epoch, newest epoch first. */
export async function showEarnings(operator: Address, config: AppConfig, name: (id: string) => string): Promise<void> {
  const body = $("operator-earnings").querySelector("tbody")!;
  try {
    const e = await fetchEarnings(operator);
    body.replaceChildren(...e.rows.map((r) => tableRow(earningsCells(r, config.credits, name))));
    $("earnings-note").textContent = e.rows.length ? "" : "No settled sessions at your stations yet.";
  } catch (err) {
    body.replaceChildren();
    $("earnings-note").textContent = `Earnings are not available: ${err instanceof Error ? err.message : String(err)}`;
  }
}
