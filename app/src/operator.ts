// A station operator's side, on chain: the WATT stake (active, unbonding and its clock), the
// stations the wallet operates with their tariff and the spacing rule (tariffCooldown), what the
// ledger owes the wallet per credit (pull payment), and WATT rewards per station for the last
// closed epoch (held in escrow for the challenge window). Every change is simulated first, so a
// refusal shows decoded before the wallet is asked to sign.
import type { Address, Hash, Hex } from "viem";
import { energyCreditsAbi, erc20Abi, operatorStakingAbi, rewardsEngineAbi, stationRegistryAbi } from "./abi/contracts";
import type { AppConfig, Credit, Station } from "./api";
import { send } from "./charge";
import { duration, utc } from "./format";
import type { Wallet } from "./wallet";

export interface StakeView {
  active: bigint;
  unbonding: bigint;
  unbondingEndsAt: bigint;
  bondedStations: number;
  bondedKw: number;
  unbondingDelay: bigint;
  watt: bigint; // in the wallet
}

export interface StationView {
  station: Station;
  tariffChangedAt: bigint; // of the first credit
  rewards: bigint; // WATT for `epoch`, 0 once claimed or forfeited
}

export interface OperatorView {
  stake: StakeView;
  owed: bigint[]; // per credit of the config, in its units
  stations: StationView[];
  cooldown: bigint; // seconds between two tariff changes of a station
  epoch: bigint | null; // the last closed epoch (null: none yet)
  claimableAt: bigint; // when its rewards leave escrow
  now: bigint;
}

const need = (config: AppConfig, name: string): Address => {
  const a = config.contracts[name];
  if (!a) throw new Error(`This network's app config names no ${name}.`);
  return a;
};

export async function readOperator(w: Wallet, config: AppConfig, stations: Station[]): Promise<OperatorView> {
  const staking = { address: need(config, "OperatorStaking"), abi: operatorStakingAbi } as const;
  const registry = { address: need(config, "StationRegistry"), abi: stationRegistryAbi } as const;
  const rewards = { address: need(config, "RewardsEngine"), abi: rewardsEngineAbi } as const;
  const mine = stations.filter((s) => s.operator.toLowerCase() === w.account.toLowerCase());
  const firstCredit = BigInt(config.credits[0]?.id ?? 1);
  const r = w.reader;
  const [info, delay, watt, cooldown, current, block, owed] = await Promise.all([
    r.readContract({ ...staking, functionName: "stakeOf", args: [w.account] }),
    r.readContract({ ...staking, functionName: "unbondingDelay" }),
    r.readContract({ address: need(config, "WattToken"), abi: erc20Abi, functionName: "balanceOf", args: [w.account] }),
    r.readContract({ ...registry, functionName: "tariffCooldown" }),
    r.readContract({ ...rewards, functionName: "currentEpoch" }),
    r.getBlock(),
    Promise.all(config.credits.map((c) => r.readContract({
      address: need(config, "EnergyCredits"), abi: energyCreditsAbi, functionName: "owed", args: [w.account, BigInt(c.id)] }))),
  ]);
  const epoch = current > 0n ? current - 1n : null;
  const claimableAt = await r.readContract({ ...rewards, functionName: "claimableAt", args: [epoch ?? 0n] });
  const views = await Promise.all(mine.map(async (station): Promise<StationView> => {
    const [tariff, reward] = await Promise.all([
      r.readContract({ ...registry, functionName: "tariffOf", args: [station.id, firstCredit] }),
      epoch === null ? 0n : r.readContract({ ...rewards, functionName: "claimable", args: [station.id, epoch] }),
    ]);
    return { station, tariffChangedAt: BigInt(tariff.changedAt), rewards: reward };
  }));
  return {
    stake: { ...info, unbondingEndsAt: BigInt(info.unbondingEndsAt), bondedStations: Number(info.bondedStations),
      bondedKw: Number(info.bondedKw), unbondingDelay: delay, watt },
    owed, stations: views, cooldown, epoch, claimableAt, now: block.timestamp,
  };
}

