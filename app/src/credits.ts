// Buying credits with a stablecoin (approve + buy) and reading a driver's balances.
import type { Address, Hash } from "viem";
import { energyCreditsAbi, erc20Abi, testTokenAbi, tokenErrorsAbi } from "./abi/contracts";
import type { Credit } from "./api";
import type { Wallet } from "./wallet";

// The ledger's ABI plus the stablecoin errors a buy can bubble up, so both decode by name.
const ledgerAbi = [...energyCreditsAbi, ...tokenErrorsAbi] as const;

export interface Balances {
  stablecoin: bigint;
  credits: bigint;
  allowance: bigint;
}

export async function readBalances(w: Wallet, ledger: Address, credit: Credit): Promise<Balances> {
  const [stablecoin, credits, allowance] = await Promise.all([
    w.reader.readContract({ address: credit.token, abi: erc20Abi, functionName: "balanceOf", args: [w.account] }),
    w.reader.readContract({ address: ledger, abi: energyCreditsAbi, functionName: "balanceOf", args: [w.account, BigInt(credit.id)] }),
    w.reader.readContract({ address: credit.token, abi: erc20Abi, functionName: "allowance", args: [w.account, ledger] }),
  ]);
  return { stablecoin, credits, allowance };
}

export type Step = "approving" | "buying" | "done";

/** Approve the ledger (when the allowance is short) then buy; each step simulated first so a
 * revert is reported, decoded, before the wallet is asked to sign. */
export async function buyCredits(
  w: Wallet,
  ledger: Address,
  credit: Credit,
  amount: bigint,
  onStep: (step: Step, tx?: Hash) => void,
): Promise<Hash> {
  const chain = null;
  const { allowance } = await readBalances(w, ledger, credit);
  if (allowance < amount) {
    const { request } = await w.reader.simulateContract({
      account: w.account, address: credit.token, abi: erc20Abi, functionName: "approve", args: [ledger, amount],
    });
    onStep("approving");
    const hash = await w.wallet.writeContract({ ...request, chain });
    onStep("approving", hash);
    await waitOk(w, hash, "approve");
  }
  const { request } = await w.reader.simulateContract({
    account: w.account, address: ledger, abi: ledgerAbi, functionName: "buy", args: [BigInt(credit.id), amount, w.account],
  });
  onStep("buying");
  const hash = await w.wallet.writeContract({ ...request, chain });
  onStep("buying", hash);
  await waitOk(w, hash, "buy");
  onStep("done", hash);
  return hash;
}

async function waitOk(w: Wallet, hash: Hash, what: string): Promise<void> {
  const receipt = await w.reader.waitForTransactionReceipt({ hash, pollingInterval: 250 });
  if (receipt.status !== "success") throw new Error(`The ${what} transaction ${hash} failed on chain.`);
}

/** Dev and demo networks only: the mock stablecoin's open mint, signed by the wallet. */
export async function mintTestTokens(w: Wallet, token: Address, amount: bigint): Promise<Hash> {
  const { request } = await w.reader.simulateContract({
    account: w.account, address: token, abi: testTokenAbi, functionName: "mint", args: [w.account, amount],
  });
  const hash = await w.wallet.writeContract({ ...request, chain: null });
  await waitOk(w, hash, "mint");
  return hash;
}
