"""Network choice and environment of `ape run deploy`, without a chain."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from wattnet.chain.deploy_record import create_address
from wattnet.chain.deploy_target import (
    confirmations,
    deployer_account,
    holders_from_env,
    resolve_target,
    rpc_url,
)
from wattnet.errors import ConfigError

A = "0x" + "ab" * 20
TEST = [SimpleNamespace(address=f"0x{i:040x}") for i in range(10)]
ACCOUNTS = SimpleNamespace(test_accounts=TEST)


@pytest.mark.parametrize(("choice", "chain_id", "params", "provider", "live"), [
    ("ethereum:local", None, "local", "foundry", False),
    ("ethereum:sepolia", 11_155_111, "sepolia", "node", True),
    ("arbitrum:sepolia:node", 421_614, "arbitrum-sepolia", "node", True),
    ("arbitrum:mainnet", 42_161, "arbitrum", "node", True),
    ("arbitrum:mainnet-fork", 42_161, "arbitrum", "foundry", False),
])
def test_resolve_target__known_networks(choice: str, chain_id: int | None, params: str,
                                        provider: str, live: bool) -> None:
    t = resolve_target(choice)
    assert (t.chain_id, t.params_name, t.provider, t.live) == (chain_id, params, provider, live)


def test_resolve_target__rpc_variable_of_a_fork_is_the_networks() -> None:
    assert resolve_target("arbitrum:sepolia-fork:foundry").rpc_env == "WATTNET_RPC_ARBITRUM_SEPOLIA"


@pytest.mark.parametrize(("choice", "words"), [
    ("polygon:mainnet", "is not a WattNet network"),
    ("arbitrum", "expected ecosystem:network"),
    ("arbitrum:sepolia-fork:node", "forks run on the foundry provider"),
])
def test_resolve_target__refuses_with_one_line(choice: str, words: str) -> None:
    with pytest.raises(ConfigError, match=words) as err:
        resolve_target(choice)
    assert "\n" not in str(err.value)


def test_rpc_url__missing_names_the_variable() -> None:
    with pytest.raises(ConfigError, match=r"\$WATTNET_RPC_ETHEREUM_SEPOLIA is not set"):
        rpc_url(resolve_target("ethereum:sepolia"), {})


def test_holders__local_defaults_to_test_accounts_and_mocks() -> None:
    h = holders_from_env(resolve_target("ethereum:local"), {}, ACCOUNTS, ["USDC"])
    assert (h.guardian, h.oracle, h.treasury) == (TEST[8].address, TEST[6].address,
                                                  TEST[1].address)
    assert h.stablecoins is None


def test_holders__live_needs_every_address() -> None:
    env = {"WATTNET_GUARDIAN": A, "WATTNET_ORACLE_ADDRESS": A, "WATTNET_TREASURY": A}
    with pytest.raises(ConfigError, match=r"\$WATTNET_STABLECOIN_USDC is not set"):
        holders_from_env(resolve_target("arbitrum:mainnet"), env, ACCOUNTS, ["USDC"])
    h = holders_from_env(resolve_target("arbitrum:mainnet"),
                         env | {"WATTNET_STABLECOIN_USDC": A}, ACCOUNTS, ["USDC"])
    assert h.stablecoins is not None and h.stablecoins["USDC"].lower() == A


def test_deployer__live_without_key_or_alias_is_refused() -> None:
    with pytest.raises(ConfigError, match="no deployer"):
        deployer_account(resolve_target("ethereum:sepolia"), {}, ACCOUNTS)
    with pytest.raises(ConfigError, match="is not a private key"):
        deployer_account(resolve_target("ethereum:sepolia"), {"WATTNET_DEPLOYER_KEY": "0x12"},
                         ACCOUNTS)


def test_confirmations__whole_numbers_only() -> None:
    assert confirmations({}) == {}
    assert confirmations({"WATTNET_DEPLOY_CONFIRMATIONS": "2"}) == {"required_confirmations": 2}
    with pytest.raises(ConfigError):
        confirmations({"WATTNET_DEPLOY_CONFIRMATIONS": "two"})


def test_create_address__matches_a_known_deployment() -> None:
    # anvil account 0's first contract (the address every local deploy shows for WattToken)
    assert create_address("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", 0) == \
        "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_fail__one_line_without_terminal_escapes(capsys: pytest.CaptureFixture[str]) -> None:
    """Ape's own messages carry colour codes (its explorer hints); the deploy's error line
    does not."""
    import importlib.util
    from pathlib import Path

    from rich.console import Console

    path = Path(__file__).resolve().parents[3] / "scripts" / "deploy.py"
    spec = importlib.util.spec_from_file_location("deploy_script", path)
    assert spec is not None and spec.loader is not None
    script = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(script)
    with pytest.raises(SystemExit) as done:
        script._fail(Console(stderr=True, soft_wrap=True),
                     "\x1b[1;31mContractNotFoundError\x1b[0m: no code at 0x12 "
                     "\x1b[33m(hint)\x1b[0m")
    assert done.value.code == 2
    err = capsys.readouterr().err
    assert err == "error: ContractNotFoundError: no code at 0x12 (hint)\n"
