"""What a driver lets stations do, set from the app against a real chain: the mandate (set,
a lowering refused decoded before the wallet is asked, revoked), every-station consent, the
referrer (and cancelling in the wallet), binding and unbinding an RFID card; redeeming credits
(requested, refused while locked, cancelled, paid out after the delay). Each change is read back
from the chain, not from the page."""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address
from web3 import HTTPProvider, Web3

from wattnet.api.devnet import OPERATOR
from wattnet.chain.deployments import load_abi
from wattnet.domain import id_token_hash

from .pages import screenshot
from .stack import DRIVER, Network
from .test_app import connect, serious_axe_violations
from .wallet import InjectedWallet

REFERRER = "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc"  # anvil dev account 5
CARD = "04A2B3C4D5"
BALANCE_OF = [{"name": "balanceOf", "type": "function", "stateMutability": "view",
               "inputs": [{"name": "a", "type": "address"}],
               "outputs": [{"name": "", "type": "uint256"}]}]


def _ledger(net: Network) -> Any:
    w3 = Web3(HTTPProvider(net.rpc_url))
    return w3.eth.contract(address=to_checksum_address(net.deployment.address("EnergyCredits")),
                           abi=load_abi("EnergyCredits"))


def _done(page: Any, what: str) -> None:
    page.wait_for_function(
        "([t]) => document.getElementById('status').textContent.startsWith(t + ': done in') || "
        "document.getElementById('error').textContent.length > 0", arg=[what], timeout=60_000)
    assert page.locator("#error").inner_text() == "", page.locator("#error").inner_text()


def test_driver_settings__mandate_consent_referrer_and_card_from_the_app(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    ledger = _ledger(network)
    driver = to_checksum_address(DRIVER)
    connect(page, app_url)
    page.wait_for_selector("#settings-section:not([hidden])")
    assert "No mandate" in page.locator("#mandate-text").inner_text()

    page.fill("#mandate-session", "20")
    page.fill("#mandate-daily", "100")
    page.click("#mandate-button")
    _done(page, "Setting your mandate")
    per, day, until = ledger.functions.mandateOf(driver, 1).call()
    assert (per, day, until) == (20 * 10**6, 100 * 10**6, 0)
    text = page.locator("#mandate-text").inner_text()
    assert "up to 20 USDC a session and 100 USDC a day" in text, text

    sent = wallet.calls.count("eth_sendTransaction")
    page.fill("#mandate-session", "10")  # lowering an open mandate: refused by the contract
    page.click("#mandate-button")
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert "CreditsMandateDecrease" in page.locator("#error").inner_text()
    assert wallet.calls.count("eth_sendTransaction") == sent  # never signed

    page.click("#any-station")
    _done(page, "Letting every station charge you")
    assert ledger.functions.accountOf(driver, 1).call()[3] is True  # Account.anyStation
    assert "Every station may charge you" in page.locator("#any-text").inner_text()

    # one operator by name (the devnet's stations share one): allowed, then withdrawn
    operator = to_checksum_address(OPERATOR)
    assert "WEB-CP-1, WEB-CP-2" in page.locator("#consent-operator option").first.inner_text()
    page.select_option("#consent-operator", operator)
    page.click("#consent-form button[type=submit]")
    _done(page, "Allowing this operator's stations")
    assert ledger.functions.consentOf(driver, operator).call() is True
    assert operator[:10] in page.locator("#consent-text").inner_text()
    page.click("#consent-withdraw")
    _done(page, "Withdrawing this operator's consent")
    assert ledger.functions.consentOf(driver, operator).call() is False
    assert "no operator" in page.locator("#consent-text").inner_text()

    wallet.reject_signing = True
    page.fill("#referrer", REFERRER)
    page.click("#referrer-form button[type=submit]")
    page.wait_for_selector("#error:has-text('You cancelled the request in your wallet.')")
    assert ledger.functions.referrerOf(driver).call() == "0x" + "00" * 20
    wallet.reject_signing = False
    page.click("#referrer-form button[type=submit]")
    _done(page, "Choosing your referrer")
    assert ledger.functions.referrerOf(driver).call() == REFERRER

    page.fill("#card", CARD.lower())
    page.click("#bind")
    _done(page, "Binding your card")
    assert ledger.functions.driverOfIdToken(id_token_hash(CARD)).call() == driver
    page.click("#unbind")
    _done(page, "Unbinding your card")
    assert ledger.functions.driverOfIdToken(id_token_hash(CARD)).call() == "0x" + "00" * 20

    page.click("#revoke")
    _done(page, "Revoking your mandate")
    assert ledger.functions.mandateOf(driver, 1).call()[2] > 0
    assert page.locator("#mandate-text").inner_text().startswith("Revoked: stations may charge")
    assert page.locator("#revoke").is_hidden()
    screenshot(page, "driver-settings")
    assert serious_axe_violations(page) == []


def test_driver_redemption__request_locked_cancel_then_paid_out_after_the_delay(
        page: Any, app_url: str, network: Network, wallet: InjectedWallet) -> None:
    ledger = _ledger(network)
    driver = to_checksum_address(DRIVER)
    connect(page, app_url)
    page.fill("#buy-amount", "10")
    page.click("#buy-button")
    page.wait_for_function("document.getElementById('status').textContent"
                           ".startsWith('Credits bought in')", timeout=60_000)
    credits = int(ledger.functions.balanceOf(driver, 1).call())
    page.wait_for_selector("#redemption:not([hidden])")
    assert page.locator("#redemption-text").inner_text() == "No redemption pending."

    page.fill("#redeem-amount", "4")
    page.click("#redeem-button")
    _done(page, "Requesting a redemption")
    assert ledger.functions.redemptionOf(driver, 1).call()[0] == 4 * 10**6
    assert ledger.functions.balanceOf(driver, 1).call() == credits - 4 * 10**6
    assert "4 USDC being redeemed: paid out from" in page.locator("#redemption-text").inner_text()

    sent = wallet.calls.count("eth_sendTransaction")
    page.click("#redeem-complete")  # too early: refused, decoded, never signed
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert "CreditsRedemptionLocked" in page.locator("#error").inner_text()
    assert wallet.calls.count("eth_sendTransaction") == sent

    page.click("#redeem-cancel")
    _done(page, "Cancelling your redemption")
    assert ledger.functions.redemptionOf(driver, 1).call()[0] == 0
    assert ledger.functions.balanceOf(driver, 1).call() == credits

    page.fill("#redeem-amount", "4")
    page.click("#redeem-button")
    _done(page, "Requesting a redemption")
    w3 = Web3(HTTPProvider(network.rpc_url))
    delay = int(ledger.functions.timing().call()[0])
    w3.provider.make_request("evm_increaseTime", [delay + 60])
    w3.provider.make_request("evm_mine", [])
    token = w3.eth.contract(address=to_checksum_address(ledger.functions.tokenOf(1).call()),
                            abi=BALANCE_OF)
    usd = int(token.functions.balanceOf(driver).call())
    connect(page, app_url)  # a fresh look at the chain, its clock moved on
    page.wait_for_selector("#redemption-text:has-text('ready to be paid out')")
    page.click("#redeem-complete")
    _done(page, "Paying out your redemption")
    assert ledger.functions.redemptionOf(driver, 1).call()[0] == 0
    assert int(token.functions.balanceOf(driver).call()) == usd + 4 * 10**6
    assert page.locator("#redemption-text").inner_text() == "No redemption pending."
    screenshot(page, "driver-redemption")
    assert serious_axe_violations(page) == []
