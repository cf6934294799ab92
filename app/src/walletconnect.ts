// WalletConnect v2 as an EIP-1193 provider (@walletconnect/universal-provider, no modal): loaded
// only when the person picks "WalletConnect" (a dynamic import, its own chunk), so the page
// load of everyone else does not grow.
import UniversalProvider from "@walletconnect/universal-provider";
import { encode } from "uqr";
import type { EIP1193Provider } from "viem";
import { WalletError } from "./wallet";
import { asEip1193, asUserRejection, qrPath, wcNamespaces, type WalletConnectConfig } from "./wcconfig";

const RELAY_WAIT_MS = 15_000;
let shared: Promise<InstanceType<typeof UniversalProvider>> | null = null;

function init(cfg: WalletConnectConfig): Promise<InstanceType<typeof UniversalProvider>> {
  shared ??= withTimeout(UniversalProvider.init({
    projectId: cfg.project_id,
    ...(cfg.relay_url ? { relayUrl: cfg.relay_url } : {}),
    telemetryEnabled: false,
    logger: "error",
    metadata: { name: "WattNet", description: "EV charging credits, stations and the DAO", url: location.origin, icons: [] },
  }), RELAY_WAIT_MS, unreachable(cfg));
  shared.catch(() => { shared = null; }); // the next click tries again
  return shared;
}

function unreachable(cfg: WalletConnectConfig): string {
  return `Could not reach the WalletConnect relay (${cfg.relay_url ?? "WalletConnect's public relay"}): check your connection, or use a browser wallet.`;
}

function withTimeout<T>(work: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new WalletError(message)), ms); });
  return Promise.race([work, late]).finally(() => clearTimeout(timer));
}

/** A provider on an approved session: the one restored from this browser's storage, or a new
 * one once the wallet approves the pairing URI handed to `showUri`. */
export async function walletConnectProvider(cfg: WalletConnectConfig, chainId: number, showUri: (uri: string) => void): Promise<EIP1193Provider> {
  const provider = await init(cfg);
  const approved = provider.session?.namespaces.eip155?.chains?.includes(`eip155:${chainId}`);
  if (!approved) {
    // the relay must take the proposal within RELAY_WAIT_MS (the URI is shown once it has);
    // then the person has as long as the proposal lives to approve it in the wallet
    let shown = () => {};
    const uriShown = new Promise<void>((resolve) => { shown = resolve; });
    const onUri = (uri: string) => { shown(); showUri(uri); };
    provider.on("display_uri", onUri);
    const session = provider.connect({ optionalNamespaces: wcNamespaces(chainId, cfg.rpc_url) });
    session.catch(() => undefined); // abandoned after a timeout: its failure is not news
    try {
      await withTimeout(Promise.race([uriShown, session]), RELAY_WAIT_MS, unreachable(cfg));
      await session;
    } catch (err) {
      throw asUserRejection(err);
    } finally {
      provider.removeListener("display_uri", onUri);
    }
  }
  provider.setDefaultChain(`eip155:${chainId}`, cfg.rpc_url);
  return asEip1193(provider);
}

/** The pairing URI as an SVG path and its view box side (modules). */
export function qrCode(uri: string): { path: string; side: number } {
  const qr = encode(uri, { ecc: "M", border: 0 });
  return { path: qrPath(qr.data), side: qr.size + 8 };
}
