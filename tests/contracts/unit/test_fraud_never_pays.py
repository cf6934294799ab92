"""Fraud never pays: the attacks of the proof-of-work issue, each tried by an attacker who loses.

The operator controls its station key, any number of wallets and its own car. Rewards are
escrowed for the challenge window, forfeited by findings, and bounded by the fees a station's
sessions leave with the protocol; the referrer is the driver's choice; permissionless proofs
slash and pay the prover.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import DAY, WAD, WEEK
from wattnet.chain.eip712 import Domain, receipt_struct_hash, receipt_tuple, sign_receipt
from wattnet.chain.evidence import over_power_id

USDC = 10**6
USD_WEI = 10**18  # RewardsEngine prices: USD with 18 decimals per WATT
FLOOR = USD_WEI // 10  # $0.10 per WATT
MIN_TARIFF = 50_000  # 0.05 USDC per kWh
ZERO = "0x" + "00" * 20


@pytest.fixture
def realistic(rewards: Any, governor: Any) -> None:
    """The params files' economics: rewards worth at most 50 % of retained fees at >= $0.10."""
    rewards.setFeeMultipleBps(5_000, sender=governor)
    rewards.setPriceFloor(FLOOR, sender=governor)


def enter_next_epoch(chain: Any, rewards: Any) -> int:
    genesis = int(rewards.genesis())
    epoch = (chain.pending_timestamp - genesis) // WEEK + 1
    chain.pending_timestamp = genesis + epoch * WEEK + 2 * DAY
    return epoch


def settle_signed(credits: Any, oracle: Any, sign: Any, receipt: Any, station: Any) -> Any:
    tx = credits.settlePacked(pack_tuples([sign(receipt, station.key)]), sender=oracle)
    assert not list(tx.decode_logs(credits.ReceiptRejected))
    return tx


# ---------------------------------------------------------------- the referrer
def test_referrer__the_drivers_choice_is_paid(
        world: Any, driver: Any, referrer: Any, credits: Any, settle: Any, sign: Any,
        make_receipt: Any, oracle: Any, credit_id: int) -> None:
    credits.setReferrer(referrer, sender=driver)
    receipt = make_receipt(world, driver, referrer=referrer.address)
    settle([sign(receipt, world.key)], oracle)
    assert credits.owed(referrer, credit_id) == receipt.cost * 500 // 10_000


def test_referrer__named_by_the_station_alone_goes_to_the_treasury(
        world: Any, driver: Any, attacker: Any, credits: Any, settle: Any, sign: Any,
        make_receipt: Any, oracle: Any, treasury: Any, credit_id: int) -> None:
    receipt = make_receipt(world, driver, referrer=attacker.address)
    before = credits.owed(treasury, credit_id)
    settle([sign(receipt, world.key)], oracle)
    assert credits.owed(attacker, credit_id) == 0
    operator_share = receipt.cost * 8_000 // 10_000
    assert credits.owed(treasury, credit_id) - before == receipt.cost - operator_share


def test_referrer__never_the_stations_operator_even_if_the_driver_chose_it(
        world: Any, driver: Any, operator: Any, credits: Any, settle: Any, sign: Any,
        make_receipt: Any, oracle: Any, credit_id: int) -> None:
    credits.setReferrer(operator, sender=driver)
    receipt = make_receipt(world, driver, referrer=operator.address)
    settle([sign(receipt, world.key)], oracle)
    assert credits.owed(operator, credit_id) == receipt.cost * 8_000 // 10_000


def test_set_referrer__self_referral_reverts(credits: Any, driver: Any) -> None:
    with ape.reverts(credits.CreditsSelfReferral, driver=driver.address):
        credits.setReferrer(driver, sender=driver)
    assert credits.referrerOf(driver) == "0x" + "00" * 20


# ---------------------------------------------------------------- escrow and forfeits
@pytest.fixture
def earned(world: Any, driver: Any, credits: Any, oracle: Any, sign: Any, make_receipt: Any,
           chain: Any, rewards: Any) -> int:
    """The station earned weight in a fresh epoch; returns the epoch."""
    epoch = enter_next_epoch(chain, rewards)
    settle_signed(credits, oracle, sign, make_receipt(world, driver), world)
    return epoch


