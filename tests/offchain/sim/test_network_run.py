"""A small network through the real stack on a local anvil (the simulator starts its own):
every session settles exactly once and every balance reconciles to the smallest unit; a broken
expectation is caught; a snapshot of the deployment runs again; Ctrl-C leaves no process."""

from __future__ import annotations

import copy
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from wattnet.sim.network.reconcile import compare
from wattnet.sim.network.run import NetworkOptions, NetworkResult, run_network

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def small(tmp_path_factory: pytest.TempPathFactory) -> NetworkResult:
    work = tmp_path_factory.mktemp("network")
    return run_network(NetworkOptions(chargers=6, drivers=12, days=1, seed=7, workdir=work,
                                      save_state=work / "state.json"))


def test_network__every_session_settles_once_and_the_ledger_reconciles(
        small: NetworkResult) -> None:
    assert small.differences == []
    # the schedule's emission (wattnet.econ, from the params file) is the chain's emissionOf
    assert small.expected["epoch emission"] == small.actual["epoch emission"] != {}
    sessions = small.plan.sessions
    assert len(sessions) >= 30
    settled = small.actual["settled once"]
    assert sum(settled.values()) == len(sessions)  # and the session after each station's last: 0
    assert small.actual["settlement events"] == {"sessions settled": len(sessions),
                                                 "receipts rejected": 0}
    # Issue 18: the oracle runs without gas estimates; none of its settlements reverted.
    assert small.settlement_txs > 0 and small.reverted_settlements == 0
    assert {c.version for c in small.plan.chargers} == {"ocpp1.6", "ocpp2.0.1"}
    spent = sum(s.cost for s in sessions)
    bought = sum(d.buy for d in small.plan.drivers)
    assert sum(small.actual["driver credits"].values()) + spent + sum(
        small.actual["driver stablecoin"].values()) == bought
    assert sum(small.actual["operator WATT (rewards)"].values()) > 0


def test_network__through_an_oracle_committee_of_three_every_session_settles_once(
        tmp_path: Path) -> None:
    """Issue 13: three oracle node processes (own databases and keys), k from the params file;
    nobody holds ORACLE_ROLE and every settlement is a node's relay of a committee-signed batch."""
    result = run_network(NetworkOptions(chargers=6, drivers=12, days=1, seed=11,
                                        workdir=tmp_path / "work", oracle_nodes=3))
    assert result.differences == []
    n = len(result.plan.sessions)
    assert n >= 30
    # observe() counts EnergyCredits.BatchSettled whose submitter is one of the nodes
    assert result.actual["settlement events"] == {"sessions settled": n,
                                                  "receipts rejected": 0}
    assert result.settlement_txs > 0 and result.reverted_settlements == 0
    nodes = sorted(p.name for p in (tmp_path / "work").glob("oracle-node-*"))
    assert nodes == ["oracle-node-0", "oracle-node-1", "oracle-node-2"]
    # only the committee's signatures settle: the deploy's single oracle key lost ORACLE_ROLE
    # and nobody holds it
    assert result.oracle_role_holders == []


def test_network__a_broken_expectation_is_reported(small: NetworkResult) -> None:
    expected = copy.deepcopy(small.expected)
    driver = next(iter(expected["driver credits"]))
    expected["driver credits"][driver] += 1
    first = next(iter(expected["settled once"]))
    expected["settled once"][first] = 0
    diffs = compare(expected, small.actual)
    assert {(d.item, d.party, d.delta) for d in diffs} == {
        ("driver credits", driver, -1), ("settled once", first, 1)}


def test_network__runs_again_on_a_snapshot_of_the_deployment(small: NetworkResult,
                                                              tmp_path: Path) -> None:
    state = small.workdir / "state.json"
    again = run_network(NetworkOptions(chargers=2, drivers=4, days=1, seed=8, from_state=state,
                                       workdir=tmp_path))
    assert again.differences == []
    assert again.deployment.contracts == small.deployment.contracts
    assert len(again.plan.sessions) > 0


def _descendants(pid: int) -> set[int]:
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        children.setdefault(ppid, []).append(int(entry))
    out, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            out.add(child)
            todo.append(child)
    return out


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state != "Z"


def test_network__ctrl_c_stops_everything_and_leaves_no_process(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "wattnet.cli.main", "sim", "network", "--chargers", "30",
         "--drivers", "60", "--days", "3", "--workdir", str(tmp_path)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    deadline = time.monotonic() + 60
    seen: set[int] = set()
    while time.monotonic() < deadline:  # until the chargers are charging
        seen |= _descendants(proc.pid)
        log = tmp_path / "gateway-0.log"
        if log.exists() and "acknowledged" in log.read_text(errors="replace"):
            break
        assert proc.poll() is None, proc.communicate()
        time.sleep(0.2)
    else:
        pytest.fail("the network never started charging")
    seen |= _descendants(proc.pid)
    assert len(seen) >= 3  # anvil, the oracle, a gateway
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130, err
    assert b"Traceback" not in err
    time.sleep(0.5)
    assert [p for p in seen if _alive(p)] == []
