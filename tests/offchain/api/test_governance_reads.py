"""The DAO page's decoded calls: a proposal's call named by the deployment's contract and the
setter's arguments; a call to an unknown address or setter stays raw, never guessed."""

from __future__ import annotations

from eth_abi.abi import encode

from wattnet.governance.records import describe_calldata
from wattnet.governance.table import selector

STAKING = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
CONTRACTS = {"OperatorStaking": STAKING}


def test_describe_calldata__names_the_contract_and_decodes_the_setter() -> None:
    data = selector("setUnbondingDelay(uint256)") + encode(["uint256"], [7200])
    assert describe_calldata(CONTRACTS, STAKING.lower(), data) == \
        "OperatorStaking.setUnbondingDelay(7200)"


def test_describe_calldata__unknown_target_and_selector_stay_raw() -> None:
    other = "0x" + "ab" * 20
    data = bytes.fromhex("deadbeef") + encode(["uint256"], [1])
    assert describe_calldata(CONTRACTS, other, data) == f"{other} 0x{data.hex()}"