/** The unbonding clock in plain words at chain time `now`. */
export function unbondingText(s: StakeView, now: bigint, watt: (v: bigint) => string): string {
  const delay = `Unbonding takes ${duration(s.unbondingDelay)}`;
  if (s.unbonding === 0n) return `${delay}; nothing is unbonding.`;
  if (s.unbondingEndsAt > now) {
    return `${watt(s.unbonding)} unbonding: withdrawable from ${utc(s.unbondingEndsAt)} (in ${duration(s.unbondingEndsAt - now)}); a new request restarts the clock.`;
  }
  return `${watt(s.unbonding)} unbonded: ready to withdraw.`;
}

/** The tariff spacing rule, and when this station may change its tariff next. */
export function tariffRuleText(changedAt: bigint, cooldown: bigint, now: bigint): string {
  const rule = `A station's tariff may change once every ${duration(cooldown)} (the longest session plus the longest settlement delay, so every session is priced at the tariff it started under or the one before).`;
  const next = changedAt + cooldown;
  return next > now ? `${rule} Last changed ${utc(changedAt)}: next change from ${utc(next)}.` : `${rule} It may change now.`;
}

/** The last closed epoch's rewards and their escrow (the challenge window) at chain time `now`. */
export function escrowText(v: OperatorView, watt: (x: bigint) => string): string {
  if (v.epoch === null) return "No epoch has closed yet: rewards are counted per weekly epoch.";
  const total = v.stations.reduce((a, s) => a + s.rewards, 0n);
  const where = v.claimableAt > v.now
    ? `in escrow until ${utc(v.claimableAt)} (the challenge window: a fraud proof until then forfeits them)`
    : "out of escrow: claimable";
  return `Epoch ${v.epoch}: ${watt(total)} for your stations, ${where}.`;
}

export type OperatorChange =
  | { kind: "stake" | "unbond"; amount: bigint }
  | { kind: "withdrawStake" }
  | { kind: "payout"; credit: Credit }
  | { kind: "claim"; epoch: bigint; stations: Hex[] }
  | { kind: "tariff"; station: Hex; credit: Credit; price: bigint };

/** Simulate then send one change (staking approves the WATT first when the allowance is short). */
export async function applyOperatorChange(w: Wallet, config: AppConfig, c: OperatorChange, onStep: (what: string) => void): Promise<Hash> {
  const account = w.account;
  const staking = { account, address: need(config, "OperatorStaking"), abi: operatorStakingAbi } as const;
  const r = w.reader;
  if (c.kind === "stake") {
    const watt = need(config, "WattToken");
    const allowance = await r.readContract({ address: watt, abi: erc20Abi, functionName: "allowance", args: [account, staking.address] });
    if (allowance < c.amount) {
      onStep("Approving the WATT");
      const { request } = await r.simulateContract({ account, address: watt, abi: erc20Abi, functionName: "approve", args: [staking.address, c.amount] });
      await send(w, request);
    }
    onStep("Staking");
  }
  const { request } = await (() => {
    switch (c.kind) {
      case "stake": return r.simulateContract({ ...staking, functionName: "stake", args: [c.amount] });
      case "unbond": return r.simulateContract({ ...staking, functionName: "requestUnbond", args: [c.amount] });
      case "withdrawStake": return r.simulateContract({ ...staking, functionName: "withdraw" });
      case "payout": return r.simulateContract({ account, address: need(config, "EnergyCredits"), abi: energyCreditsAbi,
        functionName: "withdrawPayout", args: [BigInt(c.credit.id), account] });
      case "claim": return r.simulateContract({ account, address: need(config, "RewardsEngine"), abi: rewardsEngineAbi,
        functionName: "claim", args: [[c.epoch], c.stations] });
      case "tariff": return r.simulateContract({ account, address: need(config, "StationRegistry"), abi: stationRegistryAbi,
        functionName: "setTariff", args: [c.station, BigInt(c.credit.id), c.price] });
    }
  })();
  return send(w, request);
}
