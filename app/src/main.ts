// The page: network figures, stations (list + map, filters), wallet (connect, balances, buy),
// charging from the app and verifying receipts (chargeui.ts).
import "./style.css";
import type { Address, EIP1193Provider } from "viem";
import { fetchConfig, fetchNetwork, fetchStations, type AppConfig, type Credit, type Station } from "./api";
import { energyKwh, renderSessions } from "./sessions";
import { buyCredits, mintTestTokens, readBalances } from "./credits";
import { onCharge, onVerify, showCharge, type Page } from "./chargeui";
import { showSettings, wireSettings } from "./settingsui";
import { showOperator, wireOperator } from "./operatorui";
import { showDao, wireDao } from "./daoui";
import { explainError } from "./errors";
import { figures } from "./ui";
import { showEpochs } from "./epochsui";
import { formatPower, formatUnits, parseAmount, shortAddress } from "./format";
import type { StationMap } from "./map";
import { filterStations, tariffOf } from "./stations";
import { connectorsText, followAvailability, type Availability } from "./availability";
import { connectWallet, switchChain, WrongChainError, type Wallet } from "./wallet";
import { offerWalletConnect } from "./wcui";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;

let config: AppConfig | null = null;
let stations: Station[] = [];
let wallet: Wallet | null = null;
let live: Availability | null = null;
let stationMap: StationMap | null = null;
let provider: EIP1193Provider | undefined; // the injected wallet, or a WalletConnect session

function setStatus(text: string): void {
  $("status").textContent = text;
}

function showError(err: unknown): void {
  $("error").textContent = err ? explainError(err) : "";
}

function mainCredit(): Credit {
  const credit = config?.credits[0];
  if (!credit) throw new Error("This network lists no credit yet.");
  return credit;
}

function renderStations(): void {
  if (!config) return;
  const credit = mainCredit();
  const maxText = $<HTMLInputElement>("max-price").value.trim();
  let maxTariff: bigint | null = null;
  try {
    maxTariff = maxText ? parseAmount(maxText, credit.decimals) : null;
    showError(null);
  } catch (err) {
    showError(err);
  }
  const shown = filterStations(stations, {
    minPowerW: Number($<HTMLInputElement>("min-power").value || 0) * 1000,
    maxTariff,
    creditId: credit.id,
    onlyUsable: $<HTMLInputElement>("only-usable").checked,
  });
  const body = $("stations").querySelector("tbody")!;
  const nameOf = (s: Station) => s.metadata_uri.split("/").pop() || shortAddress(s.id);
  const statusOf = (s: Station) =>
    [s.usable ? "available" : s.active ? "active, not usable" : "inactive", connectorsText(live, s.id)]
      .filter(Boolean)
      .join(" · ");
  const priceOf = (s: Station) => {
    const t = tariffOf(s, credit.id);
    return t === null ? "—" : `${formatUnits(t, credit.decimals, 4)} ${credit.symbol}`;
  };
  body.replaceChildren(
    ...shown.map((s) => {
      const tr = document.createElement("tr");
      tr.dataset.station = s.id;
      const show = document.createElement("button");
      show.type = "button";
      show.className = "link";
      show.textContent = nameOf(s);
      show.title = "Show on the map";
      show.addEventListener("click", () => stationMap?.open(s.id));
      tr.append(document.createElement("td"));
      tr.cells[0]!.append(show);
      for (const text of [s.geohash, formatPower(s.rated_power_w), String(s.connectors), priceOf(s), statusOf(s)]) {
        const td = document.createElement("td");
        td.textContent = text;
        tr.append(td);
      }
      return tr;
    }),
  );
  stationMap?.show(shown.map((s) => ({
    id: s.id, geohash: s.geohash, name: nameOf(s),
    details: [`${formatPower(s.rated_power_w)} · ${s.connectors} connector${s.connectors === 1 ? "" : "s"}`,
      `${priceOf(s)} per kWh`, statusOf(s), `id ${shortAddress(s.id)} · ${s.geohash}`],
  })));
}

async function loadNetwork(): Promise<void> {
  const [net, list] = await Promise.all([fetchNetwork(), fetchStations()]);
  stations = list;
  const rows: [string, string][] = [
    ["Stations", `${net.stations_active} active / ${net.stations}`],
    ["Rated power", formatPower(net.rated_power_w)],
  ];
  for (const c of net.credits) {
    rows.push([`Credits outstanding (${c.symbol})`, formatUnits(BigInt(c.outstanding), c.decimals)]);
    rows.push([`Owed to payees (${c.symbol})`, formatUnits(BigInt(c.owed), c.decimals)]);
  }
  if (net.sessions_settled !== undefined && net.energy_settled_wh !== undefined) {
    rows.push(["Sessions settled", String(net.sessions_settled)]);
    rows.push(["Energy settled", energyKwh(net.energy_settled_wh)]);
  }
  rows.push(["Block", String(net.block)]);
  figures($("figures"), rows);
  renderStations();
}

