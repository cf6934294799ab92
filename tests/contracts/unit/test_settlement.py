"""SessionSettlement.settlePacked: every rule a receipt must pass, each shown in a batch where the
bad receipt is reported by `ReceiptRejected` with its reason and moves nothing, while the good
receipts around it settle; the payment split; pause and role; EIP-712 agreement with Python;
front-running; wash-trading defences (self-charging, per-station epoch cap, free sessions).
"""

from __future__ import annotations

import os
from dataclasses import replace
from typing import Any

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattnet.chain import roles
from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import DAY, DeployConfig, geohash_bytes8
from wattnet.chain.eip712 import SECP256K1_N, Domain, receipt_digest, receipt_tuple
from wattnet.domain import RejectReason, SessionReceipt, station_id_for


@pytest.fixture(scope="module")
def config(day_long_config: DeployConfig) -> DeployConfig:
    return day_long_config

USDC = 10**6
HOUR = 3_600
WEEK = 7 * DAY
BPS = 10_000
R = RejectReason


# ---------------------------------------------------------------- helpers
def rejections(tx: Any, credits: Any) -> list[tuple[int, int]]:
    """(sessionId, reason) of every ReceiptRejected event, in order."""
    logs = tx.decode_logs(credits.ReceiptRejected)
    return [(int(log.sessionId), int(log.reason)) for log in logs]


class Ledger:
    """Snapshot of what settlement can move for one credit id."""

    def __init__(self, credits: Any, cid: int, *accounts: Any) -> None:
        self.credits, self.cid = credits, cid
        self.accounts = [a if isinstance(a, str) else a.address for a in accounts]
        self.before = self.read()

    def read(self) -> dict[str, Any]:
        c, cid = self.credits, self.cid
        return {
            "balance": {a: int(c.balanceOf(a, cid)) for a in self.accounts},
            "owed": {a: int(c.owed(a, cid)) for a in self.accounts},
            "pending": {a: int(c.redemptionOf(a, cid).amount) for a in self.accounts},
            "supply": int(c.totalSupply(cid)),
            "totalOwed": int(c.totalOwed(cid)),
            "totalPending": int(c.totalPendingRedemptions(cid)),
        }

    def delta(self) -> dict[str, Any]:
        now = self.read()
        out: dict[str, Any] = {}
        for k, v in now.items():
            if isinstance(v, dict):
                out[k] = {a: v[a] - self.before[k][a] for a in v}
            else:
                out[k] = v - self.before[k]
        return out


@pytest.fixture
def run(credits: Any, settle: Any, oracle: Any, sign: Any, credit_id: int, driver: Any,
        operator: Any, operator2: Any, treasury: Any, referrer: Any) -> Any:
    """Settle `good` and `bad` receipts in one batch (bad placed in the middle) through both
    entry points; assert each bad one is rejected with its reason and moved nothing while every
    good one settled and was paid."""

    def run_(good: list[tuple[SessionReceipt, Any]], bad: list[tuple[tuple[object, ...], int, int]],
             payer: Any = None) -> Any:
        payer = payer or driver
        ledger = Ledger(credits, credit_id, payer, operator, operator2, treasury, referrer)
        items = [item for item, _sid, _reason in bad]
        half = len(good) // 2
        signed = [sign(r, k) for r, k in good]
        batch = signed[:half] + items + signed[half:]
        tx = settle(batch, sender=oracle)
        assert rejections(tx, credits) == [(sid, int(reason)) for _i, sid, reason in bad]
        for r, _k in good:
            assert credits.isSettled(r.station_id, r.session_id)
        paid = sum(r.cost for r, _k in good)
        d = ledger.delta()
        assert d["balance"][payer.address] + d["pending"][payer.address] == -paid
        assert d["totalOwed"] == paid
        assert d["supply"] + d["totalPending"] == -paid
        assert sum(d["owed"].values()) == paid
        [done] = tx.decode_logs(credits.BatchSettled)
        assert (done.settled, done.rejected, done.totalCost) == (len(good), len(bad), paid)
        return tx

    return run_


