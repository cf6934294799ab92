"""WattToken: capped mint by MINTER_ROLE only, burn, timestamp clock for votes."""

from __future__ import annotations

from typing import Any

import ape
import pytest

from wattnet.chain import roles
from wattnet.chain.deploy import WAD


@pytest.fixture
def minter(watt: Any, governor: Any) -> Any:
    watt.grantRole(roles.MINTER_ROLE, governor, sender=governor)
    return governor


def test_genesis_supply__goes_to_treasury_within_cap(watt: Any, treasury: Any, config: Any) -> None:
    assert watt.totalSupply() == config.genesis_supply
    assert watt.balanceOf(treasury) == config.genesis_supply
    assert watt.cap() == config.cap


def test_mint__by_minter_adds_exact_amount(watt: Any, minter: Any, driver: Any) -> None:
    supply = watt.totalSupply()
    tx = watt.mint(driver, 7 * WAD, sender=minter)
    assert watt.balanceOf(driver) == 7 * WAD
    assert watt.totalSupply() == supply + 7 * WAD
    [log] = tx.decode_logs(watt.Transfer)
    assert log.to == driver.address
    assert log.value == 7 * WAD


def test_mint__up_to_cap_exactly_succeeds(watt: Any, minter: Any, driver: Any) -> None:
    room = watt.cap() - watt.totalSupply()
    watt.mint(driver, room, sender=minter)
    assert watt.totalSupply() == watt.cap()


def test_mint__above_cap_reverts_watt_cap_exceeded(watt: Any, minter: Any, driver: Any) -> None:
    supply = watt.totalSupply()
    room = watt.cap() - supply
    with ape.reverts(watt.WattCapExceeded, supply=supply, amount=room + 1, cap=watt.cap()):
        watt.mint(driver, room + 1, sender=minter)
    assert watt.totalSupply() == supply


def test_mint__by_non_minter_reverts_unauthorized(watt: Any, attacker: Any) -> None:
    with ape.reverts(watt.AccessControlUnauthorizedAccount, account=attacker.address,
                     neededRole=roles.MINTER_ROLE):
        watt.mint(attacker, 1, sender=attacker)


def test_constructor__genesis_above_cap_reverts(project: Any, governor: Any, treasury: Any) -> None:
    with ape.reverts(project.WattToken.WattCapExceeded, supply=0, amount=11, cap=10):
        project.WattToken.deploy(governor, 10, treasury, 11, sender=governor)


def test_burn__reduces_balance_and_supply_and_frees_cap_room(watt: Any, treasury: Any) -> None:
    supply = watt.totalSupply()
    bal = watt.balanceOf(treasury)
    tx = watt.burn(3 * WAD, sender=treasury)
    assert watt.balanceOf(treasury) == bal - 3 * WAD
    assert watt.totalSupply() == supply - 3 * WAD
    [log] = tx.decode_logs(watt.Transfer)
    assert log["from"] == treasury.address
    assert log.value == 3 * WAD


def test_burn__more_than_balance_reverts(watt: Any, driver: Any) -> None:
    with ape.reverts(watt.ERC20InsufficientBalance, sender=driver.address, balance=0, needed=1):
        watt.burn(1, sender=driver)


def test_clock__is_block_timestamp(watt: Any, chain: Any) -> None:
    assert watt.CLOCK_MODE() == "mode=timestamp"
    assert watt.clock() == chain.blocks.head.timestamp


def test_votes__follow_delegation_with_timestamp_checkpoints(watt: Any, treasury: Any,
                                                             driver: Any, chain: Any) -> None:
    watt.transfer(driver, 5 * WAD, sender=treasury)
    watt.invoke_transaction("delegate", driver, sender=driver)
    assert watt.getVotes(driver) == 5 * WAD
    t = chain.blocks.head.timestamp
    chain.pending_timestamp = t + 10
    chain.mine()
    assert watt.getPastVotes(driver, t) == 5 * WAD
    assert watt.getPastVotes(driver, t - 1) == 0