def test_claim__escrowed_until_the_challenge_window_ends(
        earned: int, world: Any, rewards: Any, chain: Any, operator: Any, watt: Any) -> None:
    ready = int(rewards.claimableAt(earned))
    assert ready == int(rewards.genesis()) + (earned + 1) * WEEK + int(rewards.challengeWindow())
    chain.pending_timestamp = ready - 60
    with ape.reverts(rewards.RewardsInChallengeWindow, epoch=earned, claimableAt=ready):
        rewards.claim([earned], [world.station_id], sender=operator)
    chain.pending_timestamp = ready
    rewards.claim([earned], [world.station_id], sender=operator)
    assert watt.balanceOf(operator) > 0


def test_forfeit__a_finding_inside_the_window_burns_the_reward(
        earned: int, world: Any, rewards: Any, chain: Any, operator: Any, governor: Any,
        watt: Any) -> None:
    tx = rewards.forfeit(world.station_id, earned, b"SPOOFED".ljust(32, b"\0"), sender=governor)
    assert len(list(tx.decode_logs(rewards.RewardsForfeited))) == 1
    chain.pending_timestamp = int(rewards.claimableAt(earned))
    chain.mine()
    assert rewards.claimable(world.station_id, earned) == 0
    with ape.reverts(rewards.RewardsNothingToClaim):
        rewards.claim([earned], [world.station_id], sender=operator)
    assert watt.balanceOf(operator) == 0


def test_forfeit__getting_a_competitor_forfeited_lifts_nobodys_share(
        world: Any, create_station: Any, operator2: Any, driver: Any, credits: Any, oracle: Any,
        sign: Any, make_receipt: Any, chain: Any, rewards: Any, governor: Any) -> None:
    """An operator who gets a competitor's epoch forfeited (a finding it pushed through) gains
    nothing: the forfeited weight stays in the epoch's total and is simply never minted."""
    rewards.setFeeMultipleBps(10_000, sender=governor)  # the fee bound out of the way: shares
    rewards.setPriceFloor(10**6, sender=governor)  # by weight alone
    mine = create_station(operator2)
    epoch = enter_next_epoch(chain, rewards)
    settle_signed(credits, oracle, sign, make_receipt(world, driver, energy_wh=10_000), world)
    chain.pending_timestamp += 2 * 3_600
    settle_signed(credits, oracle, sign, make_receipt(mine, driver, energy_wh=5_000), mine)
    rewards.forfeit(world.station_id, epoch, b"FOUND".ljust(32, b"\0"), sender=governor)
    chain.pending_timestamp = int(rewards.claimableAt(epoch))
    chain.mine()
    w_mine = int(credits.stationEpoch(epoch, mine.station_id).weight)
    total = int(credits.totalEpochWeight(epoch))
    assert total > w_mine  # the competitor's weight still counts
    assert rewards.claimable(mine.station_id, epoch) == rewards.emissionOf(epoch) * w_mine // total
    assert rewards.claimable(world.station_id, epoch) == 0


def test_forfeit__too_late_changes_nothing(
        earned: int, world: Any, rewards: Any, chain: Any, governor: Any) -> None:
    chain.pending_timestamp = int(rewards.claimableAt(earned))
    tx = rewards.forfeit(world.station_id, earned, b"LATE".ljust(32, b"\0"), sender=governor)
    assert not list(tx.decode_logs(rewards.RewardsForfeited))
    assert not rewards.forfeited(earned, world.station_id)


def test_forfeit__findings_role_only(earned: int, world: Any, rewards: Any, attacker: Any) -> None:
    with ape.reverts():
        rewards.forfeit(world.station_id, earned, b"X".ljust(32, b"\0"), sender=attacker)


@pytest.mark.parametrize("window", [DAY - 1, 90 * DAY + 1])
def test_set_challenge_window__out_of_bounds_reverts(rewards: Any, governor: Any,
                                                     window: int) -> None:
    with ape.reverts(rewards.RewardsParameterOutOfBounds):
        rewards.setChallengeWindow(window, sender=governor)


