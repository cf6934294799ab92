"""Deploy the protocol for a network simulation, with the project's deploy code and Ape, onto a
node that is already running (ours): ``python -m wattnet.sim.network.deploy URL PARAMS OUT``.

It runs in its own process so the simulator never imports Ape (a second or two, its own signal
handling and node management); ape-foundry reuses the node at ``APE_FOUNDRY_HOST``. Parameters
come from ``params/<network>.yaml`` (shares, delays, tariff bounds, region multipliers, emission
schedule); a 6-decimal MockStablecoin is listed as credit id 1 and the simulator's oracle gets
ORACLE_ROLE. The deployment record (``wattnet.chain.deployments``) is written to OUT.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any

from wattnet.chain.deploy import DeployConfig, Phase
from wattnet.params import Params, SlashDestination, load_params, to_wei


def deploy_config(params: Params) -> DeployConfig:
    """The contracts' constructor arguments for ``params`` (on-chain units)."""
    phases, start = [], 0
    for p in params.rewards.phases:
        phases.append(Phase(start, start + p.epochs, p.decay_bps, to_wei(p.emission_per_epoch)))
        start += p.epochs
    s, st = params.settlement, params.staking
    return DeployConfig(
        cap=to_wei(params.token.cap),
        genesis_supply=to_wei(params.rewards.genesis_supply),
        min_stake_per_station=to_wei(st.min_stake_per_station),
        unbonding_delay=st.unbonding_delay,
        equivocation_slash=to_wei(st.equivocation_slash),
        equivocation_bounty_bps=st.equivocation_bounty_bps,
        slash_to_burn=st.slash_destination == SlashDestination.BURN,
        redemption_delay=params.credits.redemption_delay,
        max_settlement_delay=s.max_settlement_delay,
        max_session_duration=s.max_session_duration,
        min_tariff_per_kwh=params.registry.min_tariff_per_kwh,
        max_tariff_per_kwh=params.registry.max_tariff_per_kwh,
        operator_share_bps=s.operator_share_bps,
        referrer_share_bps=s.referrer_share_bps,
        station_epoch_cap_bps=params.rewards.station_epoch_cap_bps,
        phases=tuple(phases),
        region_multipliers=params.registry.region_multipliers,
    )


def deploy(rpc_url: str, params_name: str, oracle: str, treasury: str, out: Path) -> None:
    os.environ["APE_FOUNDRY_HOST"] = rpc_url
    from ape import accounts, chain, networks, project
    from ape.logging import logger

    from wattnet.chain import roles
    from wattnet.chain.deploy import deploy_protocol
    from wattnet.chain.deployments import Deployment, compiler_version, git_commit

    logger.set_level("ERROR")
    params = load_params(params_name)
    with networks.parse_network_choice("ethereum:local:foundry"):
        deployer: Any = accounts.test_accounts[0]
        protocol = deploy_protocol(project, deployer, treasury, deploy_config(params),
                                   genesis=int(chain.blocks.head.timestamp))
        protocol.credits.grantRole(roles.ORACLE_ROLE, oracle, sender=deployer)
        usdc = project.MockStablecoin.deploy("USD Coin", "USDC", 6, sender=deployer)
        protocol.credits.listCredit(usdc, sender=deployer)
        contracts = {**protocol.as_dict(), "MockStablecoin": usdc}
        record = Deployment(
            ecosystem="ethereum", network="local", chain_id=int(chain.chain_id),
            block=int(chain.blocks.head.number),
            contracts={name: c.address for name, c in contracts.items()},
            tx_hashes={name: str(c.txn_hash) for name, c in contracts.items()
                       if getattr(c, "txn_hash", None)},
            compiler=compiler_version(), git_commit=git_commit(),
        )
    out.write_text(json.dumps(record.to_json(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":  # pragma: no cover - run by the simulator as a subprocess
    url, params_arg, oracle_arg, treasury_arg, out_arg = sys.argv[1:6]
    deploy(url, params_arg, oracle_arg, treasury_arg, Path(out_arg))
