// An injected EIP-1193 wallet (MetaMask, Rabby, ...): connect, check the chain. Nothing here
// holds a key; every write is signed in the wallet.
import { createPublicClient, createWalletClient, custom, type Address, type EIP1193Provider } from "viem";

declare global {
  interface Window {
    ethereum?: EIP1193Provider;
  }
}

export interface Wallet {
  account: Address;
  chainId: number;
  wallet: ReturnType<typeof createWalletClient>;
  reader: ReturnType<typeof createPublicClient>;
}

export class WalletError extends Error {}

/** The wallet is on another chain than the network's; `switchChain` may fix it. */
export class WrongChainError extends WalletError {
  constructor(readonly walletChain: number, readonly networkChain: number) {
    super(wrongChainMessage(walletChain, networkChain));
  }
}

export function wrongChainMessage(walletChain: number, networkChain: number): string {
  return `Your wallet is on chain ${walletChain}; this WattNet network is chain ${networkChain}. Switch networks in your wallet.`;
}

/** Ask the wallet to move to `chainId` (EIP-3326). A wallet that does not know the chain
 * answers 4902: the person adds it first (its RPC URL is theirs to choose). */
export async function switchChain(chainId: number, provider = window.ethereum): Promise<void> {
  if (!provider) throw new WalletError("No wallet found.");
  try {
    await provider.request({ method: "wallet_switchEthereumChain", params: [{ chainId: `0x${chainId.toString(16)}` }] });
  } catch (err) {
    if ((err as { code?: unknown }).code === 4902) {
      throw new WalletError(`Your wallet does not know chain ${chainId}: add this network to it (its RPC URL and chain id ${chainId}), then connect again.`);
    }
    throw err;
  }
}

export async function connectWallet(expectedChainId: number, provider = window.ethereum): Promise<Wallet> {
  if (!provider) throw new WalletError("No wallet found: install or unlock an EIP-1193 wallet (MetaMask, Rabby, ...).");
  const transport = custom(provider);
  const wallet = createWalletClient({ transport });
  const [account] = await wallet.requestAddresses();
  if (!account) throw new WalletError("The wallet shared no account.");
  const chainId = await wallet.getChainId();
  if (chainId !== expectedChainId) throw new WrongChainError(chainId, expectedChainId);
  const reader = createPublicClient({ transport });
  return { account, chainId, wallet, reader };
}
