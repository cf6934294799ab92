"""A station operator's page against a real chain (the devnet's operator, anvil dev account 3,
staked for its two stations): stake more WATT (approve + stake), an unbond beyond the free stake
refused decoded before the wallet is asked, unbond with the clock shown, withdraw too early
refused, then withdrawn after the delay; a tariff change, then a second one inside the spacing
rule (shown before sending) refused decoded, then accepted once the rule allows; payouts and
WATT rewards refused decoded while nothing is owed or the epoch is in escrow; cancelling in the
wallet. Each change read back from the chain, not from the page."""

from __future__ import annotations

import json
from decimal import Decimal
from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from web3 import HTTPProvider, Web3

from wattnet.api.devnet import OPERATOR
from wattnet.domain import station_id_for
from wattnet.econ.findings import required_stake
from wattnet.econ.weight import station_kw

from .chain import contract, fund_watt, move_time, refused
from .pages import screenshot
from .stack import STATIONS, Network
from .test_app import connect, serious_axe_violations
from .test_driver_settings import BALANCE_OF, _done
from .wallet import InjectedWallet

WATT = 10**18


@pytest.fixture
def wallet(network: Network) -> InjectedWallet:  # the page's wallet: the operator's
    return InjectedWallet(network.rpc_url, OPERATOR)


