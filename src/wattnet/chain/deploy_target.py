"""Where a deploy goes and with what: network, RPC URL, deployer, addresses, params file.

Everything comes from the environment (or a ``.env`` file, read with python-dotenv; never
committed). Variables, all ``WATTNET_*``:

==============================  ===============================================================
``RPC_<ECOSYSTEM>_<NETWORK>``    RPC URL, e.g. ``WATTNET_RPC_ARBITRUM_SEPOLIA`` (live networks)
``DEPLOYER_KEY``                 deployer private key (hex), or
``DEPLOYER``                     the alias of an Ape account (``ape accounts import``)
``GUARDIAN``                     guardian (multisig): may pause only
``ORACLE_ADDRESS``               the oracle's hot key: ORACLE_ROLE
``TREASURY``                     treasury payee of fees, slashes and the genesis supply
``STABLECOIN_<SYMBOL>``          address of each stablecoin in ``params/<network>.yaml``
``DEPLOY_YES=1``                 skip the confirmation prompt (automation)
``DEPLOY_CONFIRMATIONS``         confirmations per transaction (default: the network's; 0 when
                                 the node is anvil, Hardhat or Ganache, which mine on demand)
==============================  ===============================================================

On ``ethereum:local`` every one of these is optional: Ape's test accounts stand in (deployer #0,
treasury #1, oracle #6, guardian #8) and a MockStablecoin is deployed per symbol.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eth_utils.address import is_address, to_checksum_address

from wattnet.errors import ConfigError

# (ecosystem, network) -> (chain id, params file)
KNOWN: dict[tuple[str, str], tuple[int | None, str]] = {
    ("ethereum", "local"): (None, "local"),
    ("ethereum", "sepolia"): (11_155_111, "sepolia"),
    ("arbitrum", "sepolia"): (421_614, "arbitrum-sepolia"),
    ("arbitrum", "mainnet"): (42_161, "arbitrum"),
}
DEFAULT_PROVIDER = {"local": "foundry"}
DEV_NODES = ("anvil/", "hardhatnetwork/", "ganache/")


@dataclass(frozen=True, slots=True)
class Target:
    ecosystem: str
    network: str  # as Ape names it, e.g. "sepolia-fork"
    provider: str
    base_network: str  # without "-fork"
    chain_id: int | None  # expected; None: any (local)
    params_name: str
    fork: bool

    @property
    def local(self) -> bool:
        return self.base_network == "local"

    @property
    def live(self) -> bool:
        """A real network: money is spent, so the deploy asks before it starts."""
        return not self.local and not self.fork

    @property
    def choice(self) -> str:
        return f"{self.ecosystem}:{self.network}:{self.provider}"

    @property
    def rpc_env(self) -> str:
        return f"WATTNET_RPC_{self.ecosystem}_{self.base_network}".upper().replace("-", "_")

    def record_path(self, root: Path) -> Path:
        return root / "deployments" / self.ecosystem / f"{self.network}.json"


def resolve_target(choice: str) -> Target:
    """``ecosystem:network[:provider]`` -> Target; unknown networks are a one-line error."""
    parts = choice.split(":")
    if len(parts) not in (2, 3) or not all(parts):
        raise ConfigError(f"--network {choice!r}: expected ecosystem:network[:provider], e.g. "
                          "arbitrum:sepolia:node")
    eco, net = parts[0], parts[1]
    fork = net.endswith("-fork")
    base = net.removesuffix("-fork")
    if (eco, base) not in KNOWN:
        known = ", ".join(f"{e}:{n}" for e, n in KNOWN)
        raise ConfigError(f"--network {choice!r} is not a WattNet network (known: {known}, "
                          "each also as <network>-fork)")
    chain_id, params_name = KNOWN[(eco, base)]
    provider = parts[2] if len(parts) == 3 else (
        "foundry" if fork or base == "local" else "node")
    if fork and provider != "foundry":
        raise ConfigError(f"--network {choice!r}: forks run on the foundry provider")
    return Target(eco, net, provider, base, chain_id, params_name, fork)


def load_env(root: Path) -> None:
    """Read ``<root>/.env`` into the environment (values already set win)."""
    from dotenv import load_dotenv

    load_dotenv(root / ".env", override=False)


def _need(env: Mapping[str, str], name: str, what: str) -> str:
    value = env.get(name, "").strip()
    if not value:
        raise ConfigError(f"${name} is not set: {what} (set it in the environment or .env)")
    return value


def _address(env: Mapping[str, str], name: str, what: str, default: Any = None) -> str:
    if default is not None and not env.get(name, "").strip():
        return str(getattr(default, "address", default))
    value = _need(env, name, what)
    if not is_address(value):
        raise ConfigError(f"${name}={value!r} is not an address ({what})")
    return to_checksum_address(value)


def rpc_url(target: Target, env: Mapping[str, str]) -> str:
    return _need(env, target.rpc_env, f"the RPC URL of {target.ecosystem}:{target.base_network}")


def deployer_account(target: Target, env: Mapping[str, str], accounts: Any) -> Any:
    """``$WATTNET_DEPLOYER_KEY`` (a signer kept in memory), else the Ape account named by
    ``$WATTNET_DEPLOYER``, else on local chains Ape's test account 0."""
    key = env.get("WATTNET_DEPLOYER_KEY", "").strip().removeprefix("0x")
    if key:
        from ape_accounts.accounts import ApeSigner

        if len(key) != 64 or any(c not in "0123456789abcdefABCDEF" for c in key):
            raise ConfigError("$WATTNET_DEPLOYER_KEY is not a private key (64 hex digits)")
        return ApeSigner(private_key="0x" + key)
    alias = env.get("WATTNET_DEPLOYER", "").strip()
    if alias:
        try:
            return accounts.load(alias)
        except Exception:
            raise ConfigError(f"$WATTNET_DEPLOYER={alias!r}: no such Ape account "
                              "(see `ape accounts list`)") from None
    if target.local:
        return accounts.test_accounts[0]
    raise ConfigError("no deployer: set $WATTNET_DEPLOYER_KEY (hex private key) or "
                      "$WATTNET_DEPLOYER (an Ape account alias)")


