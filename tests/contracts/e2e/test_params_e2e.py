"""`wattnet params` end to end on anvil: the runbook's command sequence (docs/runbooks/
parameter-change.md) changes the parameters on chain through Governor and timelock; the steps
the contracts refuse fail with one clear line and change nothing."""

from __future__ import annotations

import json
import re
import shlex
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from params_stack import REPO, GovStack, change_set, governed_stack, ok, refused, run, travel_to

from wattnet.chain.deploy import geohash_bytes8
from wattnet.chain.deployments import ENV_ROOT, save_deployment
from wattnet.governance.client import ChainView
from wattnet.governance.proposals import find

RUNBOOK = REPO / "docs" / "runbooks" / "parameter-change.md"


@pytest.fixture(scope="module")
def stack(project: Any, accounts: Any, chain: Any,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[GovStack]:
    with governed_stack(project, accounts, chain, tmp_path_factory.mktemp("root")) as s:
        yield s


def runbook_lines() -> list[str]:
    text = RUNBOOK.read_text()
    block = text.split("<!-- runbook:begin -->")[1].split("<!-- runbook:end -->")[0]
    return [ln.strip() for ln in block.splitlines()
            if ln.strip() and not ln.startswith("```")]


def test_runbook__changes_the_parameters_on_chain(stack: GovStack, chain: Any,
                                                  tmp_path: Path) -> None:
    g = stack.gov
    u0 = geohash_bytes8("u0")
    assert g.registry.multiplierOfPrefix(u0) == 12000
    assert g.credits.operatorShareBps() == 8000
    env: dict[str, str] = {}
    variables: dict[str, str] = {}
    outputs: list[str] = []
    for line in runbook_lines():
        if line.startswith("# wait:"):
            pid = int(variables["_FULL_ID"])
            what = line.split(":", 1)[1].strip()
            gov = g.governor
            ts = {"voting delay": int(gov.proposalSnapshot(pid)) + 1,
                  "voting period": int(gov.proposalDeadline(pid)) + 1,
                  "timelock delay": int(gov.proposalEta(pid))}[what]
            travel_to(chain, ts)
            continue
        command = line.split("  #")[0].strip()
        if command.startswith("export "):
            name, value = command[len("export "):].split("=", 1)
            env[name] = value
            continue
        if re.match(r"^[A-Z_]+=", command):
            name, value = command.split("=", 1)
            if name == "PROPOSAL_ID":
                value = re.findall(r"\(short id ([0-9a-f]{8})\)", outputs[-1])[0]
                variables["_FULL_ID"] = re.findall(r"proposal id: (\d+)", outputs[-1])[0]
            variables[name] = value
            continue
        for name, value in variables.items():
            command = command.replace(f"${name}", value)
        argv = shlex.split(command)
        assert argv[:2] == ["wattnet", "params"], line
        if ">" in argv:  # `... > file`: the output goes to the file
            target = tmp_path / argv[-1]
            target.write_text(ok(*argv[1:argv.index(">")], env=env))
            continue
        outputs.append(ok(*argv[1:], env=env))
    assert sum("proposal id:" in o for o in outputs) == 1
    assert "now has 190,000,000 WATT of votes" in outputs[1]  # wattnet params delegate
    diff, after = outputs[2], outputs[-1]  # (the --json diff went to calls.json)
    assert "registry.region_multipliers.u0" in diff and "13000" in diff and "12000" in diff
    assert "operator payback" in diff and "treasury" in diff  # --simulate's outcome table
    assert "Executed" in outputs[-2]
    listed = next(o for o in outputs if "Proposals (oldest first)" in o)
    assert variables["PROPOSAL_ID"] in listed and "Pending" in listed
    exported = json.loads((tmp_path / "calls.json").read_text())
    assert {c["target"] for c in exported["calls"]} == {g.registry.address, g.credits.address}
    assert g.registry.multiplierOfPrefix(u0) == 13000
    assert g.credits.operatorShareBps() == 7800
    assert g.credits.referrerShareBps() == 500  # the combined setter kept the other field
    assert "13000" in after and "12000" not in after


def test_refusals__early_double_and_below_threshold(stack: GovStack, chain: Any, networks: Any,
                                                     tmp_path: Path) -> None:
    g = stack.gov
    env = {"WATTNET_ACCOUNT": "test:1"}
    change = change_set(tmp_path, "raise the station cap", {"rewards.station_epoch_cap_bps": 6000})
    line = refused("params", "propose", change, "--account", "test:7")
    assert "below the proposal threshold of 100,000 WATT" in line
    assert "has 0 WATT of votes" in line
    out = ok("params", "propose", change, env=env)
    pid = int(re.findall(r"proposal id: (\d+)", out)[0])
    assert "already proposal" in refused("params", "propose", change, env=env)
    view = ChainView(networks.provider)
    assert find(view, pid, chunk=2) == find(view, pid)  # searched back in small steps too
    assert "it is Pending (voting starts" in refused("params", "vote", str(pid), "for", env=env)
    travel_to(chain, int(g.governor.proposalSnapshot(pid)) + 1)
    assert "it is Active (voting ends" in refused("params", "queue", str(pid), env=env)
    ok("params", "vote", str(pid), "for", env=env)
    line = refused("params", "vote", str(pid), "against", env=env)
    assert f"{stack.voter.address} has already voted on proposal {pid}" in line
    ok("params", "vote", str(pid), "abstain", "--account", "test:5")
    travel_to(chain, int(g.governor.proposalDeadline(pid)) + 1)
    assert "it is Succeeded (queue it first)" in refused("params", "execute", str(pid), env=env)
    ok("params", "queue", str(pid), env=env)
    line = refused("params", "execute", str(pid), env=env)
    assert f"cannot execute proposal {pid} yet: the timelock delay runs until" in line
    assert g.credits.stationEpochCapBps() == 5000
    status = json.loads(ok("params", "status", str(pid), "--json"))
    assert status["state"] == "Queued"
    assert status["votes"]["for"] == 190_000_000 * 10**18
    assert status["votes"]["abstain"] == 10_000_000 * 10**18
    assert status["calls"] == ["EnergyCredits.setStationEpochCap(6000)"]
    travel_to(chain, int(g.governor.proposalEta(pid)))
    ok("params", "execute", str(pid), env=env)
    assert g.credits.stationEpochCapBps() == 6000


def test_cancel__proposer_while_pending_nobody_once_queued(stack: GovStack, chain: Any,
                                                           tmp_path: Path) -> None:
    """The guardian has no veto (issue 11: a veto could keep its pause in force and its own
    removal off the table): a queued proposal runs."""
    g = stack.gov
    env = {"WATTNET_ACCOUNT": "test:1"}
    first = change_set(tmp_path, "cancel me early", {"staking.unbonding_delay": "3h"})
    pid = int(re.findall(r"proposal id: (\d+)", ok("params", "propose", first, env=env))[0])
    assert "cannot cancel" in refused("params", "cancel", str(pid), "--account", "test:5")
    assert "cancelled by its proposer" in ok("params", "cancel", str(pid), env=env)
    assert g.governor.state(pid) == 2  # Canceled
    second = change_set(tmp_path, "cancel me late", {"staking.unbonding_delay": "4h"})
    pid = int(re.findall(r"proposal id: (\d+)", ok("params", "propose", second, env=env))[0])
    travel_to(chain, int(g.governor.proposalSnapshot(pid)) + 1)
    ok("params", "vote", str(pid), "for", env=env)
    travel_to(chain, int(g.governor.proposalDeadline(pid)) + 1)
    ok("params", "queue", str(pid), env=env)
    assert "cannot cancel" in refused("params", "cancel", str(pid), env=env)  # proposer: too late
    guardian = ("--account", "test:8")
    assert "cannot cancel" in refused("params", "cancel", str(pid), *guardian)
    assert json.loads(ok("params", "status", str(pid), "--json"))["state"] == "Queued"
    travel_to(chain, int(g.governor.proposalEta(pid)))
    ok("params", "execute", str(pid), env=env)
    assert g.staking.unbondingDelay() == 4 * 3600


def test_refusals__no_record_and_wrong_network(stack: GovStack, tmp_path: Path) -> None:
    change = str(REPO / "changes" / "example-raise-rural-multiplier.yaml")
    line = refused("params", "diff", change, env={ENV_ROOT: str(tmp_path)})
    assert "no deployment record at" in line and "deployments/ethereum/local.json" in line
    from dataclasses import replace

    save_deployment(replace(stack.gov.deployment, chain_id=11155111), tmp_path)
    line = refused("params", "status", "1", env={ENV_ROOT: str(tmp_path)})
    assert "wrong network: the ethereum:local deployment is on chain 11155111" in line
    bad = change_set(tmp_path, "too much", {"settlement.operator_share_bps": 12000,
                                             "registry.region_multipliers.u0": 13000})
    res = run("params", "diff", bad)
    assert res.exit_code == 2 and "Traceback" not in res.output
    assert "REJECTED" in res.output  # the table marks the offending row, then one error line
    last = res.output.strip().splitlines()[-1]
    assert last.startswith("error: ")
    assert "settlement.operator_share_bps=12000 is out of range 5000..10000" in last
    assert "operator share" not in refused("params", "propose", bad)  # nothing proposed


def test_schedule_change__refused_after_its_execution_window(stack: GovStack, chain: Any,
                                                              tmp_path: Path) -> None:
    g = stack.gov
    env = {"WATTNET_ACCOUNT": "test:1"}
    change = change_set(tmp_path, "halve growth emission",
                         {"rewards.phases.growth.emission_per_epoch": 750_000})
    diff = ok("params", "diff", change)
    assert "note: emission schedule replaced from epoch" in diff and "execute by" in diff
    pid = int(re.findall(r"proposal id: (\d+)", ok("params", "propose", change, env=env))[0])
    travel_to(chain, int(g.governor.proposalSnapshot(pid)) + 1)
    ok("params", "vote", str(pid), "for", env=env)
    travel_to(chain, int(g.governor.proposalDeadline(pid)) + 1)
    ok("params", "queue", str(pid), env=env)
    # The schedule starts one whole epoch after the earliest execution: three weeks late, its
    # start epoch has begun.
    travel_to(chain, int(g.governor.proposalEta(pid)) + 21 * 86_400)
    line = refused("params", "execute", str(pid), env=env)
    assert "its emission schedule starts at epoch" in line
    assert "propose the schedule change again" in line
    assert g.rewards.emissionOf(104) == 600_000 * 10**18


def test_schedule_change__executes_a_week_after_its_earliest_time(stack: GovStack, chain: Any,
                                                                  tmp_path: Path) -> None:
    """The start epoch leaves one whole epoch of slack, so a late execution still works and
    nothing changes before the start epoch."""
    g = stack.gov
    env = {"WATTNET_ACCOUNT": "test:1"}
    change = change_set(tmp_path, "raise growth emission",
                         {"rewards.phases.growth.emission_per_epoch": 700_000})
    pid = int(re.findall(r"proposal id: (\d+)", ok("params", "propose", change, env=env))[0])
    travel_to(chain, int(g.governor.proposalSnapshot(pid)) + 1)
    ok("params", "vote", str(pid), "for", env=env)
    travel_to(chain, int(g.governor.proposalDeadline(pid)) + 1)
    ok("params", "queue", str(pid), env=env)
    before = [int(g.rewards.emissionOf(e)) for e in range(104)]
    travel_to(chain, int(g.governor.proposalEta(pid)) + 7 * 86_400)
    ok("params", "execute", str(pid), env=env)
    assert g.rewards.emissionOf(104) == 700_000 * 10**18
    assert [int(g.rewards.emissionOf(e)) for e in range(int(g.rewards.currentEpoch()) + 1)] \
        == before[:int(g.rewards.currentEpoch()) + 1]


def test_diff_json__calls_and_safe_batch_a_multisig_can_submit(stack: GovStack, chain: Any,
                                                              tmp_path: Path) -> None:
    """`params diff --json`: every call with its target, hex bytes, value and calldata; the
    Safe batch's one transaction is Governor.propose of exactly those calls, and sending its
    calldata as is creates the proposal `params propose` would (same id); `params list` and
    the short id then find it."""
    from eth_abi.abi import decode
    from eth_utils.crypto import keccak

    g = stack.gov
    change = change_set(tmp_path, "boost u1 and lower the referrer share",
                         {"registry.region_multipliers.u1": 15000,
                          "settlement.referrer_share_bps": 400})
    out = json.loads(ok("params", "diff", change, "--json"))
    calls = out["calls"]
    assert [c["target"] for c in calls] == [g.credits.address, g.registry.address]
    region = calls[1]
    assert region["function"] == "setRegionMultiplier(bytes8,uint32)"
    assert region["args"] == ["0x" + b"u1".ljust(8, b"\0").hex(), "15000"]  # hex, not b'u1..'
    for c in calls:
        assert c["value"] == "0" and c["calldata"].startswith("0x")
        types = c["function"][c["function"].index("(") + 1:-1].split(",")
        assert list(decode(types, bytes.fromhex(c["calldata"][10:]))) \
            != [] and c["calldata"][2:10] == keccak(text=c["function"])[:4].hex()
    batch = out["safe_transaction_builder"]
    assert batch["version"] == "1.0" and batch["chainId"] == str(chain.chain_id)
    assert isinstance(batch["createdAt"], int) and batch["meta"]["name"]
    (tx,) = batch["transactions"]
    assert tx["to"] == g.governor.address and tx["value"] == "0"
    assert tx["data"] == out["propose"]["calldata"]
    targets, values, datas, description = decode(
        ["address[]", "uint256[]", "bytes[]", "string"], bytes.fromhex(tx["data"][10:]))
    assert [t.lower() for t in targets] == [c["target"].lower() for c in calls]
    assert list(values) == [0, 0]
    assert ["0x" + d.hex() for d in datas] == [c["calldata"] for c in calls]
    # the proposer sends the batch's data as is (what the Safe will do)
    voter = stack.voter
    voter.transfer(g.governor.address, 0, data=tx["data"])
    pid = int(g.governor.hashProposal(targets, values, datas, keccak(text=description)))
    assert int(g.governor.proposalSnapshot(pid)) > 0
    listed = json.loads(ok("params", "list", "--json"))
    mine = [r for r in listed if r["id"] == str(pid)]
    assert len(mine) == 1 and mine[0]["state"] == "Pending"
    short = mine[0]["short_id"]
    assert len(short) == 8 and f"{pid:064x}".startswith(short)
    assert "Pending" in ok("params", "status", short)
    line = refused("params", "status", "zzzz")
    assert "is not a proposal id" in line
    other = next(c for c in "0123456789abcdef"
                 if not any(f"{int(r['id']):064x}".startswith(c) for r in listed))
    assert "no proposal with a short id starting" in refused("params", "status", other * 8)


def test_diff_markdown__forum_post_with_bounds_impact_and_calls(stack: GovStack,
                                                                tmp_path: Path) -> None:
    g = stack.gov
    change = change_set(tmp_path, "forum post: trim the referrer share",
                         {"settlement.referrer_share_bps": 300})
    post = ok("params", "diff", change, "--markdown", "--simulate", "--sim-runs", "1",
              "--sim-stations", "200", "--sim-days", "371")
    assert post.startswith("# ") and "forum post: trim the referrer share" in post
    assert "| `settlement.referrer_share_bps` | 500 | 300 | bps | 0..2000 bps |" in post
    assert "## Simulated impact" in post and "1 runs x 200 stations x 371 days" in post
    assert "| operator payback, " in post
    assert f"`EnergyCredits.setShares(uint16,uint16)` at `{g.credits.address}`" in post
    calldata = re.findall(r"^   (0x[0-9a-f]+)$", post, re.M)
    assert len(calldata) == 1
    pid = re.findall(r"Proposal id once proposed: `(\d+)`", post)[0]
    out = ok("params", "propose", change, env={"WATTNET_ACCOUNT": "test:1"})
    assert f"proposal id: {pid}" in out  # the post names the id the proposal gets
    assert "give --json or --markdown, not both" in refused("params", "diff", change, "--json",
                                                            "--markdown")


def test_diff_dry_run__executes_on_a_fork_and_decodes_a_revert(stack: GovStack, accounts: Any,
                                                               tmp_path: Path) -> None:
    """--dry-run: the calls run as the timelock on a fork and the values are read back there;
    the real chain is untouched. A call the contract refuses shows its decoded custom error
    and the exit status is 1."""
    from wattnet.chain import roles

    g = stack.gov
    before = (int(g.credits.operatorShareBps()), int(g.credits.referrerShareBps()))
    change = change_set(tmp_path, "dry run: referrer 450", {"settlement.referrer_share_bps": 450})
    res = run("params", "diff", change, "--dry-run")
    assert res.exit_code == 0, res.output
    assert "EnergyCredits.setShares\t" in res.output and "\texecuted\t" in res.output
    assert "settlement.referrer_share_bps\t" in res.output and "\t450\tyes" in res.output
    assert "every value as proposed" in res.output
    assert (int(g.credits.operatorShareBps()), int(g.credits.referrerShareBps())) == before
    timelock = accounts[g.timelock.address]  # impersonated: take its PARAMS_ROLE away
    accounts[0].transfer(timelock, 10**18)
    g.credits.revokeRole(roles.PARAMS_ROLE, g.timelock.address, sender=timelock)
    try:
        res = run("params", "diff", change, "--dry-run")
        assert res.exit_code == 1, res.output
        assert "reverted: AccessControlUnauthorizedAccount(account=" in res.output
        assert "1 call(s) reverted, 2 value(s) not as proposed" in res.output  # + treasury
    finally:
        g.credits.grantRole(roles.PARAMS_ROLE, g.timelock.address, sender=timelock)
