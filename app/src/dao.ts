// The DAO: governed parameters and proposals from the read API (src/wattnet/api/governance.py),
// the member's WATT, votes and delegate from the chain; delegate, vote, queue and execute, each
// simulated first so a refusal shows decoded before the wallet is asked to sign.
import { keccak256, toHex, type Address, type Hash, type Hex } from "viem";
import { governorAbi, wattTokenAbi } from "./abi/contracts";
import { getJson, postJson, type AppConfig } from "./api";
import { confirmed, send } from "./charge";
import { utc } from "./format";
import type { Wallet } from "./wallet";

export interface GovParam { key: string; contract: string; setter: string; value: string; unit: string; bounds: string; note: string }

export interface Proposal {
  id: string; // decimal: proposal ids are 256-bit hashes
  short_id: string;
  proposer: Address;
  description: string;
  state: string; // Pending, Active, Canceled, Defeated, Succeeded, Queued, Expired, Executed
  vote_start: number;
  vote_end: number;
  eta: number;
  votes: { for: string; against: string; abstain: string };
  quorum: string;
  calls: string[];
  targets: Address[];
  values: string[];
  calldatas: Hex[];
}

export interface Governance { governor: Address; clock: number; voting_delay: number; voting_period: number; proposal_threshold: string; proposals: Proposal[] }

export const fetchParameters = () => getJson<GovParam[]>("api/governance/parameters");
export const fetchProposals = () => getJson<Governance>("api/governance/proposals");

/** The governor's propose arguments for one parameter change, built by the server from the
 * governance table (the value checked against its bounds there), and the calls in words. */
export interface ProposalCalls { targets: Address[]; values: string[]; calldatas: Hex[]; calls: string[]; description: string }

export const buildProposal = (key: string, value: string, description: string) =>
  postJson<ProposalCalls>("api/governance/propose", { key, value, description });

export interface Member { balance: bigint; votes: bigint; delegate: Address }

export async function readMember(w: Wallet, config: AppConfig): Promise<Member> {
  const token = { address: config.contracts.WattToken!, abi: wattTokenAbi } as const;
  const [balance, votes, delegate] = await Promise.all([
    w.reader.readContract({ ...token, functionName: "balanceOf", args: [w.account] }),
    w.reader.readContract({ ...token, functionName: "getVotes", args: [w.account] }),
    w.reader.readContract({ ...token, functionName: "delegates", args: [w.account] }),
  ]);
  return { balance, votes, delegate };
}

export type Action = "vote" | "queue" | "execute";

/** What may be done with a proposal at chain time `now`. */
export function actionsFor(p: Proposal, now: number): Action[] {
  if (p.state === "Active") return ["vote"];
  if (p.state === "Succeeded") return ["queue"];
  if (p.state === "Queued" && now >= p.eta) return ["execute"];
  return [];
}

/** The proposal's timeline in plain words at chain time `now`. */
export function timelineText(p: Proposal, now: number): string {
  const at = (t: number) => utc(BigInt(t));
  if (p.state === "Pending") return `Voting from ${at(p.vote_start)} to ${at(p.vote_end)}.`;
  if (p.state === "Active") return `Voting until ${at(p.vote_end)}.`;
  if (p.state === "Queued") return now >= p.eta ? `Queued: executable now (since ${at(p.eta)}).` : `Queued: executable from ${at(p.eta)} (the timelock delay).`;
  if (p.state === "Succeeded") return `Passed (voting ended ${at(p.vote_end)}): queue it in the timelock.`;
  return `Voting ended ${at(p.vote_end)}.`;
}

/** Votes and quorum (for and abstain count towards it). */
export function votesText(p: Proposal, fmt: (v: bigint) => string): string {
  const counted = BigInt(p.votes.for) + BigInt(p.votes.abstain);
  const reached = counted >= BigInt(p.quorum) ? "reached" : "not reached";
  return `For ${fmt(BigInt(p.votes.for))} · against ${fmt(BigInt(p.votes.against))} · abstain ${fmt(BigInt(p.votes.abstain))}; quorum ${fmt(BigInt(p.quorum))} (${reached})`;
}

export const SUPPORT = { against: 0, for: 1, abstain: 2 } as const;

export type DaoChange =
  | { kind: "delegate"; to: Address }
  | { kind: "vote"; proposal: Proposal; support: number }
  | { kind: "queue" | "execute"; proposal: Proposal }
  | { kind: "propose"; calls: ProposalCalls };

export async function applyDaoChange(w: Wallet, config: AppConfig, c: DaoChange): Promise<Hash> {
  const account = w.account;
  if (c.kind === "delegate") {
    const { request } = await w.reader.simulateContract({ account, address: config.contracts.WattToken!, abi: wattTokenAbi, functionName: "delegate", args: [c.to] });
    return send(w, request);
  }
  const gov = { account, address: config.contracts.WattGovernor!, abi: governorAbi } as const;
  if (c.kind === "propose") {
    const p = c.calls;
    const { request } = await w.reader.simulateContract({ ...gov, functionName: "propose", args: [p.targets, p.values.map(BigInt), p.calldatas, p.description] });
    return send(w, request);
  }
  const p = c.proposal;
  const call = [p.targets, p.values.map(BigInt), p.calldatas, keccak256(toHex(p.description))] as const;
  if (c.kind === "vote") {
    const { request } = await w.reader.simulateContract({ ...gov, functionName: "castVote", args: [BigInt(p.id), c.support] });
    return send(w, request);
  }
  if (c.kind === "queue") {
    const { request } = await w.reader.simulateContract({ ...gov, functionName: "queue", args: call });
    return send(w, request);
  }
  const { request } = await w.reader.simulateContract({ ...gov, functionName: "execute", args: call });
  return confirmed(w, await w.wallet.writeContract({ ...request, chain: null })); // payable: typed apart
}
