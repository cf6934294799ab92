"""``ape run deploy``: connect, confirm, deploy (or resume), check, verify.

:func:`run_deploy` does the work for scripts/deploy.py and reports through an injected rich
console; every user error is a :class:`wattnet.errors.WattNetError` with a one-line message.
"""

from __future__ import annotations

import logging
import shutil
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from wattnet.chain.deploy_checks import Check, checks_table, run_checks
from wattnet.chain.deploy_inputs import check_unchanged, inputs_of
from wattnet.chain.deploy_plan import GovernedProtocol, deploy_governed
from wattnet.chain.deploy_preflight import check_external
from wattnet.chain.deploy_record import Recorder
from wattnet.chain.deploy_target import (
    Holders,
    Target,
    check_env,
    confirmations,
    deployer_account,
    holders_from_env,
    load_env,
    resolve_target,
    rpc_url,
)
from wattnet.chain.deployments import load_deployment_file, project_root
from wattnet.errors import ChainError, ConfigError
from wattnet.params import load_params

if TYPE_CHECKING:
    from rich.console import Console

log = logging.getLogger(__name__)

CONTRACTS = ("WattToken", "OperatorStaking", "RewardsEngine", "StationRegistry",
             "EnergyCredits", "WattTimelock", "WattGovernor")
COMMITTEE = "OracleCommittee"  # deployed when the params have a `committee` section
# Contracts constructors create (staking its ReadingsProofs, the registry its P256Verifier).
CREATED_INSIDE = ("ReadingsProofs", "P256Verifier")
TRANSACTIONS = 50  # wiring, parameters, roles and renouncing (the committee's 5), about
GAS_PER_TX = 60_000


@dataclass(frozen=True, slots=True)
class DeployOutcome:
    protocol: GovernedProtocol
    checks: list[Check]
    record_path: Path

    @property
    def ok(self) -> bool:
        return all(c.ok for c in self.checks)


def estimate_gas(project: Any) -> int:
    """An upper estimate of the whole deploy's gas from the bytecode sizes: creation (32k +
    200 per runtime byte + 16 per init code byte + constructor storage) plus the transactions."""
    total = 0
    for name in (*CONTRACTS, COMMITTEE):  # an upper bound: the committee counts if deployed
        ctype = getattr(project, name).contract_type
        runtime = _code_len(ctype.runtime_bytecode)
        init = _code_len(ctype.deployment_bytecode)
        total += 32_000 + 21_000 + 200 * runtime + 16 * init + 10 * 22_100
    for name in CREATED_INSIDE:  # its init code is already in its creator's
        runtime = _code_len(getattr(project, name).contract_type.runtime_bytecode)
        total += 32_000 + 200 * runtime + 10 * 22_100
    return total + TRANSACTIONS * GAS_PER_TX