async function refreshBalances(): Promise<void> {
  if (!wallet || !config) return;
  const credit = mainCredit();
  const b = await readBalances(wallet, config.contracts.EnergyCredits, credit);
  figures($("balances"), [
    [`${credit.symbol} in wallet`, formatUnits(b.stablecoin, credit.decimals)],
    [`Credits (${credit.symbol})`, formatUnits(b.credits, credit.decimals)],
  ]);
}

async function onConnect(via: EIP1193Provider | undefined = window.ethereum): Promise<void> {
  if (!config) return;
  provider = via;
  showError(null);
  const button = $<HTMLButtonElement>("connect");
  button.disabled = true;
  try {
    wallet = await connectWallet(config.chain_id, via);
    $("account").textContent = `Connected: ${wallet.account}`;
    button.textContent = shortAddress(wallet.account);
    $("buy").hidden = false;
    $("faucet").hidden = !testToken();
    showCharge(page);
    await Promise.all([refreshBalances(), refreshSessions(), showSettings(page), showOperator(page), showDao(page)]);
  } catch (err) {
    showError(err);
    $("switch-chain").hidden = !(err instanceof WrongChainError);
    button.disabled = false;
  }
}

async function refreshSessions(): Promise<void> {
  if (!wallet || !config) return;
  await renderSessions(wallet.account, config, stations, (s) => void onVerify(page, s));
}

const page: Page = {
  wallet: () => wallet,
  config: () => config,
  stations: () => stations,
  credit: mainCredit,
  status: setStatus,
  error: showError,
  refresh: async () => {
    await Promise.all([refreshBalances(), loadNetwork(), refreshSessions(), showSettings(page)]);
  },
};

function testToken(): Address | undefined {
  const token = mainCredit().token.toLowerCase();
  return config?.test_tokens?.find((t) => t.toLowerCase() === token);
}

async function onFaucet(): Promise<void> {
  const token = testToken();
  if (!wallet || !token) return;
  showError(null);
  try {
    setStatus("Minting test USDC: confirm in your wallet…");
    const hash = await mintTestTokens(wallet, token, 100n * 10n ** BigInt(mainCredit().decimals));
    await refreshBalances();
    setStatus(`Test USDC minted in ${hash}.`);
  } catch (err) {
    setStatus("");
    showError(err);
  }
}

async function onSwitchChain(): Promise<void> {
  if (!config) return;
  showError(null);
  try {
    await switchChain(config.chain_id, provider);
    $("switch-chain").hidden = true;
    await onConnect(provider);
  } catch (err) {
    showError(err);
  }
}

async function onBuy(event: Event): Promise<void> {
  event.preventDefault();
  if (!wallet || !config) return;
  showError(null);
  const button = $<HTMLButtonElement>("buy-button");
  button.disabled = true;
  try {
    const credit = mainCredit();
    const amount = parseAmount($<HTMLInputElement>("buy-amount").value, credit.decimals);
    const hash = await buyCredits(wallet, config.contracts.EnergyCredits, credit, amount, (step, tx) => {
      const what = step === "permit" ? "Allowing the ledger to take the stablecoin (a signature, no transaction)"
        : step === "approving" ? "Approving the stablecoin" : step === "buying" ? "Buying credits" : "Credits bought";
      setStatus(tx ? `${what}: ${tx}` : `${what}: confirm in your wallet…`);
    });
    await Promise.all([refreshBalances(), loadNetwork()]);
    setStatus(`Credits bought in ${hash}.`);
  } catch (err) {
    setStatus("");
    showError(err);
  } finally {
    button.disabled = false;
  }
}

async function start(): Promise<void> {
  try {
    config = await fetchConfig();
    $("network-name").textContent = `${config.network} · chain ${config.chain_id}`;
    offerWalletConnect(config, onConnect, showError);
    await loadNetwork();
    document.body.dataset.ready = "1";
    followAvailability((a) => {
      live = a;
      renderStations();
    });
    // Leaflet in a chunk of its own, loaded once the list is on the page and the browser idles
    await new Promise((idle) => requestIdleCallback(idle, { timeout: 1000 }));
    const { StationMap } = await import("./map");
    stationMap = new StationMap($("map"), config.tiles);
    renderStations();
    stationMap.outline();
    document.body.dataset.map = "1";
    showDao(page).catch(showError);
    void showEpochs(mainCredit());
  } catch (err) {
    showError(err);
  }
}

$("connect").addEventListener("click", () => void onConnect());
$("switch-chain").addEventListener("click", () => void onSwitchChain());
$("buy").addEventListener("submit", (e) => void onBuy(e));
$("faucet").addEventListener("click", () => void onFaucet());
$("charge").addEventListener("submit", (e) => void onCharge(page, e));
$("filter").addEventListener("input", renderStations);
wireSettings(page);
wireOperator(page);
wireDao(page);
void start();
