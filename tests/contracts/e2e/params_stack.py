"""The governed protocol for the parameter-change tests: deployed from params/local.yaml by the
governed deploy (the timelock holds every parameter role), its record in a temporary project
root, and voters holding delegated WATT."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from click.testing import CliRunner, Result

from wattnet.chain.deployments import (
    ENV_ARTIFACTS,
    ENV_DEPLOYMENT,
    ENV_ROOT,
    manifest_path,
    save_deployment,
)
from wattnet.cli.main import cli
from wattnet.params import WEI_PER_WATT, apply_overrides, load_params

REPO = Path(__file__).resolve().parents[3]
VOTER_WATT = 10_000_000  # quorum is 4 % of 200 M genesis supply = 8 M


@dataclass
class GovStack:
    gov: Any  # wattnet.chain.deploy_plan.GovernedProtocol
    root: Path
    voter: Any  # test account 1, the treasury: 190 M WATT delegated to itself
    voter2: Any  # test account 5: 10 M WATT delegated to itself
    poor: Any  # test account 7: no WATT


@contextmanager
def governed_stack(project: Any, accounts: Any, chain: Any, tmp: Path,
                   guardian: Any = None) -> Iterator[GovStack]:
    """Deploy, write deployments/ethereum/local.json under ``tmp``, point the CLI there
    (``guardian``: test account 8 unless given)."""
    from wattnet.chain.deploy_plan import deploy_local_governed

    manifest = manifest_path()
    # The file's 2-minute timelock delay with the chain clock following the wall clock: on a
    # loaded machine two CLI runs between queue and execute can outlast it (seen in CI).
    g = deploy_local_governed(project, accounts, apply_overrides(
        load_params("local"), {"governance.timelock_delay": "30m"}), guardian=guardian)
    save_deployment(g.deployment, tmp)
    voter, voter2, poor = accounts[1], accounts[5], accounts[7]  # voter: the treasury
    g.watt.transfer(voter2, VOTER_WATT * WEI_PER_WATT, sender=voter)
    g.watt.invoke_transaction("delegate", voter, sender=voter)  # `delegate` is shadowed in Ape
    g.watt.invoke_transaction("delegate", voter2, sender=voter2)
    travel_to(chain, int(chain.blocks.head.timestamp) + 2)  # checkpoints are in the past
    with pytest.MonkeyPatch.context() as mp:
        mp.delenv(ENV_DEPLOYMENT, raising=False)  # the record under tmp, nothing else
        mp.setenv(ENV_ROOT, str(tmp))
        mp.setenv(ENV_ARTIFACTS, str(manifest))
        mp.chdir(REPO)
        yield GovStack(g, tmp, voter, voter2, poor)


def travel_to(chain: Any, timestamp: int) -> None:
    """Mine a block at ``timestamp`` (or one second later than the head if that is later)."""
    chain.mine(timestamp=max(int(timestamp), int(chain.blocks.head.timestamp) + 1))


def pass_proposal(view: Any, chain: Any, plan: Any, proposer: Any, voters: list[Any]) -> int:
    """Propose, vote for, wait out every delay, queue and execute through the Python API."""
    from wattnet.governance import proposals

    pid = proposals.propose(view, proposer, plan)
    gov = view.governor
    travel_to(chain, int(gov.proposalSnapshot(pid)) + 1)
    for v in voters:
        proposals.vote(view, v, pid, "for", None)
    travel_to(chain, int(gov.proposalDeadline(pid)) + 1)
    eta = proposals.queue(view, proposer, pid)
    travel_to(chain, eta)
    proposals.execute(view, proposer, pid)
    assert proposals.status(view, pid)["state"] == "Executed"
    return pid


# ---- the CLI as the runbooks run it

def run(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(cli, list(args), env=env, catch_exceptions=False)


def ok(*args: str, **kw: Any) -> str:
    res = run(*args, **kw)
    assert res.exit_code == 0, res.output
    return res.output


def refused(*args: str, **kw: Any) -> str:
    """A refused step: exit status 2, one line, no traceback."""
    res = run(*args, **kw)
    assert res.exit_code == 2, res.output
    line = res.output.strip()
    assert "\n" not in line and "Traceback" not in line, res.output
    assert line.startswith("error: ")
    return line


def change_set(tmp: Path, description: str, changes: dict[str, Any]) -> str:
    path = tmp / f"{abs(hash(description))}.yaml"
    path.write_text(yaml.safe_dump({"description": description, "changes": changes}))
    return str(path)