# ---------------------------------------------------------------- the fee bound and the price
def test_reward__worth_at_most_the_fee_multiple_of_retained_fees(
        realistic: None, earned: int, world: Any, rewards: Any, credits: Any, chain: Any) -> None:
    fees = int(credits.stationEpoch(earned, world.station_id).fees)
    cost = 10_000 * world.tariff // 1000  # 10 kWh; no referrer: the treasury keeps 20 %, but
    # the fee record counts its own 15 % only (the unpaid referrer share lifts no bound)
    assert fees == (cost - cost * 8_000 // 10_000 - cost * 500 // 10_000) * 10**12  # USD wei
    chain.pending_timestamp = int(rewards.claimableAt(earned))
    chain.mine()
    multiple = int(rewards.feeMultipleBps())
    assert rewards.claimable(world.station_id, earned) == fees * multiple * WAD // (10_000 * FLOOR)


def test_price_feed__stale_or_jumping_answers_stop_claims(
        realistic: None, project: Any, rewards: Any, governor: Any, chain: Any) -> None:
    feed = project.MockPriceFeed.deploy(8, sender=governor)
    now = chain.pending_timestamp
    feed.push(20_000_000, now, sender=governor)  # $0.20
    rewards.setPriceFeed(feed, 3_600, 2_000, sender=governor)
    chain.mine(timestamp=now + 10)
    assert rewards.wattPrice() == 2 * FLOOR
    feed.push(5_000_000, now, sender=governor)  # $0.05: -75 % in one round
    with ape.reverts(rewards.RewardsPriceDeviation):
        rewards.wattPrice()
    feed.push(4_500_000, now, sender=governor)  # a second step, within 20 %: the floor wins
    assert rewards.wattPrice() == FLOOR
    chain.mine(timestamp=now + 3_601)
    with ape.reverts(rewards.RewardsPriceStale):
        rewards.wattPrice()


def test_set_price_feed__bounds(project: Any, rewards: Any, governor: Any) -> None:
    feed = project.MockPriceFeed.deploy(8, sender=governor)
    with ape.reverts(rewards.RewardsParameterOutOfBounds):
        rewards.setPriceFeed(feed, 30, 2_000, sender=governor)
    with ape.reverts(rewards.RewardsParameterOutOfBounds):
        rewards.setPriceFeed(feed, 3_600, 5_001, sender=governor)
    # the freshness bound's edges: 1 minute and 3 days are accepted, a second more is not
    min_age, max_age = int(rewards.MIN_FEED_AGE()), int(rewards.MAX_FEED_AGE())
    assert (min_age, max_age) == (60, 3 * 86_400)
    for age in (min_age, max_age):
        rewards.setPriceFeed(feed, age, 5_000, sender=governor)
        assert rewards.feedMaxAge() == age
    with ape.reverts(rewards.RewardsParameterOutOfBounds, name=b"feedMaxAge".ljust(32, b"\0"),
                     value=max_age + 1, min=min_age, max=max_age):
        rewards.setPriceFeed(feed, max_age + 1, 2_000, sender=governor)


# ---------------------------------------------------------------- the wash-trading attack
@pytest.mark.parametrize("price_multiple", [1, 10, 100])
def test_wash_trading__self_charging_never_pays_at_any_price(
        realistic: None, project: Any, create_station: Any, create_driver: Any, operator: Any,
        attacker: Any, referrer: Any, credits: Any, oracle: Any, sign: Any, make_receipt: Any,
        chain: Any, rewards: Any, governor: Any, credit_id: int, price_multiple: int,
        watt: Any) -> None:
    """The operator's second wallet (`attacker`) charges at the operator's certified station at
    the minimum tariff, with a third wallet of its own (`referrer`) as referrer: 85 % of the
    money comes back, and the WATT it earns, at the feed's market price, is worth less than the
    15 % it loses (before the electricity it also pays for)."""
    feed = project.MockPriceFeed.deploy(18, sender=governor)
    st = create_station(operator, tariff=MIN_TARIFF, rated_power_w=50_000)
    create_driver(attacker, credits_amount=50 * USDC)
    credits.setReferrer(referrer, sender=attacker)
    epoch = enter_next_epoch(chain, rewards)
    paid = 0
    for _ in range(5):  # five 40 kWh sessions
        chain.pending_timestamp += 3 * 3_600
        r = make_receipt(st, attacker, energy_wh=40_000, referrer=referrer.address)
        settle_signed(credits, oracle, sign, r, st)
        paid += r.cost
    back = int(credits.owed(operator, credit_id)) + int(credits.owed(referrer, credit_id))
    price = FLOOR * price_multiple
    chain.pending_timestamp = int(rewards.claimableAt(epoch))
    feed.push(price, chain.pending_timestamp, sender=governor)
    rewards.setPriceFeed(feed, 3_600, 2_000, sender=governor)
    before = int(watt.balanceOf(operator))
    rewards.claim([epoch], [st.station_id], sender=operator)
    minted = int(watt.balanceOf(operator)) - before
    watt_value_units = minted * price // WAD // 10**12  # USD wei -> 6-decimal credit units
    assert minted > 0
    assert back + watt_value_units < paid


# ---------------------------------------------------------------- permissionless proofs
@pytest.fixture
def staked_station(create_station: Any, operator: Any, chain: Any) -> Any:
    st = create_station(operator, rated_power_w=22_000)
    chain.pending_timestamp += 2 * 3_600  # sessions after genesis and registration
    return st


def test_prove_over_power__slashes_pays_the_prover_and_forfeits(
        staked_station: Any, make_receipt: Any, driver: Any, domain: Domain, staking: Any,
        rewards: Any, watt: Any, attacker: Any, operator: Any, chain: Any,
        commit_evidence: Any) -> None:
    st = staked_station
    fake = make_receipt(st, driver, energy_wh=30_000, duration=3_600)  # 30 kWh in 1 h at 22 kW
    commit_evidence(over_power_id(receipt_struct_hash(fake)), attacker)
    stake = int(staking.stakeOf(operator).active)
    amount = min(int(staking.equivocationSlash()), stake)
    bounty = amount * int(staking.equivocationBountyBps()) // 10_000
    epoch = (fake.end_time - int(rewards.genesis())) // WEEK
    staking.proveOverPower(receipt_tuple(fake), sign_receipt(st.key, domain, fake), sender=attacker)
    assert staking.stakeOf(operator).active == stake - amount
    assert watt.balanceOf(attacker) == bounty
    assert rewards.forfeited(epoch, st.station_id)
    with ape.reverts(staking.StakingEvidenceUsed):
        staking.proveOverPower(receipt_tuple(fake), sign_receipt(st.key, domain, fake),
                               sender=attacker)


def test_prove_over_power__a_plausible_receipt_is_no_proof(
        staked_station: Any, make_receipt: Any, driver: Any, domain: Domain, staking: Any,
        attacker: Any) -> None:
    ok = make_receipt(staked_station, driver, energy_wh=22_000, duration=3_600)
    with ape.reverts(staking.StakingNotFraud):
        staking.proveOverPower(receipt_tuple(ok), sign_receipt(staked_station.key, domain, ok),
                               sender=attacker)


def test_prove_over_power__someone_elses_signature_is_no_proof(
        staked_station: Any, make_receipt: Any, driver: Any, domain: Domain, staking: Any,
        attacker: Any) -> None:
    fake = make_receipt(staked_station, driver, energy_wh=30_000, duration=3_600)
    with ape.reverts(staking.StakingBadEvidenceSignature):
        staking.proveOverPower(receipt_tuple(fake), sign_receipt(b"\x11" * 32, domain, fake),
                               sender=attacker)


def test_prove_driver_overlap__one_operator_two_stations_same_driver_at_once(
        create_station: Any, operator: Any, make_receipt: Any, driver: Any, domain: Domain,
        staking: Any, rewards: Any, attacker: Any, chain: Any) -> None:
    a, b = create_station(operator), create_station(operator)
    chain.pending_timestamp += 2 * 3_600
    ra = make_receipt(a, driver, duration=3_600)
    rb = make_receipt(b, driver, duration=3_600, end=ra.end_time - 600)
    stake = int(staking.stakeOf(operator).active)
    staking.proveDriverOverlap(receipt_tuple(ra), sign_receipt(a.key, domain, ra),
                               receipt_tuple(rb), sign_receipt(b.key, domain, rb), sender=attacker)
    assert staking.stakeOf(operator).active < stake
    epoch = (ra.end_time - int(rewards.genesis())) // WEEK
    assert rewards.forfeited(epoch, a.station_id) and rewards.forfeited(epoch, b.station_id)


@pytest.mark.parametrize("case", ["other_operator", "back_to_back", "other_driver"])
def test_prove_driver_overlap__not_a_proof(
        create_station: Any, operator: Any, operator2: Any, make_receipt: Any, driver: Any,
        driver2: Any, domain: Domain, staking: Any, attacker: Any, case: str) -> None:
    a = create_station(operator)
    b = create_station(operator2 if case == "other_operator" else operator)
    ra = make_receipt(a, driver, duration=3_600)
    end_b = ra.end_time + 3_600 if case == "back_to_back" else ra.end_time - 600
    rb = make_receipt(b, driver2 if case == "other_driver" else driver, duration=3_600, end=end_b)
    with ape.reverts(staking.StakingNotFraud):
        staking.proveDriverOverlap(receipt_tuple(ra), sign_receipt(a.key, domain, ra),
                                   receipt_tuple(rb), sign_receipt(b.key, domain, rb),
                                   sender=attacker)


# ---------------------------------------------------------------- consent to the station
@pytest.fixture
def scoped(create_station: Any, create_driver: Any, operator: Any, operator2: Any, driver: Any,
           chain: Any) -> tuple[Any, Any]:
    """A driver with credits and a mandate but no consent yet; stations of two operators."""
    mine, other = create_station(operator), create_station(operator2)
    create_driver(driver, any_station=False)
    chain.pending_timestamp += 2 * 3_600
    return mine, other


def test_consent__a_mandate_alone_lets_no_station_charge(
        scoped: tuple[Any, Any], driver: Any, credits: Any, settle: Any, sign: Any,
        make_receipt: Any, oracle: Any, credit_id: int) -> None:
    """The issue's attack: any registered station charging a driver who never plugged in."""
    mine, _ = scoped
    before = credits.balanceOf(driver, credit_id)
    tx = settle([sign(make_receipt(mine, driver), mine.key)], oracle)
    assert [int(log.reason) for log in tx.decode_logs(credits.ReceiptRejected)] == [8]
    assert credits.balanceOf(driver, credit_id) == before


def test_consent__only_the_operators_the_driver_chose(
        scoped: tuple[Any, Any], driver: Any, operator: Any, credits: Any, settle: Any,
        sign: Any, make_receipt: Any, oracle: Any, credit_id: int, chain: Any) -> None:
    mine, other = scoped
    tx = credits.setConsent(credit_id, operator, True, sender=driver)
    [log] = tx.decode_logs(credits.ConsentSet)
    assert (log.driver, log.operator, log.allowed) == (driver.address, operator.address, True)
    a, b = make_receipt(mine, driver), make_receipt(other, driver)
    tx = settle([sign(a, mine.key), sign(b, other.key)], oracle)
    assert [(log.stationId, int(log.reason)) for log in tx.decode_logs(credits.ReceiptRejected)
            ] == [(other.station_id, 8)]
    assert credits.isSettled(mine.station_id, a.session_id)
    credits.setConsent(credit_id, operator, False, sender=driver)  # withdrawn: binds later starts
    chain.pending_timestamp += 2 * 3_600
    c = make_receipt(mine, driver)  # began after the withdrawal
    tx = settle([sign(c, mine.key)], oracle)
    assert [int(log.reason) for log in tx.decode_logs(credits.ReceiptRejected)] == [8]


def test_consent__any_station_is_an_explicit_choice_per_credit_id(
        scoped: tuple[Any, Any], driver: Any, credits: Any, settle: Any, sign: Any,
        make_receipt: Any, oracle: Any, credit_id: int) -> None:
    mine, other = scoped
    credits.setConsent(credit_id, ZERO, True, sender=driver)
    assert credits.accountOf(driver, credit_id).anyStation
    tx = settle([sign(make_receipt(mine, driver), mine.key),
                 sign(make_receipt(other, driver), other.key)], oracle)
    assert not list(tx.decode_logs(credits.ReceiptRejected))
    # Settlement keeps the flag (it rewrites the rest of the driver's slot).
    assert credits.accountOf(driver, credit_id).anyStation
