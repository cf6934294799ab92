"""The DAO page against a real chain (the governed deploy: WattGovernor, WattTimelock): the
governed parameters with their values and bounds, a member delegating to itself from the app,
a proposal (made here, as a member's script would) voted for from the app after a cancel in the
wallet, a second vote refused decoded before signing, then queued and executed from the app once
the governor allows; the parameter read back from the contract and shown changed."""

from __future__ import annotations

from typing import Any

from eth_abi.abi import encode
from eth_utils.address import to_checksum_address
from eth_utils.crypto import keccak
from web3 import HTTPProvider, Web3

from .chain import contract, fund_watt, move_time, refused
from .pages import screenshot
from .stack import DRIVER, Network
from .test_app import connect, serious_axe_violations
from .test_driver_settings import _done
from .wallet import InjectedWallet

WATT = 10**18
NEW_DELAY_S = 2 * 3600
DESCRIPTION = "Unbonding delay 2 h (web test)"


def _row(page: Any, short_id: str) -> Any:
    return page.locator(f"#proposals tr[data-proposal='{short_id}']")


def test_dao__parameters_delegate_vote_queue_execute_from_the_app(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    w3 = Web3(HTTPProvider(network.rpc_url))
    gov = contract(w3, network, "WattGovernor")
    staking = contract(w3, network, "OperatorStaking")
    token = contract(w3, network, "WattToken")
    member = to_checksum_address(DRIVER)
    fund_watt(w3, network, member, 20_000_000 * WATT)  # above the quorum (4 % of supply)

    connect(page, app_url)
    page.wait_for_selector("#parameters tbody tr")
    delay_row = page.locator("#parameters tr", has_text="staking.unbonding_delay")
    before = staking.functions.unbondingDelay().call()
    assert f"{before} s" in delay_row.inner_text()
    assert "OperatorStaking.setUnbondingDelay" in delay_row.inner_text()
    page.wait_for_selector("#dao-member:has-text('delegated to nobody')")

    page.click("#delegate-button")  # empty: to yourself
    _done(page, "Delegating your votes")
    assert token.functions.delegates(member).call() == member
    assert "delegated to yourself" in page.locator("#dao-member").inner_text()

    move_time(w3, 1)  # the votes count from the next second on
    call = keccak(text="setUnbondingDelay(uint256)")[:4] + encode(["uint256"], [NEW_DELAY_S])
    gov.functions.propose([staking.address], [0], [call], DESCRIPTION).transact({"from": member})
    pid = gov.functions.hashProposal([staking.address], [0], [call],
                                     keccak(text=DESCRIPTION)).call()
    short = f"{pid:064x}"[:8]
    connect(page, app_url)
    row = _row(page, short)
    row.wait_for()
    text = row.inner_text()
    assert "Pending" in text and "Voting from" in text and DESCRIPTION in text, text
    assert f"OperatorStaking.setUnbondingDelay({NEW_DELAY_S})" in text, text

    move_time(w3, gov.functions.votingDelay().call() + 1)
    connect(page, app_url)
    _row(page, short).get_by_role("button", name=f"Vote for proposal {short}").wait_for()
    wallet.reject_signing = True
    page.click(f"button[aria-label='Vote for proposal {short}']")
    page.wait_for_selector("#error:has-text('You cancelled the request in your wallet.')")
    assert gov.functions.hasVoted(pid, member).call() is False
    wallet.reject_signing = False
    page.click(f"button[aria-label='Vote for proposal {short}']")
    _done(page, "Voting for")
    assert gov.functions.hasVoted(pid, member).call() is True
    assert "(reached)" in _row(page, short).inner_text()
    refused(page, wallet, f"button[aria-label='Vote against proposal {short}']",
            "GovernorAlreadyCastVote")

    move_time(w3, gov.functions.proposalDeadline(pid).call()
              - w3.eth.get_block("latest")["timestamp"] + 1)
    connect(page, app_url)
    page.click(f"button[aria-label='Queue proposal {short}']")
    _done(page, "Queueing the proposal")
    assert gov.functions.state(pid).call() == 5  # Queued
    assert "executable from" in _row(page, short).inner_text()
    assert _row(page, short).get_by_role("button").count() == 0  # the timelock delay runs

    move_time(w3, gov.functions.proposalEta(pid).call()
              - w3.eth.get_block("latest")["timestamp"] + 1)
    connect(page, app_url)
    page.click(f"button[aria-label='Execute proposal {short}']")
    _done(page, "Executing the proposal")
    assert staking.functions.unbondingDelay().call() == NEW_DELAY_S
    assert "Executed" in _row(page, short).inner_text()
    page.wait_for_selector("#parameters tr:has-text('staking.unbonding_delay')"
                           f":has-text('{NEW_DELAY_S} s')")
    screenshot(page, "dao")
    assert serious_axe_violations(page) == []