def test_operator__stake_unbond_tariff_payouts_and_rewards_from_the_app(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    w3 = Web3(HTTPProvider(network.rpc_url))
    staking = contract(w3, network, "OperatorStaking")
    registry = contract(w3, network, "StationRegistry")
    token = contract(w3, network, "WattToken", BALANCE_OF)
    operator = to_checksum_address(OPERATOR)
    fund_watt(w3, network, operator, 10 * WATT)
    before = staking.functions.stakeOf(operator).call()[0]
    move_time(w3, registry.functions.tariffCooldown().call() + 60)  # any earlier change spaced

    connect(page, app_url)
    page.wait_for_selector("#operator-section:not([hidden])")
    assert page.locator("#operator-stations tbody tr").count() == len(STATIONS)
    assert "nothing is unbonding" in page.locator("#unbond-text").inner_text()

    page.fill("#stake-amount", "1")  # all of it bonds the two stations: refused
    refused(page, wallet, "#unbond-button", "StakingInsufficientStake")

    wallet.reject_signing = True
    page.fill("#stake-amount", "10")
    page.click("#stake-button")
    page.wait_for_selector("#error:has-text('You cancelled the request in your wallet.')")
    wallet.reject_signing = False
    page.click("#stake-button")
    _done(page, "Staking WATT")
    assert staking.functions.stakeOf(operator).call()[0] == before + 10 * WATT

    page.fill("#stake-amount", "4")
    page.click("#unbond-button")
    _done(page, "Requesting an unbond")
    active, unbonding, ends_at = staking.functions.stakeOf(operator).call()[:3]
    assert (active, unbonding) == (before + 6 * WATT, 4 * WATT)
    assert "4 WATT unbonding: withdrawable from" in page.locator("#unbond-text").inner_text()
    refused(page, wallet, "#withdraw-stake", "StakingUnbondingNotReady")

    # the spacing rule shown before sending: a change, then one inside the rule refused
    sid = station_id_for(STATIONS[0][0])
    page.select_option("#tariff-station", label=STATIONS[0][0])
    assert "It may change now" in page.locator("#tariff-rule").inner_text()
    page.fill("#tariff-price", "0.4")
    page.click("#tariff-button")
    _done(page, "Changing the tariff")
    assert registry.functions.tariffOf(sid, 1).call()[0] == 400_000
    assert "next change from" in page.locator("#tariff-rule").inner_text()
    page.fill("#tariff-price", "0.45")
    refused(page, wallet, "#tariff-button", "RegistryTariffCooldown")
    refused(page, wallet, "#withdraw-payout", "CreditsNothingOwed")

    # past the unbonding delay, the tariff spacing and the end of the first weekly epoch
    rewards = contract(w3, network, "RewardsEngine")
    now = w3.eth.get_block("latest")["timestamp"]
    cooldown = registry.functions.tariffCooldown().call()
    first_epoch_end = rewards.functions.genesis().call() + 7 * 86_400
    move_time(w3, max(now + cooldown, ends_at, first_epoch_end) - now + 60)
    connect(page, app_url)  # a fresh look at the chain, its clock moved on
    page.wait_for_selector("#unbond-text:has-text('ready to withdraw')")
    watt_before = token.functions.balanceOf(operator).call()
    page.click("#withdraw-stake")
    _done(page, "Withdrawing unbonded WATT")
    assert token.functions.balanceOf(operator).call() == watt_before + 4 * WATT
    assert "nothing is unbonding" in page.locator("#unbond-text").inner_text()

    page.select_option("#tariff-station", label=STATIONS[0][0])
    assert "It may change now" in page.locator("#tariff-rule").inner_text()
    page.fill("#tariff-price", "0.45")
    page.click("#tariff-button")
    _done(page, "Changing the tariff")
    assert registry.functions.tariffOf(sid, 1).call()[:2] == (450_000, 400_000)

    epoch = rewards.functions.currentEpoch().call() - 1
    escrow = page.locator("#escrow-text").inner_text()
    assert escrow.startswith(f"Epoch {epoch}: 0 WATT") and "in escrow until" in escrow, escrow
    refused(page, wallet, "#claim-rewards", "RewardsInChallengeWindow")
    screenshot(page, "operator")
    assert serious_axe_violations(page) == []


def test_operator__registers_a_station_its_own_signing_key_proved(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    """The binding the page shows is signed here with the station's key (as a keystore or a
    hardware signer would sign eth_signTypedData_v4's JSON); the page never sees the key."""
    w3 = Web3(HTTPProvider(network.rpc_url))
    staking = contract(w3, network, "OperatorStaking")
    registry = contract(w3, network, "StationRegistry")
    operator = to_checksum_address(OPERATOR)
    need = required_stake(1, station_kw(11_000), staking.functions.minStakePerStation().call(),
                          staking.functions.stakePerKw().call())
    fund_watt(w3, network, operator, need)
    key = Account.create()

    connect(page, app_url)
    page.wait_for_selector("#operator-section:not([hidden])")
    page.fill("#stake-amount", format(Decimal(need) / WATT, "f"))
    page.click("#stake-button")
    _done(page, "Staking WATT")

    def binding_signed_by(signer: Any) -> str:
        typed = json.loads(page.locator("#binding-data").inner_text())
        return "0x" + bytes(Account.sign_typed_data(signer.key, full_message=typed).signature).hex()

    page.fill("#reg-cp", STATIONS[0][0])  # taken: refused by the registry, decoded
    page.fill("#reg-signer", key.address)
    page.fill("#reg-power", "11")
    page.fill("#reg-geohash", "u33dc0b")
    page.fill("#reg-tariff", "0.3")
    page.fill("#reg-uri", "ipfs://wattnet-web/WEB-CP-3")
    page.fill("#reg-signature", binding_signed_by(key))
    refused(page, wallet, "#register-button", "RegistryStationExists")

    page.fill("#reg-cp", "WEB-CP-3")
    assert "WEB-CP-3" in page.locator("#binding-note").inner_text()
    page.fill("#reg-signature", binding_signed_by(Account.create()))  # not the signer's key
    refused(page, wallet, "#register-button", f"not from the station's signing key {key.address}")
    page.fill("#reg-signature", binding_signed_by(key))
    page.click("#register-button")
    _done(page, "Registering the station")
    st = registry.functions.getStation(station_id_for("WEB-CP-3")).call()
    assert (st[0], st[1], st[2], st[6]) == (operator, 11_000, 2, key.address)
    assert bytes(st[7]).rstrip(b"\0") == b"u33dc0b"
    assert registry.functions.tariffOf(station_id_for("WEB-CP-3"), 1).call()[0] == 300_000
    page.wait_for_selector("#operator-stations tr:has-text('WEB-CP-3')")
    screenshot(page, "operator-register")
    assert serious_axe_violations(page) == []
