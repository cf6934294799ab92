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

export function wrongChainMessage(walletChain: number, networkChain: number): string {
  return `Your wallet is on chain ${walletChain}; this WattNet network is chain ${networkChain}. Switch networks in your wallet.`;
}

export async function connectWallet(expectedChainId: number, provider = window.ethereum): Promise<Wallet> {
  if (!provider) throw new WalletError("No wallet found: install or unlock an EIP-1193 wallet (MetaMask, Rabby, ...).");
  const transport = custom(provider);
  const wallet = createWalletClient({ transport });
  const [account] = await wallet.requestAddresses();
  if (!account) throw new WalletError("The wallet shared no account.");
  const chainId = await wallet.getChainId();
  if (chainId !== expectedChainId) throw new WalletError(wrongChainMessage(chainId, expectedChainId));
  const reader = createPublicClient({ transport });
  return { account, chainId, wallet, reader };
}
