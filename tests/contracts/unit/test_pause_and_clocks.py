"""Pauses that end, and clocks a pause cannot run out (issue 11, items 1 and 8).

The attackers: a guardian that wants the ledger frozen for good, and a driver that wants to
escape a session it owes by waiting out a pause (lowering its caps, narrowing its consent, or
letting the receipt go stale).
"""

from __future__ import annotations

from typing import Any

import ape
import pytest

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import DeployConfig
from wattnet.domain import ZERO_ADDRESS, RejectReason


@pytest.fixture(scope="module")
def config(day_long_config: DeployConfig) -> DeployConfig:
    return day_long_config

DAY = 86_400
USDC = 10**6


def rejections(tx: Any, credits: Any) -> list[int]:
    return [int(log.reason) for log in tx.decode_logs(credits.ReceiptRejected)]


# ---------------------------------------------------------------- pauses end
def test_pause__expires_by_itself(credits: Any, guardian: Any, chain: Any, usdc: Any,
                                  driver: Any, credit_id: int) -> None:
    credits.pause(sender=guardian)
    ends = int(credits.pauseEndsAt())
    assert ends == chain.blocks.head.timestamp + int(credits.MAX_PAUSE())
    chain.pending_timestamp = ends - 1
    chain.mine()
    assert credits.paused()
    chain.pending_timestamp = ends
    chain.mine()
    assert not credits.paused()
    usdc.mint(driver, USDC, sender=driver)
    usdc.approve(credits, USDC, sender=driver)
    credits.buy(credit_id, USDC, driver, sender=driver)  # open again without any vote


def test_pause__the_guardian_cannot_chain_pauses(credits: Any, guardian: Any,
                                                 chain: Any) -> None:
    """Pause, let it expire, pause again at once: refused until the cooldown has passed."""
    credits.pause(sender=guardian)
    chain.pending_timestamp = int(credits.pauseEndsAt())
    again = int(credits.pauseEndsAt()) + int(credits.PAUSE_COOLDOWN())
    with ape.reverts(credits.CreditsPauseCoolingDown, at=again):
        credits.pause(sender=guardian)
    chain.pending_timestamp = again
    credits.pause(sender=guardian)
    assert credits.paused()
    assert credits.pausedTotal() == int(credits.MAX_PAUSE())


def test_pause__cooldown_also_follows_an_early_unpause(credits: Any, guardian: Any,
                                                       governor: Any, chain: Any) -> None:
    credits.pause(sender=guardian)
    chain.pending_timestamp += DAY
    credits.unpause(sender=governor)
    ended = chain.blocks.head.timestamp
    with ape.reverts(credits.CreditsPauseCoolingDown):
        credits.pause(sender=guardian)
    assert int(credits.pausableAgainAt()) == ended + int(credits.PAUSE_COOLDOWN())


def test_extend_pause__governance_only_and_bounded(credits: Any, guardian: Any, governor: Any,
                                                   chain: Any) -> None:
    with ape.reverts(credits.ExpectedPause):
        credits.extendPause(chain.pending_timestamp + DAY, sender=governor)
    credits.pause(sender=guardian)
    with ape.reverts(credits.AccessControlUnauthorizedAccount):
        credits.extendPause(chain.pending_timestamp + DAY, sender=guardian)
    too_far = chain.pending_timestamp + int(credits.MAX_PAUSE()) + 1
    with ape.reverts(credits.CreditsPauseOutOfBounds):
        credits.extendPause(too_far, sender=governor)
    chain.pending_timestamp += 10 * DAY
    target = chain.pending_timestamp + int(credits.MAX_PAUSE())
    credits.extendPause(target, sender=governor)
    chain.pending_timestamp = target - 1
    chain.mine()
    assert credits.paused()  # a vote can keep a real emergency paused past the first 14 days


# ---------------------------------------------------------------- clocks stop while paused
def test_stale__the_settlement_window_does_not_run_while_paused(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any, oracle: Any,
        guardian: Any, governor: Any, chain: Any) -> None:
    r = make_receipt(world, driver)
    credits.pause(sender=guardian)
    chain.pending_timestamp = r.end_time + 10 * DAY  # far past the 3-day window, all paused
    credits.unpause(sender=governor)
    tx = credits.settlePacked(pack_tuples([sign(r, world.key)]), sender=oracle)
    assert rejections(tx, credits) == []
    # ...but unpaused time still counts: the window is 3 days of it.
    chain.pending_timestamp += 2 * 3_600
    late = make_receipt(world, driver)  # ended after the pause
    chain.pending_timestamp = late.end_time + 3 * DAY + 1
    tx = credits.settlePacked(pack_tuples([sign(late, world.key)]), sender=oracle)
    assert rejections(tx, credits) == [int(RejectReason.STALE)]


