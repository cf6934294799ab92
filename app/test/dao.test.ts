import { describe, expect, it } from "vitest";
import { actionsFor, timelineText, votesText, type Proposal } from "../src/dao";

const JAN1 = 1_798_761_600; // 2027-01-01 00:00 UTC
const p: Proposal = {
  id: "1", short_id: "0000abcd", proposer: "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65", description: "d", state: "Active",
  vote_start: JAN1, vote_end: JAN1 + 300, eta: 0, votes: { for: "5", against: "9", abstain: "3" }, quorum: "8",
  calls: [], targets: [], values: [], calldatas: [],
};

describe("dao", () => {
  it("offers what the governor allows: vote while active, queue once passed, execute once the timelock delay ran", () => {
    expect(actionsFor(p, JAN1)).toEqual(["vote"]);
    expect(actionsFor({ ...p, state: "Pending" }, JAN1)).toEqual([]);
    expect(actionsFor({ ...p, state: "Succeeded" }, JAN1)).toEqual(["queue"]);
    expect(actionsFor({ ...p, state: "Queued", eta: JAN1 + 120 }, JAN1 + 119)).toEqual([]);
    expect(actionsFor({ ...p, state: "Queued", eta: JAN1 + 120 }, JAN1 + 120)).toEqual(["execute"]);
    expect(actionsFor({ ...p, state: "Executed" }, JAN1)).toEqual([]);
  });
  it("words the timeline", () => {
    expect(timelineText({ ...p, state: "Pending" }, JAN1)).toBe("Voting from 2027-01-01 00:00 UTC to 2027-01-01 00:05 UTC.");
    expect(timelineText(p, JAN1)).toBe("Voting until 2027-01-01 00:05 UTC.");
    expect(timelineText({ ...p, state: "Queued", eta: JAN1 + 600 }, JAN1)).toBe("Queued: executable from 2027-01-01 00:10 UTC (the timelock delay).");
    expect(timelineText({ ...p, state: "Defeated" }, JAN1)).toBe("Voting ended 2027-01-01 00:05 UTC.");
  });
  it("counts for and abstain towards the quorum, not against", () => {
    expect(votesText(p, String)).toBe("For 5 · against 9 · abstain 3; quorum 8 (reached)");
    expect(votesText({ ...p, votes: { for: "4", against: "100", abstain: "3" } }, String)).toMatch(/\(not reached\)$/);
  });
});
