"""Chain helpers for the browser tests: contracts of the deployment, anvil's clock, WATT from
the treasury (anvil impersonates it), and a refusal the page must show decoded before the
wallet is asked to sign."""

from __future__ import annotations

from typing import Any

from eth_utils.address import to_checksum_address
from web3 import Web3

from wattnet.chain.deployments import load_abi

from .stack import Network
from .wallet import InjectedWallet


def contract(w3: Web3, net: Network, name: str, abi: Any = None) -> Any:
    return w3.eth.contract(address=to_checksum_address(net.deployment.address(name)),
                           abi=abi or load_abi(name))


def move_time(w3: Web3, seconds: int) -> None:
    w3.provider.make_request("evm_increaseTime", [seconds])  # type: ignore[arg-type]
    w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]


def fund_watt(w3: Web3, net: Network, to: str, amount: int) -> None:
    """``amount`` WATT (wei) from the treasury, which the deploy gave the genesis supply."""
    treasury = contract(w3, net, "EnergyCredits").functions.treasury().call()
    w3.provider.make_request("anvil_impersonateAccount", [treasury])  # type: ignore[arg-type]
    contract(w3, net, "WattToken").functions.transfer(to_checksum_address(to), amount).transact(
        {"from": treasury})


def refused(page: Any, wallet: InjectedWallet, selector: str, error: str) -> None:
    """Clicking ``selector`` shows ``error`` decoded and never asks the wallet to sign."""
    sent = wallet.calls.count("eth_sendTransaction")
    page.click(selector)
    page.wait_for_function("document.getElementById('error').textContent.length > 0")
    assert error in page.locator("#error").inner_text(), page.locator("#error").inner_text()
    assert wallet.calls.count("eth_sendTransaction") == sent
