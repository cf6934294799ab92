// Buying credits with a stablecoin and reading a driver's balances. Where the stablecoin takes
// EIP-2612 permits (and names its EIP-712 domain, ERC-5267) the wallet signs a permit and the buy
// is one transaction (buyWithPermit); otherwise approve (when the allowance is short) + buy.
import { parseSignature, type Address, type Hash, type TypedDataDomain } from "viem";
import { energyCreditsAbi, erc20Abi, permitAbi, testTokenAbi, tokenErrorsAbi } from "./abi/contracts";
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

export type Step = "permit" | "approving" | "buying" | "done";

export const PERMIT_TTL_S = 1800n;

export const permitTypes = {
  Permit: [
    { name: "owner", type: "address" },
    { name: "spender", type: "address" },
    { name: "value", type: "uint256" },
    { name: "nonce", type: "uint256" },
    { name: "deadline", type: "uint256" },
  ],
} as const;

/** The stablecoin's EIP-712 domain and the owner's permit nonce; null when it takes no permits
 * (no ERC-5267 `eip712Domain` or no `nonces`: the buy then approves first). */
export async function permitSupport(w: Wallet, token: Address): Promise<{ domain: TypedDataDomain; nonce: bigint } | null> {
  try {
    const [[, name, version, chainId, verifyingContract], nonce] = await Promise.all([
      w.reader.readContract({ address: token, abi: permitAbi, functionName: "eip712Domain" }),
      w.reader.readContract({ address: token, abi: permitAbi, functionName: "nonces", args: [w.account] }),
    ]);
    return { domain: { name, version, chainId, verifyingContract }, nonce };
  } catch {
    return null;
  }
}

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
  const permit = allowance < amount ? await permitSupport(w, credit.token) : null;
  if (permit) {
    onStep("permit");
    const deadline = (await w.reader.getBlock()).timestamp + PERMIT_TTL_S;
    const signature = await w.wallet.signTypedData({
      account: w.account, domain: permit.domain, types: permitTypes, primaryType: "Permit",
      message: { owner: w.account, spender: ledger, value: amount, nonce: permit.nonce, deadline },
    });
    const { r, s, v, yParity } = parseSignature(signature);
    return submitBuy(w, onStep, w.reader.simulateContract({
      account: w.account, address: ledger, abi: ledgerAbi, functionName: "buyWithPermit",
      args: [BigInt(credit.id), amount, w.account, deadline, Number(v ?? BigInt(yParity + 27)), r, s],
    }));
  }
  if (allowance < amount) {
    const { request } = await w.reader.simulateContract({
      account: w.account, address: credit.token, abi: erc20Abi, functionName: "approve", args: [ledger, amount],
    });
    onStep("approving");
    const hash = await w.wallet.writeContract({ ...request, chain });
    onStep("approving", hash);
    await waitOk(w, hash, "approve");
  }
  return submitBuy(w, onStep, w.reader.simulateContract({
    account: w.account, address: ledger, abi: ledgerAbi, functionName: "buy", args: [BigInt(credit.id), amount, w.account],
  }));
}

/** Send a simulated buy (a revert was already reported, decoded) and wait for it. */
async function submitBuy(
  w: Wallet, onStep: (step: Step, tx?: Hash) => void, simulated: Promise<{ request: Parameters<Wallet["wallet"]["writeContract"]>[0] }>,
): Promise<Hash> {
  const { request } = await simulated;
  onStep("buying");
  const hash = await w.wallet.writeContract({ ...request, chain: null });
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
