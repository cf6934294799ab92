// WalletConnect v2 without the provider itself (that is the lazy chunk, walletconnect.ts): what
// the session asks the wallet for, the provider made to answer like an injected wallet, and the
// pairing URI as QR modules. Pure, so the unit tests need no relay.
import type { EIP1193Provider } from "viem";

/** What `wattnet app --walletconnect-project-id` publishes in /api/config. */
export interface WalletConnectConfig {
  project_id: string;
  relay_url: string | null; // null: WalletConnect's public relay
  rpc_url: string; // the browser reads the chain here during a session; the wallet only signs
}

/** The wallet signs these; everything else (reads, simulations, receipts) goes to `rpc_url`. */
export const WALLET_METHODS = ["eth_sendTransaction", "personal_sign", "eth_signTypedData_v4", "wallet_switchEthereumChain"];

export function wcNamespaces(chainId: number, rpcUrl: string) {
  return {
    eip155: {
      chains: [`eip155:${chainId}`],
      methods: WALLET_METHODS,
      events: ["chainChanged", "accountsChanged"],
      rpcMap: { [String(chainId)]: rpcUrl },
    },
  };
}

/** WalletConnect's "user rejected" (5000) as EIP-1193's 4001, so a refusal in the wallet
 * reads as one from an injected wallet; other errors unchanged. */
export function asUserRejection(err: unknown): unknown {
  const e = err as { code?: unknown; message?: unknown } | null;
  if (e?.code !== 5000) return err;
  return Object.assign(new Error(String(e.message ?? "User rejected.")), { code: 4001 });
}

/** The session's provider answers eth_chainId with a number; viem and wallet.ts expect the hex
 * an injected wallet gives. Refusals read as 4001. Everything else passes through. */
export function asEip1193(provider: { request(args: { method: string; params?: unknown }): Promise<unknown> }): EIP1193Provider {
  const request = async (args: { method: string; params?: unknown }) => {
    let out: unknown;
    try {
      out = await provider.request(args);
    } catch (err) {
      throw asUserRejection(err);
    }
    return args.method === "eth_chainId" && typeof out === "number" ? `0x${out.toString(16)}` : out;
  };
  return { request, on: () => undefined, removeListener: () => undefined } as unknown as EIP1193Provider;
}

/** One SVG path ("M x y h1 v1 h-1 z" per dark module) for a QR matrix, drawn in a box of
 * size + 2 * quiet modules. */
export function qrPath(modules: readonly (readonly boolean[])[], quiet = 4): string {
  const parts: string[] = [];
  modules.forEach((row, y) => row.forEach((dark, x) => {
    if (dark) parts.push(`M${x + quiet} ${y + quiet}h1v1h-1z`);
  }));
  return parts.join("");
}