def flip_to_high_s(item: tuple[object, ...]) -> tuple[object, ...]:
    receipt, r, vs = item
    vs_int = int.from_bytes(vs, "big")
    v_bit, s = vs_int >> 255, vs_int & ((1 << 255) - 1)
    s_high = SECP256K1_N - s
    forged = ((v_bit ^ 1) << 255) | s_high
    return (receipt, r, (forged % 2**256).to_bytes(32, "big"))


# ---------------------------------------------------------------- happy path and split
def test_settle_batch__pays_operator_treasury_and_referrer_exact_shares(
        world: Any, make_receipt: Any, run: Any, credits: Any, credit_id: int, operator: Any,
        treasury: Any, referrer: Any, driver: Any) -> None:
    credits.setReferrer(referrer, sender=driver)  # the driver's choice, not the station's
    r = make_receipt(world, driver, energy_wh=10_000, referrer=referrer.address)
    assert r.cost == 3_500_000
    ledger = Ledger(credits, credit_id, operator, treasury, referrer)
    run([(r, world.key)], [])
    d = ledger.delta()["owed"]
    assert d[operator.address] == 2_800_000
    assert d[referrer.address] == 175_000
    assert d[treasury.address] == 525_000


def test_settle_batch__without_referrer_treasury_takes_referrer_share(
        world: Any, make_receipt: Any, run: Any, driver: Any, credits: Any, credit_id: int,
        operator: Any, treasury: Any) -> None:
    r = make_receipt(world, driver, energy_wh=10_000)
    ledger = Ledger(credits, credit_id, operator, treasury)
    run([(r, world.key)], [])
    d = ledger.delta()["owed"]
    assert d[operator.address] == 2_800_000
    assert d[treasury.address] == 700_000


@given(energy=st.integers(0, 22_000), operator_bps=st.integers(5_000, 10_000),
       referrer_bps=st.integers(0, 2_000), with_referrer=st.booleans())
@settings(max_examples=12)
def test_settle_batch__shares_sum_exactly_to_cost_for_any_allowed_split(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, referrer: Any,
        treasury: Any, governor: Any, chain: Any, make_receipt: Any, sign: Any, credits: Any,
        oracle: Any, credit_id: int, energy: int, operator_bps: int, referrer_bps: int,
        with_referrer: bool) -> None:
    referrer_bps = min(referrer_bps, BPS - operator_bps)
    # Examples accumulate on one chain (each settles a fresh station's session).
    station = create_station(operator, tariff=123_457)  # odd tariff: costs that do not divide
    create_driver(driver)
    chain.pending_timestamp += 2 * HOUR
    credits.setShares(operator_bps, referrer_bps, sender=governor)
    credits.setReferrer(referrer, sender=driver)
    ref = referrer.address if with_referrer else "0x" + "00" * 20
    r = make_receipt(station, driver, energy_wh=energy, referrer=ref)
    ledger = Ledger(credits, credit_id, operator, treasury, referrer, driver)
    tx = credits.settlePacked(pack_tuples([sign(r, station.key)]), sender=oracle)
    assert rejections(tx, credits) == []
    d = ledger.delta()
    to_op = r.cost * operator_bps // BPS
    to_ref = r.cost * referrer_bps // BPS if with_referrer else 0
    assert d["owed"][operator.address] == to_op
    assert d["owed"][referrer.address] == to_ref
    assert d["owed"][treasury.address] == r.cost - to_op - to_ref
    assert sum(d["owed"].values()) == r.cost == d["totalOwed"]
    assert d["balance"][driver.address] == -r.cost


def test_set_shares__rejects_out_of_bounds(credits: Any, governor: Any) -> None:
    with ape.reverts(credits.SettlementSharesOutOfBounds, operatorBps=4_999, referrerBps=0):
        credits.setShares(4_999, 0, sender=governor)
    with ape.reverts(credits.SettlementSharesOutOfBounds, operatorBps=8_000, referrerBps=2_001):
        credits.setShares(8_000, 2_001, sender=governor)
    with ape.reverts(credits.SettlementSharesOutOfBounds, operatorBps=9_000, referrerBps=1_001):
        credits.setShares(9_000, 1_001, sender=governor)


