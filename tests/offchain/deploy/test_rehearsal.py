"""Deploy rehearsals: `ape run deploy` exactly as docs/runbooks/deploy.md runs it, against anvils
started with the live networks' chain ids, on a fork of a deployment, after injected crashes;
and the one-line errors a user sees."""

from __future__ import annotations

import json
import re
import shlex
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest

from .rehearsal_helpers import (
    ADDR,
    KEYS,
    ROOT,
    Anvil,
    ape_deploy,
    deploy_mock_stablecoin,
    deploy_stand_in_multisig,
    live_env,
    record,
    runbook_block,
)

# Arbitrum Sepolia (421614) is rehearsed by test_runbook__deploy_block, the runbook as written.
NETWORKS = [
    ("ethereum:sepolia:node", 11_155_111, "WATTNET_RPC_ETHEREUM_SEPOLIA"),
    ("arbitrum:mainnet:node", 42_161, "WATTNET_RPC_ARBITRUM_MAINNET"),
]


def coins(anvil: Anvil) -> dict[str, str]:
    return {s: deploy_mock_stablecoin(anvil, s) for s in ("USDC", "EURC")}


def gas_used_by(anvil: Anvil, sender: str) -> int:
    w3, total = anvil.w3, 0
    for n in range(w3.eth.block_number + 1):
        for tx in w3.eth.get_block(n, full_transactions=True)["transactions"]:
            if tx["from"] == sender:
                total += w3.eth.get_transaction_receipt(tx["hash"])["gasUsed"]
    return total


def sent_steps(path: Path) -> int:
    """Steps recorded with the hash of the transaction they sent."""
    return sum(1 for s in record(path)["steps"].values() if s["status"] == "done" and s["tx"])


@pytest.mark.parametrize(("network", "chain_id", "rpc_var"), NETWORKS,
                         ids=[n[0].split(":node")[0] for n in NETWORKS])
def test_rehearsal__live_chain_id_deploy_passes_every_check(
        anvil_factory: Callable[[int], Anvil], tmp_path: Path, network: str, chain_id: int,
        rpc_var: str) -> None:
    anvil = anvil_factory(chain_id)
    path = tmp_path / "record.json"
    r = ape_deploy(["--network", network, "--yes", "--record", str(path)],
                   live_env(anvil, rpc_var, coins(anvil)))
    assert r.returncode == 0, r.stderr
    assert f"(chain id {chain_id})" in r.stdout  # the confirmation summary
    assert "deployed and checked" in r.stdout
    assert "FAIL" not in r.stdout
    rec = record(path)
    assert rec["chain_id"] == chain_id and rec["status"] == "complete"
    assert rec["compiler"].startswith("0.8.30") and len(rec["git_commit"]) == 40
    assert set(rec["contracts"]) >= {"WattToken", "OperatorStaking", "RewardsEngine",
                                     "StationRegistry", "EnergyCredits", "WattTimelock",
                                     "WattGovernor", "stablecoin.USDC", "stablecoin.EURC"}
    # every transaction the deployer sent is one recorded step: nothing twice, nothing extra
    assert anvil.w3.eth.get_transaction_count(ADDR["deployer"]) == sent_steps(path)
    # the prompt's gas figure is an upper estimate of what the deploy used
    estimate = int(re.search(r"gas\s+about ([\d,]+)", r.stdout)[1].replace(",", ""))  # type: ignore[index]
    assert gas_used_by(anvil, ADDR["deployer"]) <= estimate


def test_rehearsal__crashes_mid_deploy_resume_without_a_second_copy(
        anvil_factory: Callable[[int], Anvil], tmp_path: Path) -> None:
    anvil = anvil_factory(421_614)
    path = tmp_path / "record.json"
    env = live_env(anvil, "WATTNET_RPC_ARBITRUM_SEPOLIA", coins(anvil))
    args = ["--network", "arbitrum:sepolia:node", "--yes", "--record", str(path)]
    # after a contract is recorded; after one is created but before it is recorded; after a
    # transaction is mined but before it is recorded
    for point in ("deploy:RewardsEngine", "sent:deploy:StationRegistry",
                  "sent:link:registry.credits"):
        r = ape_deploy(args, env | {"WATTNET_DEPLOY_CRASH": point})
        assert r.returncode == 2
        assert len(r.stderr.strip().splitlines()) == 1, r.stderr  # one line, no traceback
        assert f"crash injected at {point}" in r.stderr
        assert record(path)["status"] == "in-progress"
    first = record(path)["contracts"]
    other = ape_deploy(args, env | {"WATTNET_DEPLOYER_KEY": KEYS[1]})  # another deployer
    assert other.returncode == 2 and "this deploy was started by" in other.stderr
    assert record(path)["deployer"] == ADDR["deployer"]
    r = ape_deploy(args, env)
    assert r.returncode == 0, r.stderr
    rec = record(path)
    assert rec["status"] == "complete"
    for name in ("WattToken", "OperatorStaking", "RewardsEngine", "StationRegistry"):
        assert rec["contracts"][name] == first[name]
    # the two "sent:" crashes left a mined transaction without its hash in the record
    assert anvil.w3.eth.get_transaction_count(ADDR["deployer"]) == sent_steps(path) + 2


