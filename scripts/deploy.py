"""``ape run deploy --network <ecosystem>:<network>:<provider>``: deploy and wire the protocol and
write ``deployments/<ecosystem>/<network>.json``, the record the services read.

Local networks deploy with Ape's test account 0 and also list a MockStablecoin (6 decimals) as
credit id 1. Elsewhere the deployer is the Ape account named by ``$WATTNET_DEPLOYER``.
``$WATTNET_TREASURY`` (default: the deployer) is the treasury payee; ``$WATTNET_ORACLE_ADDRESS``,
if set, gets ORACLE_ROLE. Handing the admin roles to the timelock is a separate governance step.
"""

from __future__ import annotations

import os
from typing import Any

from ape import accounts, chain, networks, project

from wattnet.chain import roles
from wattnet.chain.deploy import deploy_protocol
from wattnet.chain.deployments import Deployment, compiler_version, git_commit, save_deployment


def main() -> None:
    network = networks.provider.network
    local = network.name == "local"
    if local:
        deployer: Any = accounts.test_accounts[0]
    else:
        deployer = accounts.load(os.environ["WATTNET_DEPLOYER"])
    treasury = os.environ.get("WATTNET_TREASURY", deployer.address)
    protocol = deploy_protocol(project, deployer, treasury,
                               genesis=int(chain.blocks.head.timestamp))
    contracts = protocol.as_dict()
    oracle = os.environ.get("WATTNET_ORACLE_ADDRESS")
    if oracle:
        protocol.credits.grantRole(roles.ORACLE_ROLE, oracle, sender=deployer)
    if local:
        usdc = project.MockStablecoin.deploy("USD Coin", "USDC", 6, sender=deployer)
        protocol.credits.listCredit(usdc, sender=deployer)
        contracts["MockStablecoin"] = usdc
    record = Deployment(
        ecosystem=network.ecosystem.name, network=network.name, chain_id=int(chain.chain_id),
        block=int(chain.blocks.head.number),
        contracts={name: c.address for name, c in contracts.items()},
        tx_hashes={name: str(c.txn_hash) for name, c in contracts.items()
                   if getattr(c, "txn_hash", None)},
        compiler=compiler_version(), git_commit=git_commit(),
    )
    path = save_deployment(record)
    print(f"deployed to chain {record.chain_id}; record written to {path}")
    for name, address in record.contracts.items():
        print(f"  {name:16} {address}")
