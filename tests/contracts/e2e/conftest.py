"""End-to-end fixtures: the protocol deployed with Ape, its deployment record in a temporary
folder, and the services' view of it through plain web3 (the adapters under test).

The services find the chain the way they do in production: ``$WATTNET_RPC_URL`` (the anvil Ape
started) and ``$WATTNET_DEPLOYMENT`` (the record written here).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from wattnet.chain.deploy import DeployConfig, Protocol, local_config
from wattnet.chain.deployments import (
    ENV_DEPLOYMENT,
    Deployment,
    compiler_version,
    git_commit,
    save_deployment,
)
from wattnet.chain.web3_client import ENV_RPC_URL, ChainClient
from wattnet.oracle.config import BatcherConfig, OracleConfig, PlausibilityLimits

ORACLE_PASSPHRASE = "oracle-test-passphrase"


@pytest.fixture(scope="module")
def config() -> DeployConfig:
    """params/local.yaml with the day-long sessions and settlement windows, week-long unbonding
    and flat stake per station the end-to-end scenarios are written for (the file: an hour each,
    10 WATT per kW on top)."""
    return local_config({"settlement.max_settlement_delay": "3d",
                         "settlement.max_session_duration": "1d",
                         "credits.redemption_delay": "5d",
                         "staking.unbonding_delay": "7d", "staking.stake_per_kw": 0})
PASSPHRASE_ENV = "WATTNET_TEST_ORACLE_PASSPHRASE"


@pytest.fixture(scope="module")
def deployment(protocol: Protocol, usdc: Any, credit_id: int, chain: Any,
               tmp_path_factory: pytest.TempPathFactory) -> Iterator[Deployment]:
    """The record scripts/deploy.py writes, for the test chain, in a temporary folder; the
    environment points the services at it for the module's duration."""
    contracts = {**protocol.as_dict(), "MockStablecoin": usdc}
    dep = Deployment(
        ecosystem="ethereum", network="local", chain_id=int(chain.chain_id),
        block=int(chain.blocks.head.number),
        contracts={name: c.address for name, c in contracts.items()},
        tx_hashes={name: str(c.txn_hash) for name, c in contracts.items()
                   if getattr(c, "txn_hash", None)},
        compiler=compiler_version(), git_commit=git_commit(),
    )
    root = tmp_path_factory.mktemp("deployments")
    path = save_deployment(dep, root)
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv(ENV_DEPLOYMENT, str(path))
        mp.setenv(ENV_RPC_URL, chain.provider.uri)
        mp.setenv(PASSPHRASE_ENV, ORACLE_PASSPHRASE)
        yield dep


@pytest.fixture(scope="module")
def client(deployment: Deployment, chain: Any) -> ChainClient:
    return ChainClient(chain.provider.uri, deployment)


@pytest.fixture(scope="module")
def oracle_keystore(oracle: Any, tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("oracle-key") / "oracle.json"
    path.write_text(json.dumps(Account.encrypt(oracle.private_key, ORACLE_PASSPHRASE,
                                               kdf="scrypt", iterations=2**2)))
    return path


@pytest.fixture(scope="module")
def oracle_config(deployment: Deployment, oracle_keystore: Path,
                  tmp_path_factory: pytest.TempPathFactory) -> OracleConfig:
    return OracleConfig(
        chain_id=deployment.chain_id,
        settlement_contract=deployment.address("EnergyCredits"),
        database=str(tmp_path_factory.mktemp("oracle-db") / "oracle.db"),
        chain="wattnet.oracle.chain_web3:oracle_chain",
        directory="wattnet.oracle.chain_web3:station_directory",
        keystore=str(oracle_keystore), keystore_passphrase_env=PASSPHRASE_ENV,
        plausibility=PlausibilityLimits(), batcher=BatcherConfig(),
    )