def test_stale__only_the_paused_time_after_the_session_extends_its_window(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any, oracle: Any,
        guardian: Any, governor: Any, chain: Any) -> None:
    """A pause that began a day after the session ended and lasted a day (closed, so in the
    pause log) moves the session's deadline by that day, not by the unpaused day before it."""
    end = chain.pending_timestamp - 60
    on_time, late = make_receipt(world, driver, end=end), make_receipt(world, driver, end=end)
    window = int(credits.timing().maxSettlementDelay)
    chain.pending_timestamp = end + DAY
    credits.pause(sender=guardian)
    chain.pending_timestamp = end + 2 * DAY
    credits.unpause(sender=governor)
    assert int(credits.pausedTotal()) == DAY
    chain.pending_timestamp = end + window + DAY  # the last second of the extended window
    tx = credits.settlePacked(pack_tuples([sign(on_time, world.key)]), sender=oracle)
    assert rejections(tx, credits) == []
    chain.pending_timestamp = end + window + DAY + 1
    tx = credits.settlePacked(pack_tuples([sign(late, world.key)]), sender=oracle)
    assert rejections(tx, credits) == [int(RejectReason.STALE)]


def test_revoked_mandate__caps_cannot_be_lowered_under_a_session_a_pause_kept_open(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any, oracle: Any,
        guardian: Any, governor: Any, chain: Any, credit_id: int) -> None:
    """The attack of issue 11 item 8: charge, revoke, and while settlement is paused past the
    revocation's ready time, lower the caps so that the owed session is refused after unpause."""
    owed = make_receipt(world, driver)
    credits.revokeMandate(credit_id, sender=driver)
    until = int(credits.accountOf(driver, credit_id).revokedFromDay) * DAY
    credits.pause(sender=guardian)
    t = credits.timing()
    ready_unpaused = until + int(t.maxSessionDuration) + int(t.maxSettlementDelay)
    chain.pending_timestamp = ready_unpaused + 1
    with ape.reverts(credits.CreditsMandateSettling):
        credits.setMandate(credit_id, USDC, USDC, sender=driver)
    credits.unpause(sender=governor)
    tx = credits.settlePacked(pack_tuples([sign(owed, world.key)]), sender=oracle)
    assert rejections(tx, credits) == []


def test_consent__withdrawing_after_charging_does_not_dodge_the_session(
        world: Any, make_receipt: Any, driver2: Any, create_driver: Any, sign: Any,
        credits: Any, oracle: Any, chain: Any, credit_id: int) -> None:
    driver = driver2
    create_driver(driver, any_station=False)
    op = world.operator.address
    credits.setConsent(credit_id, op, True, sender=driver)
    chain.pending_timestamp += 2 * 3_600
    owed = make_receipt(world, driver)  # began while the driver consented
    chain.pending_timestamp += 60
    credits.setConsent(credit_id, op, False, sender=driver)
    assert not credits.consentOf(driver, op)
    after = make_receipt(world, driver, end=chain.pending_timestamp + 3_600 + 60)
    chain.pending_timestamp = after.end_time + 60
    tx = credits.settlePacked(pack_tuples([sign(owed, world.key), sign(after, world.key)]),
                              sender=oracle)
    assert rejections(tx, credits) == [int(RejectReason.NOT_AUTHORIZED)]
    assert credits.isSettled(owed.station_id, owed.session_id)


def test_consent__any_station_is_not_narrowed_under_an_open_mandate(
        world: Any, driver: Any, credits: Any, credit_id: int, chain: Any) -> None:
    assert credits.accountOf(driver, credit_id).anyStation
    with ape.reverts(credits.CreditsMandateDecrease):
        credits.setConsent(credit_id, ZERO_ADDRESS, False, sender=driver)
    credits.revokeMandate(credit_id, sender=driver)
    with ape.reverts(credits.CreditsMandateRevoking):
        credits.setConsent(credit_id, ZERO_ADDRESS, False, sender=driver)
    until = int(credits.accountOf(driver, credit_id).revokedFromDay) * DAY
    t = credits.timing()
    chain.pending_timestamp = until + int(t.maxSessionDuration) + int(t.maxSettlementDelay)
    credits.setConsent(credit_id, ZERO_ADDRESS, False, sender=driver)
    assert not credits.accountOf(driver, credit_id).anyStation
