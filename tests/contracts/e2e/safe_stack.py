"""Real Safe multisigs on the test chain: the singleton (SafeL2), the proxy factory and the
fallback handler deployed from the compiled artifacts of the npm package
@safe-global/safe-contracts (package.json), and a proxy set up with owners and a threshold, as
Safe's UI creates one."""

from __future__ import annotations

import json
from functools import cache
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[3]
ARTIFACTS = REPO / "node_modules" / "@safe-global" / "safe-contracts" / "build" / "artifacts" \
    / "contracts"
ZERO = "0x0000000000000000000000000000000000000000"


@cache
def container(rel: str) -> Any:
    """An Ape ContractContainer from a Hardhat artifact of the package."""
    from ape.contracts import ContractContainer
    from ethpm_types import ContractType

    path = ARTIFACTS / rel
    assert path.is_file(), f"{path} missing: install the npm packages (make setup / npm ci)"
    art = json.loads(path.read_text())
    return ContractContainer(ContractType.model_validate({
        "contractName": art["contractName"], "abi": art["abi"],
        "deploymentBytecode": {"bytecode": art["bytecode"]},
        "runtimeBytecode": {"bytecode": art["deployedBytecode"]}}))


def deploy_safe(deployer: Any, owners: list[Any], threshold: int, salt: int = 0) -> Any:
    """A Safe proxy (SafeL2 1.4.1) with these owners and threshold; returns it as a contract."""
    singleton = deployer.deploy(container("SafeL2.sol/SafeL2.json"))
    factory = deployer.deploy(container("proxies/SafeProxyFactory.sol/SafeProxyFactory.json"))
    handler = deployer.deploy(container(
        "handler/CompatibilityFallbackHandler.sol/CompatibilityFallbackHandler.json"))
    setup = singleton.setup.encode_input([o.address for o in owners], threshold, ZERO, b"",
                                         handler.address, ZERO, 0, ZERO)
    tx = factory.createProxyWithNonce(singleton.address, setup, salt, sender=deployer)
    proxy = tx.decode_logs(factory.ProxyCreation)[0].proxy
    return container("SafeL2.sol/SafeL2.json").at(proxy)
