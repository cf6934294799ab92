"""Deploy the protocol for a network simulation with the project's governed deploy
(``wattnet.chain.deploy_plan.deploy_local_governed``: every contract, timelock and governor,
mock stablecoins per ``credits.stablecoins``, parameters from ``params/<network>.yaml``, roles
handed to the timelock) onto a node that is already running (ours):
``python -m wattnet.sim.network.deploy URL PARAMS OUT``.

It runs in its own process so the simulator never imports Ape (its start-up, signal handling
and node management); ape-foundry reuses the node at ``APE_FOUNDRY_HOST``. The deployment record
(``wattnet.chain.deployments``) is written to OUT. The simulator then grants its own oracle
ORACLE_ROLE through the timelock (anvil impersonates it), as on a snapshot of a live network.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path

from wattnet.params import load_params


def deploy(rpc_url: str, params_name: str, out: Path) -> None:
    os.environ["APE_FOUNDRY_HOST"] = rpc_url
    from ape import accounts, networks, project
    from ape.logging import logger

    from wattnet.chain.deploy_plan import deploy_local_governed

    logger.set_level("ERROR")
    with networks.parse_network_choice("ethereum:local:foundry"):
        gp = deploy_local_governed(project, accounts.test_accounts, load_params(params_name),
                                   record_path=out.with_name(out.stem + ".record.json"))
    out.write_text(json.dumps(gp.deployment.to_json(), indent=2, sort_keys=True) + "\n")


if __name__ == "__main__":  # pragma: no cover - run by the simulator as a subprocess
    url, params_arg, out_arg = sys.argv[1:4]
    deploy(url, params_arg, Path(out_arg))