# ---------------------------------------------------------------- replay
def test_settle_batch__rejects_receipt_replayed_within_one_batch(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    r = make_receipt(world, driver)
    other = make_receipt(world, driver)
    run([(r, world.key), (other, world.key)],
        [(sign(r, world.key), r.session_id, R.ALREADY_SETTLED)])


def test_settle_batch__rejects_receipt_replayed_in_a_later_batch(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    r = make_receipt(world, driver)
    run([(r, world.key)], [])
    later = make_receipt(world, driver)
    run([(later, world.key)], [(sign(r, world.key), r.session_id, R.ALREADY_SETTLED)])


def test_settle_batch__rejects_same_session_id_with_other_content(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    r = make_receipt(world, driver)
    run([(r, world.key)], [])
    twin = replace(r, energy_wh=5_000, cost=5_000 * world.tariff // 1000)
    later = make_receipt(world, driver)
    run([(later, world.key)], [(sign(twin, world.key), r.session_id, R.ALREADY_SETTLED)])


# ---------------------------------------------------------------- signatures
def test_settle_batch__rejects_malleable_high_s_signature(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    r = make_receipt(world, driver)
    other = make_receipt(world, driver)
    forged = flip_to_high_s(sign(r, world.key))
    run([(other, world.key)], [(forged, r.session_id, R.BAD_SIGNATURE)])
    # The genuine signature still settles afterwards: dedupe is by session, not signature bytes.
    run([(r, world.key)], [])


def test_settle_batch__rejects_flipped_v_bit(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    r = make_receipt(world, driver)
    receipt, sig_r, vs = sign(r, world.key)
    flipped = (receipt, sig_r, (int.from_bytes(vs, "big") ^ (1 << 255)).to_bytes(32, "big"))
    run([(make_receipt(world, driver), world.key)], [(flipped, r.session_id, R.BAD_SIGNATURE)])


def test_settle_batch__rejects_signature_for_another_chain_id(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any, domain: Domain) -> None:
    r = make_receipt(world, driver)
    foreign = sign(r, world.key, replace(domain, chain_id=domain.chain_id + 1))
    run([(make_receipt(world, driver), world.key)], [(foreign, r.session_id, R.BAD_SIGNATURE)])


def test_settle_batch__rejects_signature_for_another_contract(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any, domain: Domain,
        registry: Any) -> None:
    r = make_receipt(world, driver)
    foreign = sign(r, world.key, replace(domain, verifying_contract=registry.address))
    run([(make_receipt(world, driver), world.key)], [(foreign, r.session_id, R.BAD_SIGNATURE)])


def test_settle_batch__rejects_signature_by_unregistered_key(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    r = make_receipt(world, driver)
    run([(make_receipt(world, driver), world.key)],
        [(sign(r, os.urandom(32)), r.session_id, R.BAD_SIGNATURE)])


def test_settle_batch__rejects_signature_recovering_to_zero(
        world: Any, make_receipt: Any, run: Any, driver: Any) -> None:
    r = make_receipt(world, driver)
    garbage = (receipt_tuple(r), bytes(32), bytes(32))
    also = make_receipt(world, driver)
    garbage2 = (receipt_tuple(also), bytes(31) + b"\x01", (1 << 255 | 1).to_bytes(32, "big"))
    run([(make_receipt(world, driver), world.key)],
        [(garbage, r.session_id, R.BAD_SIGNATURE), (garbage2, also.session_id, R.BAD_SIGNATURE)])


def test_settle_batch__rejects_rotated_out_key_and_accepts_new_key(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any, registry: Any,
        operator: Any, prove_signer: Any) -> None:
    new_key = os.urandom(32)
    new = replace(world, key=new_key)
    registry.rotateSigner(world.station_id, new.signer,
                          *prove_signer(new_key, world.station_id, operator), sender=operator)
    r = make_receipt(world, driver)
    run([(make_receipt(world, driver), new_key)],
        [(sign(r, world.key), r.session_id, R.BAD_SIGNATURE)])


def test_settle_batch__rejects_tampered_receipt(
        world: Any, make_receipt: Any, run: Any, driver: Any, attacker: Any, sign: Any) -> None:
    r = make_receipt(world, driver)
    _receipt, sig_r, vs = sign(r, world.key)
    tampered = (receipt_tuple(replace(r, referrer=attacker.address)), sig_r, vs)
    run([(make_receipt(world, driver), world.key)], [(tampered, r.session_id, R.BAD_SIGNATURE)])


# ---------------------------------------------------------------- station state
def test_settle_batch__rejects_deactivated_station(
        world: Any, create_station: Any, make_receipt: Any, run: Any, driver: Any, sign: Any,
        registry: Any, operator: Any, chain: Any) -> None:
    live = create_station(operator)
    chain.pending_timestamp += 2 * HOUR
    r = make_receipt(world, driver)
    registry.deactivateStation(world.station_id, sender=operator)
    run([(make_receipt(live, driver), live.key)],
        [(sign(r, world.key), r.session_id, R.STATION_INACTIVE)])


def test_settle_batch__rejects_station_of_slashed_operator(
        world: Any, create_station: Any, make_receipt: Any, run: Any, driver: Any, sign: Any,
        registry: Any, staking: Any, operator: Any, operator2: Any, governor: Any,
        chain: Any) -> None:
    live = create_station(operator2)
    chain.pending_timestamp += 2 * HOUR
    r = make_receipt(world, driver)
    staking.slash(operator, 1, b"\x01" * 32, sender=governor)
    assert registry.suspended(operator)
    run([(make_receipt(live, driver), live.key)],
        [(sign(r, world.key), r.session_id, R.STATION_INACTIVE)])


def test_settle_batch__rejects_unregistered_station(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    key = os.urandom(32)
    ghost = replace(world, station_id=station_id_for("CP-NOT-REGISTERED"), key=key)
    r = make_receipt(ghost, driver)
    run([(make_receipt(world, driver), world.key)],
        [(sign(r, key), r.session_id, R.STATION_INACTIVE)])


def test_settle_batch__rejects_unknown_credit_id(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    r = make_receipt(world, driver, credit_id=99)
    run([(make_receipt(world, driver), world.key)],
        [(sign(r, world.key), r.session_id, R.STATION_INACTIVE)])


# ---------------------------------------------------------------- mandates and money
def test_settle_batch__rejects_cost_above_per_session_cap(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, chain: Any,
        make_receipt: Any, run: Any, sign: Any) -> None:
    station = create_station(operator)
    create_driver(driver, per_session_cap=3_500_000, daily_cap=100 * USDC)
    chain.pending_timestamp += 2 * HOUR
    at_cap = make_receipt(station, driver, energy_wh=10_000)
    above = make_receipt(station, driver, energy_wh=10_003)  # cost 3_501_050
    run([(at_cap, station.key)], [(sign(above, station.key), above.session_id, R.NOT_AUTHORIZED)])


def test_settle_batch__rejects_session_exceeding_daily_cap(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, chain: Any,
        make_receipt: Any, run: Any, sign: Any) -> None:
    station = create_station(operator)
    create_driver(driver, per_session_cap=5 * USDC, daily_cap=10 * USDC)
    chain.pending_timestamp += 2 * HOUR
    chain.pending_timestamp += DAY - chain.pending_timestamp % DAY + 6 * HOUR  # mid-day
    first, second = make_receipt(station, driver), make_receipt(station, driver)  # 3.5 each
    run([(first, station.key), (second, station.key)], [])
    third = make_receipt(station, driver)  # 10.5 > 10 today
    small = make_receipt(station, driver, energy_wh=8_571)  # 2.99985 -> 300 units: exactly 10
    run([(small, station.key)], [(sign(third, station.key), third.session_id, R.NOT_AUTHORIZED)])
    # A new UTC day opens a new allowance.
    chain.pending_timestamp += DAY
    run([(third, station.key)], [])


def test_settle_batch__rejects_driver_without_mandate(
        world: Any, create_driver: Any, driver2: Any, make_receipt: Any, run: Any, driver: Any,
        sign: Any) -> None:
    create_driver(driver2, per_session_cap=0)
    r = make_receipt(world, driver2)
    run([(make_receipt(world, driver), world.key)],
        [(sign(r, world.key), r.session_id, R.NOT_AUTHORIZED)])


def test_settle_batch__rejects_sessions_starting_after_revoked_mandate_ends(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any, credits: Any,
        credit_id: int, chain: Any) -> None:
    credits.revokeMandate(credit_id, sender=driver)
    valid_until = int(credits.mandateOf(driver, credit_id).validUntil)
    assert valid_until > chain.pending_timestamp
    chain.pending_timestamp = valid_until + 2 * HOUR
    before = make_receipt(world, driver, end=valid_until + 30 * 60, duration=HOUR)  # began before
    after = make_receipt(world, driver, end=valid_until + HOUR, duration=HOUR // 2)  # began after
    at = make_receipt(world, driver, end=valid_until + HOUR, duration=HOUR)
    assert at.start_time == valid_until
    run([(before, world.key)], [(sign(after, world.key), after.session_id, R.NOT_AUTHORIZED),
                                (sign(at, world.key), at.session_id, R.NOT_AUTHORIZED)])


def test_settle_batch__pays_session_begun_before_revocation_despite_a_new_lower_mandate(
        world: Any, make_receipt: Any, run: Any, driver: Any, credits: Any, credit_id: int,
        chain: Any) -> None:
    # Sessions that began before a revoked mandate's validUntil "still settle" (MandateRevoked):
    # a new, lower mandate must wait until they are past the settlement window.
    credits.revokeMandate(credit_id, sender=driver)
    valid_until = int(credits.mandateOf(driver, credit_id).validUntil)
    chain.pending_timestamp = valid_until + HOUR
    begun_before = make_receipt(world, driver, end=valid_until + 30 * 60, duration=HOUR)
    assert begun_before.start_time < valid_until
    ready_at = valid_until + DAY + 3 * DAY  # longest session + settlement window
    with ape.reverts(credits.CreditsMandateSettling, driver=driver.address, id=credit_id,
                     readyAt=ready_at):
        credits.setMandate(credit_id, 10_000, 10_000, sender=driver)  # 1 cent per session, day
    run([(begun_before, world.key)], [])
    chain.pending_timestamp = ready_at
    credits.setMandate(credit_id, 10_000, 10_000, sender=driver)
    assert credits.mandateOf(driver, credit_id).perSessionCap == 10_000


def test_settle_batch__charges_pending_redemption_when_driver_redeemed_first(
        world: Any, make_receipt: Any, run: Any, driver: Any, credits: Any, credit_id: int,
        usdc: Any, chain: Any) -> None:
    r = make_receipt(world, driver)
    credits.requestRedemption(credit_id, 100 * USDC, sender=driver)
    assert credits.balanceOf(driver, credit_id) == 0
    run([(r, world.key)], [])
    assert credits.redemptionOf(driver, credit_id).amount == 100 * USDC - r.cost
    chain.pending_timestamp += 6 * DAY
    before = usdc.balanceOf(driver)
    credits.completeRedemption(credit_id, sender=driver)
    assert usdc.balanceOf(driver) - before == 100 * USDC - r.cost


def test_settle_batch__charges_balance_then_pending_redemption(
        world: Any, make_receipt: Any, run: Any, driver: Any, credits: Any,
        credit_id: int) -> None:
    credits.requestRedemption(credit_id, 99 * USDC, sender=driver)  # 1 USDC stays spendable
    r = make_receipt(world, driver)
    run([(r, world.key)], [])
    assert credits.balanceOf(driver, credit_id) == 0
    assert credits.redemptionOf(driver, credit_id).amount == 99 * USDC - (r.cost - USDC)


def test_settle_batch__rejects_insufficient_credits(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, driver2: Any,
        chain: Any, make_receipt: Any, run: Any, sign: Any, credits: Any,
        credit_id: int) -> None:
    station = create_station(operator)
    create_driver(driver)
    create_driver(driver2, credits_amount=3 * USDC)
    chain.pending_timestamp += 2 * HOUR
    poor = make_receipt(station, driver2)  # 3.5 > 3
    run([(make_receipt(station, driver), station.key)],
        [(sign(poor, station.key), poor.session_id, R.INSUFFICIENT_CREDITS)])
    assert credits.balanceOf(driver2, credit_id) == 3 * USDC
    # Balance plus pending redemption still short: rejected, the redemption untouched.
    credits.requestRedemption(credit_id, 2 * USDC, sender=driver2)
    run([], [(sign(poor, station.key), poor.session_id, R.INSUFFICIENT_CREDITS)], payer=driver2)
    assert credits.redemptionOf(driver2, credit_id).amount == 2 * USDC


# ---------------------------------------------------------------- physics and time
def test_settle_batch__rejects_energy_above_rated_power_times_duration(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    at_limit = make_receipt(world, driver, energy_wh=22_000, duration=HOUR)
    above = make_receipt(world, driver, energy_wh=22_001, duration=HOUR)
    run([(at_limit, world.key)], [(sign(above, world.key), above.session_id, R.ENERGY_IMPLAUSIBLE)])


def test_settle_batch__rejects_bad_times(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any, chain: Any) -> None:
    chain.pending_timestamp += 2 * DAY  # room for a too-long session after registration
    now = chain.pending_timestamp
    backwards = make_receipt(world, driver)
    backwards = replace(backwards, start_time=backwards.end_time + 1)
    empty = make_receipt(world, driver)
    empty = replace(empty, start_time=empty.end_time, energy_wh=0, cost=0)
    future = make_receipt(world, driver, end=now + 600)
    too_long = make_receipt(world, driver, duration=DAY + 1, energy_wh=1_000)
    longest = make_receipt(world, driver, duration=DAY, energy_wh=1_000)
    run([(longest, world.key)], [(sign(r, world.key), r.session_id, R.BAD_TIMES)
                                 for r in (backwards, empty, future, too_long)])


def test_settle_batch__rejects_stale_receipt(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any, chain: Any) -> None:
    old = make_receipt(world, driver)
    chain.pending_timestamp = old.end_time + 3 * DAY + 1
    fresh = make_receipt(world, driver)
    edge = make_receipt(world, driver, end=chain.pending_timestamp - 3 * DAY)
    run([(fresh, world.key), (edge, world.key)], [(sign(old, world.key), old.session_id, R.STALE)])


def test_settle_batch__rejects_cost_not_matching_tariff(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any) -> None:
    r = make_receipt(world, driver)
    over = replace(r, cost=r.cost + 1)
    under = replace(make_receipt(world, driver), cost=r.cost - 1)
    run([(make_receipt(world, driver), world.key)],
        [(sign(over, world.key), over.session_id, R.COST_MISMATCH),
         (sign(under, world.key), under.session_id, R.COST_MISMATCH)])


def test_settle_batch__prices_session_by_tariff_in_force_at_its_start(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any, chain: Any,
        registry: Any, operator: Any, credit_id: int) -> None:
    old_tariff, new_tariff = world.tariff, 500_000
    chain.pending_timestamp += int(registry.tariffCooldown())
    tx = registry.setTariff(world.station_id, credit_id, new_tariff, sender=operator)
    changed_at = tx.timestamp
    chain.pending_timestamp = changed_at + 2 * HOUR
    straddling = make_receipt(world, driver, end=changed_at + 30 * 60, duration=HOUR)
    assert straddling.start_time < changed_at
    wrongly_new = replace(make_receipt(world, driver, end=changed_at + 30 * 60, duration=HOUR),
                          cost=10_000 * new_tariff // 1000)
    after = make_receipt(replace(world, tariff=new_tariff), driver)
    assert straddling.cost == 10_000 * old_tariff // 1000
    run([(straddling, world.key), (after, world.key)],
        [(sign(wrongly_new, world.key), wrongly_new.session_id, R.COST_MISMATCH)])


def test_settle_batch__rejects_session_started_before_registration(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any, registry: Any) -> None:
    registered = int(registry.getStation(world.station_id).registeredAt)
    early = make_receipt(world, driver, end=registered + 600, duration=HOUR)
    run([(make_receipt(world, driver), world.key)],
        [(sign(early, world.key), early.session_id, R.TARIFF_UNKNOWN)])


def test_settle_batch__rejects_session_priced_by_neither_tariff(
        world: Any, make_receipt: Any, run: Any, driver: Any, sign: Any, chain: Any,
        registry: Any, operator: Any, credit_id: int, governor: Any, credits: Any) -> None:
    # Two tariff changes inside a short timing window, then governance lengthens the window:
    # a session that began before the older change is priced by neither tariff.
    credits.setTiming((2 * HOUR, HOUR, HOUR), sender=governor)
    cooldown = int(registry.tariffCooldown())
    assert cooldown == 2 * HOUR
    first = registry.setTariff(world.station_id, credit_id, 400_000, sender=operator).timestamp
    chain.pending_timestamp = first + cooldown
    second = registry.setTariff(world.station_id, credit_id, 450_000, sender=operator).timestamp
    credits.setTiming((5 * DAY, 3 * DAY, DAY), sender=governor)
    chain.pending_timestamp = second + HOUR
    old = make_receipt(world, driver, end=second + 600, duration=second + 600 - (first - 600))
    assert old.start_time < first
    run([(make_receipt(replace(world, tariff=450_000), driver, duration=HOUR // 2), world.key)],
        [(sign(old, world.key), old.session_id, R.TARIFF_UNKNOWN)])


# ---------------------------------------------------------------- pause and roles
def test_settle_batch__reverts_while_paused(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any, oracle: Any,
        guardian: Any, governor: Any) -> None:
    r = make_receipt(world, driver)
    credits.pause(sender=guardian)
    with ape.reverts(credits.SettlementPaused):
        credits.settlePacked(pack_tuples([sign(r, world.key)]), sender=oracle)
    assert not credits.isSettled(r.station_id, r.session_id)
    credits.unpause(sender=governor)
    credits.settlePacked(pack_tuples([sign(r, world.key)]), sender=oracle)
    assert credits.isSettled(r.station_id, r.session_id)


def test_settle_batch__only_oracle_role(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any,
        attacker: Any, operator: Any) -> None:
    r = make_receipt(world, driver)
    for caller in (attacker, operator, driver):
        with ape.reverts(credits.AccessControlUnauthorizedAccount, account=caller.address,
                         neededRole=roles.ORACLE_ROLE):
            credits.settlePacked(pack_tuples([sign(r, world.key)]), sender=caller)
    assert not credits.isSettled(r.station_id, r.session_id)


# ---------------------------------------------------------------- EIP-712 agreement
def test_receipt_digest__matches_python_and_python_signature_settles(
        world: Any, make_receipt: Any, run: Any, driver: Any, credits: Any, domain: Domain,
        referrer: Any, staking: Any) -> None:
    r = make_receipt(world, driver, referrer=referrer.address, connector_id=7)
    assert bytes(staking.receiptDigest(receipt_tuple(r))) == receipt_digest(domain, r)
    assert bytes(credits.domainSeparator()) == domain.separator
    run([(r, world.key)], [])


# ---------------------------------------------------------------- front-running
def test_settle_batch__front_running_relayer_gains_nothing(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any, oracle: Any,
        attacker: Any, governor: Any, operator: Any, credit_id: int) -> None:
    credits.grantRole(roles.ORACLE_ROLE, attacker, sender=governor)  # a second relayer
    r = make_receipt(world, driver)
    item = sign(r, world.key)
    stolen = (receipt_tuple(replace(r, referrer=attacker.address, driver=driver.address)),
              item[1], item[2])
    tx = credits.settlePacked(pack_tuples([stolen]), sender=attacker)
    assert rejections(tx, credits) == [(r.session_id, int(R.BAD_SIGNATURE))]
    credits.settlePacked(pack_tuples([item]), sender=attacker)
    assert credits.owed(attacker, credit_id) == 0
    assert credits.owed(operator, credit_id) == r.cost * 8_000 // BPS
    tx = credits.settlePacked(pack_tuples([item]), sender=oracle)  # the honest relayer comes second
    assert rejections(tx, credits) == [(r.session_id, int(R.ALREADY_SETTLED))]
    assert credits.owed(operator, credit_id) == r.cost * 8_000 // BPS


# ---------------------------------------------------------------- wash trading
def _epoch(chain: Any, rewards: Any) -> int:
    """Move to 2 days into the next epoch (so a test's batches share one epoch); its number."""
    genesis = int(rewards.genesis())
    epoch = (chain.pending_timestamp - genesis) // WEEK + 1
    chain.pending_timestamp = genesis + epoch * WEEK + 2 * DAY
    return epoch


def test_settle_batch__self_charging_pays_but_earns_no_weight(
        world: Any, create_driver: Any, make_receipt: Any, run: Any, driver: Any,
        operator: Any, credits: Any, rewards: Any, chain: Any) -> None:
    create_driver(operator)
    epoch = _epoch(chain, rewards)
    self_charge = make_receipt(world, operator)
    run([(self_charge, world.key)], [], payer=operator)
    assert credits.stationEpoch(epoch, world.station_id).weight == 0
    assert credits.totalEpochWeight(epoch) == 0
    honest = make_receipt(world, driver, energy_wh=7_000)
    run([(honest, world.key)], [])
    assert credits.stationEpoch(epoch, world.station_id).weight == 7_000
    assert credits.totalEpochWeight(epoch) == 7_000


def test_settle_batch__free_session_earns_no_weight(
        world: Any, make_receipt: Any, run: Any, driver: Any, credits: Any, rewards: Any,
        chain: Any) -> None:
    epoch = _epoch(chain, rewards)
    free = make_receipt(world, driver, energy_wh=0)
    assert free.cost == 0
    run([(free, world.key)], [])
    assert credits.isSettled(free.station_id, free.session_id)
    assert credits.stationEpoch(epoch, world.station_id).weight == 0
    assert credits.stationEpoch(epoch, world.station_id).rewardedWh == 0


def test_settle_batch__station_reward_energy_capped_per_epoch(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, chain: Any,
        make_receipt: Any, sign: Any, credits: Any, oracle: Any, rewards: Any,
        governor: Any) -> None:
    station = create_station(operator, rated_power_w=1_000, tariff=50_000)  # the lowest allowed
    create_driver(driver)
    cap_bps = int(credits.stationEpochCapBps())
    cap_wh = 1_000 * WEEK // HOUR * cap_bps // BPS  # 84_000 Wh at 50 %
    epoch = _epoch(chain, rewards)
    total = 0
    for _ in range(5):
        batch = [sign(make_receipt(station, driver, energy_wh=24_000, duration=DAY), station.key)]
        tx = credits.settlePacked(pack_tuples(batch), sender=oracle)
        assert rejections(tx, credits) == []
        total += 24_000
        rewarded = int(credits.stationEpoch(epoch, station.station_id).rewardedWh)
        assert rewarded == min(total, cap_wh) <= cap_wh
        assert credits.stationEpoch(epoch, station.station_id).weight == rewarded
    assert total > cap_wh
    # The cap follows governance's setting, never above rated power x epoch x cap.
    credits.setStationEpochCap(10_000, sender=governor)
    tx = credits.settlePacked(pack_tuples(
        [sign(make_receipt(station, driver, energy_wh=24_000, duration=DAY), station.key)]),
        sender=oracle)
    assert int(credits.stationEpoch(epoch, station.station_id).rewardedWh) == cap_wh + 24_000
    # A new epoch starts from zero.
    chain.pending_timestamp += WEEK
    nxt = epoch + 1
    tx = credits.settlePacked(pack_tuples(
        [sign(make_receipt(station, driver, energy_wh=24_000, duration=DAY), station.key)]),
        sender=oracle)
    assert rejections(tx, credits) == []
    assert int(credits.stationEpoch(nxt, station.station_id).rewardedWh) == 24_000


def test_settle_batch__weight_follows_region_multiplier(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, chain: Any,
        make_receipt: Any, run: Any, credits: Any, rewards: Any, registry: Any,
        governor: Any) -> None:
    registry.setRegionMultiplier(b"u3".ljust(8, b"\x00"), 15_000, sender=governor)
    station = create_station(operator, geohash="u33db")
    registry.attestLocation(station.station_id, True, sender=governor)  # a boost needs attesting
    create_driver(driver)
    chain.pending_timestamp += 2 * HOUR
    epoch = _epoch(chain, rewards)
    run([(make_receipt(station, driver, energy_wh=10_001), station.key)], [])
    assert credits.stationEpoch(epoch, station.station_id).weight == 10_001 * 15_000 // BPS


def test_settle_batch__counts_energy_towards_cap_even_when_its_weight_rounds_to_zero(
        create_station: Any, create_driver: Any, operator: Any, driver: Any, chain: Any,
        make_receipt: Any, run: Any, credits: Any, rewards: Any, registry: Any,
        governor: Any) -> None:
    registry.setRegionMultiplier(geohash_bytes8("u3"), 5_000, sender=governor)
    station = create_station(operator, geohash="u33db")
    create_driver(driver)
    epoch = _epoch(chain, rewards)
    run([(make_receipt(station, driver, energy_wh=1), station.key)], [])  # weight 1 * 0.5 -> 0
    assert credits.stationEpoch(epoch, station.station_id).weight == 0
    assert credits.stationEpoch(epoch, station.station_id).rewardedWh == 1
