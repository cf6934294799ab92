// "WalletConnect" beside the injected wallet, only when the server names a project id
// (/api/config `walletconnect`). The provider and the QR encoder load on the first click.
import type { EIP1193Provider } from "viem";
import type { AppConfig } from "./api";

const $ = <T extends HTMLElement>(id: string) => document.getElementById(id) as T;
const SVG = "http://www.w3.org/2000/svg";

function showPairing(uri: string, qr: { path: string; side: number }): void {
  const svg = $("wc-qr") as unknown as SVGSVGElement;
  svg.setAttribute("viewBox", `0 0 ${qr.side} ${qr.side}`);
  const back = document.createElementNS(SVG, "rect");
  back.setAttribute("width", String(qr.side));
  back.setAttribute("height", String(qr.side));
  back.setAttribute("fill", "#fff");
  const modules = document.createElementNS(SVG, "path");
  modules.setAttribute("d", qr.path);
  modules.setAttribute("fill", "#000");
  svg.replaceChildren(back, modules);
  $<HTMLInputElement>("wc-uri").value = uri;
  $("wc-copied").textContent = "";
  $("wc-pairing").hidden = false;
}

async function copyUri(): Promise<void> {
  const input = $<HTMLInputElement>("wc-uri");
  try {
    await navigator.clipboard.writeText(input.value);
    $("wc-copied").textContent = "Link copied: paste it into your wallet.";
  } catch {
    input.select();
    $("wc-copied").textContent = "Copying was refused: the link is selected, copy it yourself.";
  }
}

/** Shows the WalletConnect button when configured; `connect` takes over once a session is approved. */
export function offerWalletConnect(config: AppConfig, connect: (provider: EIP1193Provider) => Promise<void>, error: (err: unknown) => void): void {
  const wc = config.walletconnect;
  if (!wc) return;
  const button = $<HTMLButtonElement>("connect-wc");
  button.hidden = false;
  $("wc-copy").addEventListener("click", () => void copyUri());
  button.addEventListener("click", async () => {
    error(null);
    button.disabled = true;
    try {
      const { walletConnectProvider, qrCode } = await import("./walletconnect");
      const provider = await walletConnectProvider(wc, config.chain_id, (uri) => showPairing(uri, qrCode(uri)));
      $("wc-pairing").hidden = true;
      button.hidden = true;
      await connect(provider);
    } catch (err) {
      error(err);
    } finally {
      button.disabled = false;
    }
  });
}