def _code_len(code: Any) -> int:
    hexcode = str(getattr(code, "bytecode", "") or "")
    return max(0, len(hexcode.removeprefix("0x")) // 2)


def _fork_record(target: Target, path: Path, root: Path) -> None:
    """A fork is a new chain each time: its default record starts as a copy of the upstream
    network's record (or empty), never the record of an earlier fork, and is never written
    back to the upstream's."""
    upstream = root / "deployments" / target.ecosystem / f"{target.base_network}.json"
    if upstream.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(upstream, path)
    else:
        path.unlink(missing_ok=True)


def _client_version(chain: Any) -> str:
    try:
        return str(chain.provider.web3.client_version)
    except Exception:  # a node without web3_clientVersion: the network's own confirmations
        return ""


def _complete(record: Path) -> bool:
    return record.is_file() and load_deployment_file(record).status == "complete"


def _check_record(record: Path, target: Target, chain: Any, deployer: Any,
                  holders: Holders) -> None:
    """Before preflight and the prompt: the record to resume belongs to this chain and deployer,
    and no input a recorded step used has changed (deploy_governed checks both again)."""
    if not record.is_file():
        return
    rec = Recorder.resume(record, int(chain.chain_id),
                          lambda a: bytes(chain.provider.get_code(a)),
                          fresh_if_gone=target.local or target.fork, ecosystem=target.ecosystem,
                          network=target.network, deployer=deployer.address)
    check_unchanged(str(record), rec.steps, rec.contracts, rec.constructor_args,
                    inputs_of(holders.treasury, holders.guardian, holders.oracle,
                              holders.stablecoins))


def _preflight(chain: Any, deployer: Any, holders: Holders, params: Any) -> None:
    """Every external address read on chain before the first transaction (one line, all
    problems)."""
    w3 = chain.provider.web3

    def call(address: str, data: bytes) -> bytes | None:
        try:
            return bytes(w3.eth.call({"to": address, "data": "0x" + data.hex()}))
        except Exception:  # a revert, or no such function: "no answer"
            return None

    problems = check_external(
        call, lambda a: bytes(w3.eth.get_code(a)), deployer=deployer.address,
        guardian=holders.guardian, oracle=holders.oracle, treasury=holders.treasury,
        stablecoins=holders.stablecoins, coins=params.credits.stablecoins)
    if problems:
        raise ConfigError(f"preflight: {'; '.join(problems)}; nothing was sent")


def _ask(question: str) -> bool:
    """The confirmation prompt; with no terminal and nothing typed, a clear one-line refusal
    (click's own answer to end of input is an abort, shown as "interrupted")."""
    import sys

    import click

    try:
        return bool(click.confirm(question))
    except click.Abort:
        if sys.stdin is None or not sys.stdin.isatty():
            raise ConfigError("no terminal to confirm the deploy on: pass --yes (or "
                              "WATTNET_DEPLOY_YES=1) to deploy without the prompt; nothing was "
                              "sent") from None
        raise


def _confirm(console: Console, target: Target, chain: Any, deployer: Any, record: Path,
             project: Any, yes: bool, ask: Callable[[str], bool]) -> None:
    if _complete(record):
        console.print(f"record    {record} is complete: nothing to send; re-checking")
        return
    price = int(chain.provider.gas_price)
    gas = estimate_gas(project)
    balance = int(deployer.balance)
    cost = gas * price
    done = 0
    if record.exists():
        done = sum(1 for s in load_deployment_file(record).steps.values()
                   if s.get("status") == "done")
    console.print(f"network   {target.choice} (chain id {chain.chain_id})")
    console.print(f"deployer  {deployer.address}  balance {balance / 1e18:.6f} ETH")
    console.print(f"gas       about {gas:,} at {price / 1e9:.3f} gwei = {cost / 1e18:.6f} ETH "
                  "(upper estimate)")
    console.print(f"record    {record}" + (f" (resuming: {done} steps done)" if done else ""))
    if balance < cost:
        raise ChainError(f"deployer {deployer.address} has {balance / 1e18:.6f} ETH on chain "
                         f"{chain.chain_id}, needs about {cost / 1e18:.6f}; fund it first")
    if not yes and not ask("Deploy WattNet to this network?"):
        raise ConfigError("deploy cancelled at the confirmation prompt; nothing was sent")


def _verify(console: Console, target: Target, gp: GovernedProtocol, env: Mapping[str, str],
            networks: Any) -> None:
    keys = ("ETHERSCAN_API_KEY", "ARBISCAN_API_KEY")
    if not any(env.get(k) for k in keys):
        console.print("verification skipped: no ETHERSCAN_API_KEY / ARBISCAN_API_KEY")
        return
    try:
        import ape_etherscan  # noqa: F401
    except ImportError:
        console.print("verification skipped: ape-etherscan is not installed "
                      "(pip install -e '.[verify]')")
        return
    explorer = networks.provider.network.explorer
    for name in (*CONTRACTS, COMMITTEE):
        address = gp.deployment.contracts.get(name)
        if address is None:
            continue
        try:
            explorer.publish_contract(address)
            console.print(f"verified {name} {address}")
        except Exception as exc:  # verification is best effort: the deploy itself is done
            console.print(f"[yellow]verification of {name} failed: {str(exc).splitlines()[0]}")


def run_deploy(
    console: Console,
    network_choice: str,
    *,
    params_path: str | None = None,
    record_path: Path | None = None,
    yes: bool = False,
    verify: bool = True,
    ask: Callable[[str], bool] | None = None,
    env: Mapping[str, str] | None = None,
) -> DeployOutcome:
    from ape import accounts, chain, networks, project

    root = project_root()
    load_env(root)
    if env is None:
        import os

        env = dict(os.environ)
    target = resolve_target(network_choice)
    params = load_params(params_path or target.params_name)
    symbols = [c.symbol for c in params.credits.stablecoins]
    check_env(target, env, accounts, symbols)  # every missing variable at once, before dialing
    settings: dict[str, Any] = {}
    if target.fork:
        rpc_url(target, env)  # the fork's upstream node reads it from ape-config.yaml
    elif not target.local:
        settings["uri"] = rpc_url(target, env)
    record = record_path or target.record_path(root)
    if target.fork and record_path is None:
        _fork_record(target, record, root)
    yes = yes or env.get("WATTNET_DEPLOY_YES", "") == "1"
    try:
        ctx = networks.parse_network_choice(target.choice, provider_settings=settings or None)
        ctx.__enter__()
    except Exception as exc:
        raise ChainError(f"cannot connect to {target.choice}: {str(exc).splitlines()[0]}"
                         ) from None
    try:
        chain_id = int(chain.chain_id)
        if target.chain_id is not None and chain_id != target.chain_id:
            raise ChainError(f"{target.choice} should have chain id {target.chain_id} but the "
                             f"node at {target.rpc_env} reports {chain_id}; fix the RPC URL")
        deployer = deployer_account(target, env, accounts)
        holders = holders_from_env(target, env, accounts, symbols)
        tx_options = confirmations(env, _client_version(chain))
        _check_record(record, target, chain, deployer, holders)
        if not _complete(record):  # a complete record re-checks and sends nothing
            _preflight(chain, deployer, holders, params)
        if target.live:
            _confirm(console, target, chain, deployer, record, project, yes, ask or _ask)
        gp = deploy_governed(
            project, deployer, params, guardian=holders.guardian, oracle=holders.oracle,
            treasury=holders.treasury, stablecoins=holders.stablecoins, record_path=record,
            ecosystem=target.ecosystem, network=target.network,
            fresh_if_gone=target.local or target.fork,
            tx_options=tx_options,
        )
        checks = run_checks(gp, params)
        console.print(checks_table(checks))
        if target.live and verify:
            _verify(console, target, gp, env, networks)
        return DeployOutcome(gp, checks, record)
    finally:
        ctx.__exit__(None, None, None)