def test_rehearsal__fork_of_a_deployment(anvil_factory: Callable[[int], Anvil],
                                         tmp_path: Path) -> None:
    """Ape fork mode against a local upstream node: the deployment re-checks on the fork and
    deploys nothing (a fresh deploy on a fork: test_runbook__deploy_block)."""
    upstream = anvil_factory(421_614)
    live = tmp_path / "live.json"
    env = live_env(upstream, "WATTNET_RPC_ARBITRUM_SEPOLIA", coins(upstream))
    assert ape_deploy(["--network", "arbitrum:sepolia:node", "--yes", "--record", str(live)],
                      env).returncode == 0
    sent = upstream.w3.eth.get_transaction_count(ADDR["deployer"])
    fork_copy = tmp_path / "fork.json"
    fork_copy.write_text(live.read_text())
    r = ape_deploy(["--network", "arbitrum:sepolia-fork:foundry", "--record", str(fork_copy)],
                   env)
    assert r.returncode == 0, r.stderr
    assert "Contract 'WattToken' deployed" not in r.stdout + r.stderr
    assert record(fork_copy)["contracts"] == record(live)["contracts"]
    assert "FAIL" not in r.stdout and "deployed and checked" in r.stdout
    assert upstream.w3.eth.get_transaction_count(ADDR["deployer"]) == sent  # fork only


def _one_line_refusal(r: subprocess.CompletedProcess[str], *words: str) -> str:
    assert r.returncode == 2, (r.stdout[-500:], r.stderr)
    lines = r.stderr.strip().splitlines()
    assert len(lines) == 1, r.stderr  # one line, no traceback
    assert "\x1b" not in r.stderr  # no terminal escapes
    for w in words:
        assert w in lines[0], (w, r.stderr)
    return lines[0]


def test_errors__one_line_for_user_mistakes(anvil_factory: Callable[[int], Anvil],
                                            tmp_path: Path) -> None:
    anvil = anvil_factory(11_155_111)
    path = tmp_path / "record.json"
    env = live_env(anvil, "WATTNET_RPC_ARBITRUM_SEPOLIA", coins(anvil))
    cases = [
        # (args, env changes, expected words)
        (["--network", "arbitrum:sepolia:node"], {"WATTNET_RPC_ARBITRUM_SEPOLIA": ""},
         "$WATTNET_RPC_ARBITRUM_SEPOLIA is not set"),
        (["--network", "arbitrum:sepolia:node"], {}, "does not match network chain ID '421614'"),
        (["--network", "polygon:mainnet"], {}, "is not a WattNet network"),
        (["--network", "ethereum:sepolia:node"],
         {"WATTNET_RPC_ETHEREUM_SEPOLIA": anvil.url, "WATTNET_GUARDIAN": ""},
         "$WATTNET_GUARDIAN is not set"),
        (["--network", "ethereum:sepolia:node"],
         {"WATTNET_RPC_ETHEREUM_SEPOLIA": anvil.url, "WATTNET_STABLECOIN_USDC": "0x1",
          "WATTNET_STABLECOIN_EURC": "0x1"}, "is not an address"),
        (["--network", "ethereum:sepolia:node"],
         {"WATTNET_RPC_ETHEREUM_SEPOLIA": anvil.url,
          "WATTNET_DEPLOYER_KEY": "0x" + "11" * 32}, "fund it first"),
    ]
    for args, changes, words in cases:
        r = ape_deploy([*args, "--yes", "--record", str(path)], env | changes)
        _one_line_refusal(r, words)
        assert not path.exists()  # nothing was sent, nothing recorded


