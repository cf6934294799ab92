// WalletConnect v2 as an EIP-1193 provider (@walletconnect/universal-provider, no modal): loaded
// only when the person picks "WalletConnect" (a dynamic import, its own chunk), so the page
// load of everyone else does not grow.
import UniversalProvider from "@walletconnect/universal-provider";
import { encode } from "uqr";
import type { EIP1193Provider } from "viem";
import { asEip1193, qrPath, wcNamespaces, type WalletConnectConfig } from "./wcconfig";

let shared: Promise<InstanceType<typeof UniversalProvider>> | null = null;

function init(cfg: WalletConnectConfig): Promise<InstanceType<typeof UniversalProvider>> {
  shared ??= UniversalProvider.init({
    projectId: cfg.project_id,
    ...(cfg.relay_url ? { relayUrl: cfg.relay_url } : {}),
    telemetryEnabled: false,
    logger: "error",
    metadata: { name: "WattNet", description: "EV charging credits, stations and the DAO", url: location.origin, icons: [] },
  });
  return shared;
}

/** A provider on an approved session: the one restored from this browser's storage, or a new
 * one once the wallet approves the pairing URI handed to `showUri`. */
export async function walletConnectProvider(cfg: WalletConnectConfig, chainId: number, showUri: (uri: string) => void): Promise<EIP1193Provider> {
  const provider = await init(cfg);
  const approved = provider.session?.namespaces.eip155?.chains?.includes(`eip155:${chainId}`);
  if (!approved) {
    provider.on("display_uri", showUri);
    try {
      await provider.connect({ optionalNamespaces: wcNamespaces(chainId, cfg.rpc_url) });
    } finally {
      provider.removeListener("display_uri", showUri);
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
