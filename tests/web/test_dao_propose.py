"""Proposing from the DAO page against a real chain (the governed deploy): a governed parameter
picked, its bounds and value on chain shown; a value outside the bounds refused before the
wallet is asked; a member below the proposal threshold refused by the governor, decoded; then,
with enough votes delegated, the proposal sent from the wallet, listed on the page with its
decoded call, and found on chain under the id the governor derives from the calls the server
encoded (wattnet.governance.table, as ``wattnet params propose`` encodes them)."""

from __future__ import annotations

from typing import Any

import pytest
from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import HTTPProvider, Web3

from .chain import contract, fund_watt, move_time, refused
from .pages import screenshot
from .stack import Network
from .test_app import connect, serious_axe_violations
from .test_driver_settings import _done
from .wallet import InjectedWallet

MEMBER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # anvil dev account 5: no WATT yet
WATT = 10**18
DESCRIPTION = "Unbonding delay one hour longer (web propose test)"


@pytest.fixture
def wallet(network: Network) -> InjectedWallet:
    return InjectedWallet(network.rpc_url, MEMBER)


def test_dao__propose_a_parameter_change_from_the_app(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    w3 = Web3(HTTPProvider(network.rpc_url))
    gov = contract(w3, network, "WattGovernor")
    staking = contract(w3, network, "OperatorStaking")
    token = contract(w3, network, "WattToken")
    member = to_checksum_address(MEMBER)
    new_delay = staking.functions.unbondingDelay().call() + 3_600

    connect(page, app_url)
    page.wait_for_selector("#propose-form:not([hidden])")
    page.select_option("#propose-key", "staking.unbonding_delay")
    bounds = page.locator("#propose-bounds").inner_text()
    assert "OperatorStaking.setUnbondingDelay" in bounds and "3600..7776000 s" in bounds, bounds
    page.fill("#propose-description", DESCRIPTION)
    page.fill("#propose-value", "30m")
    refused(page, wallet, "#propose-button", "outside its bounds 3600..7776000 s")
    page.fill("#propose-value", str(new_delay))
    refused(page, wallet, "#propose-button", "GovernorInsufficientProposerVotes")

    threshold = gov.functions.proposalThreshold().call()
    fund_watt(w3, network, member, threshold + WATT)
    token.functions.delegate(member).transact({"from": member})
    move_time(w3, 1)  # the votes count from the next second on
    page.click("#propose-button")
    _done(page, "Proposing the change")

    call = keccak(text="setUnbondingDelay(uint256)")[:4] + encode(["uint256"], [new_delay])
    pid = gov.functions.hashProposal([staking.address], [0], [call],
                                     keccak(text=DESCRIPTION)).call()
    assert gov.functions.state(pid).call() == 0  # Pending: the governor has it
    row = page.locator(f"#proposals tr[data-proposal='{f'{pid:064x}'[:8]}']")
    row.wait_for()
    text = row.inner_text()
    assert DESCRIPTION in text and f"OperatorStaking.setUnbondingDelay({new_delay})" in text, text
    screenshot(page, "dao-propose")
    assert serious_axe_violations(page) == []