def test_errors__every_missing_variable_in_one_line(anvil_factory: Callable[[int], Anvil],
                                                    tmp_path: Path) -> None:
    anvil = anvil_factory(11_155_111)
    env = {k: v for k, v in live_env(anvil, "UNUSED", {}).items()
           if not k.startswith("WATTNET_")}
    r = ape_deploy(["--network", "ethereum:sepolia:node", "--yes", "--record",
                    str(tmp_path / "r.json")], env)
    line = _one_line_refusal(r, "7 problems with the environment")
    for var in ("RPC_ETHEREUM_SEPOLIA", "GUARDIAN", "ORACLE_ADDRESS", "TREASURY",
                "STABLECOIN_USDC", "STABLECOIN_EURC"):
        assert f"$WATTNET_{var} is not set" in line
    assert "no deployer: set $WATTNET_DEPLOYER_KEY" in line


def test_errors__no_terminal_and_no_yes_says_so(anvil_factory: Callable[[int], Anvil],
                                                tmp_path: Path) -> None:
    anvil = anvil_factory(11_155_111)
    env = live_env(anvil, "WATTNET_RPC_ETHEREUM_SEPOLIA", coins(anvil))
    r = ape_deploy(["--network", "ethereum:sepolia:node", "--record", str(tmp_path / "r.json")],
                   env, answer="")  # stdin is an empty pipe: no terminal, nothing typed
    line = _one_line_refusal(r, "no terminal to confirm the deploy on: pass --yes")
    assert "interrupted" not in line
    assert anvil.w3.eth.get_transaction_count(ADDR["deployer"]) == 0


def test_preflight__every_bad_external_address_before_any_transaction(
        anvil_factory: Callable[[int], Anvil], tmp_path: Path) -> None:
    """No code, wrong code, wrong decimals or symbol, a key where a multisig belongs and the
    reverse: all reported in one line, and nothing is sent."""
    anvil = anvil_factory(421_614)
    path = tmp_path / "record.json"
    eurc18 = deploy_mock_stablecoin(anvil, "EURC", decimals=18)
    usdt = deploy_mock_stablecoin(anvil, "USDT")
    multisig = deploy_stand_in_multisig(anvil)
    env = live_env(anvil, "WATTNET_RPC_ARBITRUM_SEPOLIA", {"USDC": ADDR["oracle"],
                                                          "EURC": eurc18})
    args = ["--network", "arbitrum:sepolia:node", "--yes", "--record", str(path)]
    line = _one_line_refusal(
        ape_deploy(args, env | {"WATTNET_GUARDIAN": "0x" + "12" * 20,
                                "WATTNET_ORACLE_ADDRESS": multisig, "WATTNET_TREASURY": usdt}),
        "preflight:", f"$WATTNET_STABLECOIN_USDC={ADDR['oracle']} has no code",
        "has 18 decimals, the params file says 6", "the guardian is a multisig",
        "$WATTNET_ORACLE_ADDRESS=", "must be a key", "is the ERC-20 token 'USDT'",
        "nothing was sent")
    assert "explorer" not in line
    not_a_token = _one_line_refusal(ape_deploy(args, env | {"WATTNET_STABLECOIN_USDC": multisig,
                                                            "WATTNET_STABLECOIN_EURC": usdt}))
    assert "USDC" in not_a_token and "is not an ERC-20 token (no answer to decimals()" in \
        not_a_token and "is 'USDT', not EURC" in not_a_token
    assert anvil.w3.eth.get_transaction_count(ADDR["deployer"]) == 0 and not path.exists()


def test_resume__changed_inputs_taken_until_used_then_refused(
        anvil_factory: Callable[[int], Anvil], tmp_path: Path) -> None:
    anvil = anvil_factory(421_614)
    path = tmp_path / "record.json"
    first, second, third = (deploy_mock_stablecoin(anvil, "USDC") for _ in range(3))
    env = live_env(anvil, "WATTNET_RPC_ARBITRUM_SEPOLIA",
                   {"USDC": first, "EURC": deploy_mock_stablecoin(anvil, "EURC")})
    args = ["--network", "arbitrum:sepolia:node", "--yes", "--record", str(path)]
    r = ape_deploy(args, env | {"WATTNET_DEPLOY_CRASH": "deploy:WattTimelock"})
    _one_line_refusal(r, "crash injected")
    # what an earlier run with a wrong address (no code) left in the record: not a reason to
    # refuse ("wrong RPC URL"), it was never used
    data = record(path)
    assert data["contracts"]["stablecoin.USDC"] == first
    data["contracts"]["stablecoin.USDC"] = "0x" + "12" * 20
    path.write_text(json.dumps(data))
    # USDC not listed yet: the corrected address is taken, the run goes on until it is listed
    r = ape_deploy(args, env | {"WATTNET_STABLECOIN_USDC": second,
                                "WATTNET_DEPLOY_CRASH": "param:credits.list:USDC"})
    _one_line_refusal(r, "crash injected")
    assert record(path)["contracts"]["stablecoin.USDC"] == second
    # listed now: another change is refused, naming the variable and the contract
    _one_line_refusal(ape_deploy(args, env | {"WATTNET_STABLECOIN_USDC": third}),
                      f"$WATTNET_STABLECOIN_USDC is now {third} but EnergyCredits already uses "
                      f"{second}", "move the record away")
    # the treasury is in WattToken's constructor since the first run
    _one_line_refusal(ape_deploy(args, env | {"WATTNET_STABLECOIN_USDC": second,
                                              "WATTNET_TREASURY": ADDR["oracle"]}),
                      "$WATTNET_TREASURY is now", "but WattToken already uses")
    sent = anvil.w3.eth.get_transaction_count(ADDR["deployer"])
    r = ape_deploy(args, env | {"WATTNET_STABLECOIN_USDC": second})
    assert r.returncode == 0, r.stderr
    assert "FAIL" not in r.stdout and record(path)["status"] == "complete"
    assert anvil.w3.eth.get_transaction_count(ADDR["deployer"]) > sent


