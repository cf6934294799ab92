"""A station operator's keys and earnings against a real chain (the devnet's operator, anvil dev
account 3): the station's signing key rotated from the page to a key the test holds (the page
shows the binding, the key signs it here as a keystore would; another key's signature refused
before the wallet is asked, a key another station uses refused by the registry, decoded), the
meter key set (a point off the curve refused first); then a session that key signed, with the
meter's signed readings committed, is settled through the real contracts (tests/web/settle.py),
and the payout is withdrawn and, once the epoch closed and its challenge window passed, the
WATT rewards are claimed from the page. Each change read back from the chain."""

from __future__ import annotations

import json
from typing import Any

import pytest
from eth_account import Account
from eth_utils.address import to_checksum_address
from web3 import HTTPProvider, Web3

from wattnet.api.devnet import OPERATOR
from wattnet.domain import station_id_for
from wattnet.sim.chargepoint.meter import SimMeter

from .chain import contract, move_time, refused
from .pages import screenshot
from .settle import CREDIT, settle_session
from .stack import STATIONS, Network
from .test_app import connect, serious_axe_violations
from .test_driver_settings import BALANCE_OF, _done
from .wallet import InjectedWallet


@pytest.fixture
def wallet(network: Network) -> InjectedWallet:  # the page's wallet: the operator's
    return InjectedWallet(network.rpc_url, OPERATOR)


def _signed_binding(page: Any, signer: Any) -> str:
    typed = json.loads(page.locator("#keys-binding").inner_text())
    return "0x" + bytes(Account.sign_typed_data(signer.key, full_message=typed).signature).hex()


def test_operator_keys__rotate_settle_withdraw_payout_and_claim_watt_from_the_app(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    w3 = Web3(HTTPProvider(network.rpc_url))
    registry = contract(w3, network, "StationRegistry")
    rewards = contract(w3, network, "RewardsEngine")
    ledger = contract(w3, network, "EnergyCredits")
    usd = w3.eth.contract(address=ledger.functions.tokenOf(CREDIT).call(), abi=BALANCE_OF)
    watt = contract(w3, network, "WattToken", BALANCE_OF)
    operator = to_checksum_address(OPERATOR)
    cp, other = STATIONS[1][0], STATIONS[0][0]
    sid = station_id_for(cp)
    key, meter = Account.create(), SimMeter.signing("WEB-METER-2")

    connect(page, app_url)
    page.wait_for_selector("#operator-section:not([hidden])")
    page.select_option("#keys-station", label=cp)
    old = registry.functions.getStation(sid).call()[6]
    assert old in page.locator("#keys-current").inner_text()
    page.fill("#keys-signer", key.address)
    page.fill("#keys-signature", _signed_binding(page, Account.create()))  # not the new key's
    refused(page, wallet, "#rotate-signer", f"not from the station's signing key {key.address}")
    page.fill("#keys-signature", _signed_binding(page, key))
    page.click("#rotate-signer")
    _done(page, "Rotating the signing key")
    assert registry.functions.getStation(sid).call()[6] == key.address
    page.wait_for_selector(f"#keys-current:has-text('{key.address}')")

    page.select_option("#keys-station", label=other)  # the same key for a second station
    page.fill("#keys-signer", key.address)
    page.fill("#keys-signature", _signed_binding(page, key))
    refused(page, wallet, "#rotate-signer", "RegistrySignerInUse")

    page.select_option("#keys-station", label=cp)
    xy = meter.public_key_xy_hex()
    page.fill("#keys-meter", xy[:-1] + ("1" if xy[-1] != "1" else "2"))  # off the curve
    refused(page, wallet, "#set-meter-key", "not a point of the P-256 curve")
    page.fill("#keys-meter", meter.public_key_der_hex())
    page.click("#set-meter-key")
    _done(page, "Setting the meter key")
    assert bytes(registry.functions.meterPublicKey(sid).call()).hex() == xy

    # a session the new key signed, with the meter's signed readings, settled on chain
    epoch = rewards.functions.currentEpoch().call()
    settled = settle_session(network, sid, key, meter, energy_wh=20_000)
    assert settled.operator_share > 0
    owed = ledger.functions.owed(operator, CREDIT).call()
    connect(page, app_url)
    page.wait_for_selector("#operator-section:not([hidden])")
    usd_before = usd.functions.balanceOf(operator).call()
    page.click("#withdraw-payout")
    _done(page, "Withdrawing your payouts")
    assert usd.functions.balanceOf(operator).call() == usd_before + owed
    assert ledger.functions.owed(operator, CREDIT).call() == 0

    # the epoch closes, its challenge window passes: the rewards leave escrow
    now = w3.eth.get_block("latest")["timestamp"]
    move_time(w3, rewards.functions.claimableAt(epoch).call() - now + 60)
    assert rewards.functions.currentEpoch().call() == epoch + 1
    due = rewards.functions.claimable(sid, epoch).call()
    assert due > 0
    connect(page, app_url)
    page.wait_for_selector("#escrow-text:has-text('out of escrow')")
    assert page.locator("#escrow-text").inner_text().startswith(f"Epoch {epoch}:")
    watt_before = watt.functions.balanceOf(operator).call()
    page.click("#claim-rewards")
    _done(page, "Claiming WATT rewards")
    assert watt.functions.balanceOf(operator).call() == watt_before + due
    assert rewards.functions.claimable(sid, epoch).call() == 0
    screenshot(page, "operator-keys")
    assert serious_axe_violations(page) == []