@dataclass(frozen=True, slots=True)
class Holders:
    guardian: str
    oracle: str
    treasury: str
    stablecoins: dict[str, str] | None  # None: deploy mocks


def holders_from_env(target: Target, env: Mapping[str, str], accounts: Any,
                     symbols: list[str], collect: list[str] | None = None) -> Holders:
    """The addresses of the deploy; ``collect``: append every problem there (and return
    placeholders) instead of raising at the first."""
    test = accounts.test_accounts if target.local else None

    def pick(name: str, what: str, default: Any) -> str:
        try:
            return _address(env, f"WATTNET_{name}", what, default)
        except ConfigError as exc:
            if collect is None:
                raise
            collect.append(str(exc).removesuffix(" (set it in the environment or .env)"))
            return ""

    def holder(name: str, what: str, index: int) -> str:
        return pick(name, what, test[index] if test is not None else None)

    guardian = holder("GUARDIAN", "the guardian multisig (pause only)", 8)
    oracle = holder("ORACLE_ADDRESS", "the oracle's key (ORACLE_ROLE)", 6)
    treasury = holder("TREASURY", "the treasury payee", 1)
    coins: dict[str, str] | None = None
    given = {s: env.get(f"WATTNET_STABLECOIN_{s.upper()}", "").strip() for s in symbols}
    if not target.local or any(given.values()):
        coins = {s: pick(f"STABLECOIN_{s.upper()}", f"the {s} token listed as a credit", None)
                 for s in symbols}
    return Holders(guardian, oracle, treasury, coins)


def check_env(target: Target, env: Mapping[str, str], accounts: Any,
              symbols: list[str]) -> None:
    """Every missing or malformed variable at once, as one line (not one per run)."""
    problems: list[str] = []
    checks: list[Any] = [lambda: deployer_account(target, env, accounts),
                         lambda: holders_from_env(target, env, accounts, symbols, collect=problems),
                         lambda: confirmations(env)]
    if not target.local:
        checks.insert(0, lambda: rpc_url(target, env))
    for check in checks:
        try:
            check()
        except ConfigError as exc:
            problems.append(str(exc).removesuffix(" (set it in the environment or .env)"))
    if len(problems) == 1:
        raise ConfigError(problems[0] + (" (set it in the environment or .env)"
                                         if "is not set" in problems[0] else ""))
    if problems:
        raise ConfigError(f"{len(problems)} problems with the environment: "
                          + "; ".join(problems) + " (set them in the environment or .env)")


def confirmations(env: Mapping[str, str], client_version: str = "") -> dict[str, int]:
    """Extra transaction kwargs: ``required_confirmations`` when set in the environment; else 0
    on a local development node (anvil, Hardhat, Ganache mine one block per transaction and
    none after it, so waiting for one confirmation would wait forever)."""
    raw = env.get("WATTNET_DEPLOY_CONFIRMATIONS", "").strip()
    if not raw:
        return {"required_confirmations": 0} if is_dev_node(client_version) else {}
    if not raw.isdigit():
        raise ConfigError(f"$WATTNET_DEPLOY_CONFIRMATIONS={raw!r} must be a whole number")
    return {"required_confirmations": int(raw)}


def is_dev_node(client_version: str) -> bool:
    """A local development node (``web3_clientVersion``), which mines only on demand."""
    return client_version.lower().startswith(DEV_NODES)


def environ() -> dict[str, str]:
    return dict(os.environ)