def test_errors__record_of_another_chain_is_refused(anvil_factory: Callable[[int], Anvil],
                                                    tmp_path: Path) -> None:
    first = anvil_factory(421_614)
    path = tmp_path / "record.json"
    env = live_env(first, "WATTNET_RPC_ARBITRUM_SEPOLIA", coins(first))
    args = ["--network", "arbitrum:sepolia:node", "--yes", "--record", str(path)]
    assert ape_deploy(args, env | {"WATTNET_DEPLOY_CRASH": "deploy:WattToken"}).returncode == 2
    other = anvil_factory(421_614)  # same chain id, but none of the recorded code
    r = ape_deploy(args, env | {"WATTNET_RPC_ARBITRUM_SEPOLIA": other.url})
    assert r.returncode == 2
    assert "has no code on chain 421614" in r.stderr and len(r.stderr.strip().splitlines()) == 1
    assert other.w3.eth.get_transaction_count(ADDR["deployer"]) == 0


def test_runbook__deploy_block(anvil_factory: Callable[[int], Anvil], tmp_path: Path) -> None:
    """docs/runbooks/deploy.md's sequence, line by line, against an anvil with Arbitrum
    Sepolia's chain id (`source tools/env.sh` and `make compile`: the test environment already
    has both). The live deploy is confirmed at its prompt by typing "y"."""
    anvil = anvil_factory(421_614)
    placeholders = {
        "WATTNET_RPC_ARBITRUM_SEPOLIA": anvil.url, "WATTNET_DEPLOYER_KEY": KEYS[0],
        "WATTNET_GUARDIAN": deploy_stand_in_multisig(anvil),
        "WATTNET_ORACLE_ADDRESS": ADDR["oracle"],
        "WATTNET_TREASURY": ADDR["treasury"], **{f"WATTNET_STABLECOIN_{s}": a
                                                 for s, a in coins(anvil).items()}}
    env = {k: v for k, v in live_env(anvil, "UNUSED", {}).items()
           if not k.startswith("WATTNET_")}  # nothing but what the runbook exports
    runs = []
    for line in runbook_block(ROOT / "docs/runbooks/deploy.md"):
        if line.startswith(("source ", "make ")):
            continue
        if line.startswith("export "):
            name, value = line.removeprefix("export ").split("=", 1)
            env[name] = placeholders[name] if value.startswith("<") else value
            continue
        args = shlex.split(line)
        assert args[:3] == ["ape", "run", "deploy"], line
        network = args[args.index("--network") + 1]
        path = tmp_path / f"{network.split(':')[1]}.json"
        r = ape_deploy([*args[3:], "--record", str(path)], env, answer="y\n")
        assert r.returncode == 0, (line, r.stderr)
        runs.append((r, anvil.w3.eth.get_transaction_count(ADDR["deployer"])))
    (fork, _), (live, sent), (again, sent_again) = runs
    assert "(chain id 421614)" in live.stdout and "Deploy WattNet to this network?" in live.stdout
    # the re-run has nothing to send, so nothing to confirm
    assert "Deploy WattNet" not in again.stdout and "nothing to send" in again.stdout
    assert sent > 0 and sent_again == sent  # the fork spent nothing; the re-run sent nothing
    assert "deployed and checked" in fork.stdout + live.stdout + again.stdout
    assert record(tmp_path / "sepolia.json")["status"] == "complete"
