"""RewardsEngine: the phased, decaying emission schedule, its governance, and claims of closed
epochs shared by settled, region-weighted energy; never more than the schedule or the WATT cap.
"""

from __future__ import annotations

from typing import Any

import ape
import pytest

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import DAY, WAD, WEEK, DeployConfig, geohash_bytes8, local_config
from wattnet.governance.schedule import emission_at


@pytest.fixture(scope="module")
def config() -> DeployConfig:
    """params/local.yaml with the fee bound out of the way of the emission arithmetic
    (multiple 100 %, the lowest floor) and no region table; the bound's own tests are in
    test_fraud_never_pays.py and test_parity_rewards.py."""
    return local_config({"rewards.fee_multiple_bps": 10_000,
                         "rewards.watt_price_floor": "0.000000000001",
                         "registry.region_multipliers": {}})

HOUR = 3_600
BPS = 10_000


def expected_emission(phases: list[tuple[int, int, int, int]], epoch: int) -> int:
    """RewardsEngine.emissionOf, by the Python mirror the parameter-change planner uses."""
    for phase in phases:
        if phase[0] <= epoch < phase[1]:
            return emission_at(phase, epoch)
    return 0


def enter_next_epoch(chain: Any, rewards: Any) -> int:
    """Move 2 days into the next epoch (room for sessions); return its number."""
    genesis = int(rewards.genesis())
    epoch = (chain.pending_timestamp - genesis) // WEEK + 1
    chain.pending_timestamp = genesis + epoch * WEEK + 2 * DAY
    return epoch


def close_epoch(chain: Any, rewards: Any, epoch: int) -> None:
    """Move past the epoch's end and its challenge window (its rewards leave escrow)."""
    chain.pending_timestamp = int(rewards.claimableAt(epoch)) + HOUR
    chain.mine()


@pytest.fixture
def settle(credits: Any, oracle: Any, sign: Any, make_receipt: Any) -> Any:
    def settle_(station: Any, driver: Any, energy_wh: int) -> None:
        receipt = make_receipt(station, driver, energy_wh=energy_wh)
        tx = credits.settlePacked(pack_tuples([sign(receipt, station.key)]), sender=oracle)
        assert not list(tx.decode_logs(credits.ReceiptRejected))

    return settle_


@pytest.fixture
def two_stations(create_station: Any, create_driver: Any, operator: Any, operator2: Any,
                 driver: Any) -> tuple[Any, Any]:
    a = create_station(operator)
    b = create_station(operator2)
    create_driver(driver)
    return a, b


# ---------------------------------------------------------------- schedule
def test_emission_of__follows_each_phase_with_decay_and_stops_after_the_last(
        rewards: Any, config: Any) -> None:
    phases = [p.as_tuple() for p in config.phases]  # params/local.yaml's schedule
    assert [tuple(p) for p in rewards.phases()] == phases
    end = phases[-1][1]
    for start, stop, decay, e0 in phases:
        for epoch in (start, start + 1, start + 2, stop - 2, stop - 1):
            assert rewards.emissionOf(epoch) == expected_emission(phases, epoch) > 0
        assert rewards.emissionOf(start) == e0
        assert rewards.emissionOf(start + 1) == e0 * (BPS - decay) // BPS
        if decay:
            assert rewards.emissionOf(stop - 1) < rewards.emissionOf(stop - 2)
    for epoch in (end, end + 1, 10_000, 2**32):
        assert rewards.emissionOf(epoch) == 0


def test_scheduled_total__bounds_every_emission_and_the_cap(
        rewards: Any, config: Any, watt: Any) -> None:
    phases = [p.as_tuple() for p in config.phases]
    end = phases[-1][1]
    total = sum(expected_emission(phases, e) for e in range(0, end))
    probes = {e for p in phases for e in (p[0], p[1] - 1)}
    assert sum(int(rewards.emissionOf(e)) for e in probes) == sum(
        expected_emission(phases, e) for e in probes)
    assert int(rewards.scheduledTotal()) >= total
    assert int(rewards.scheduledTotal()) - total <= total // 10**12  # rounding slack only
    assert rewards.maxEmission() == config.cap - config.genesis_supply
    assert int(rewards.scheduledTotal()) + int(watt.totalSupply()) <= int(watt.cap())


def test_set_schedule__changes_only_epochs_after_the_current_one(
        rewards: Any, governor: Any, chain: Any) -> None:
    epoch = enter_next_epoch(chain, rewards)
    chain.mine()
    assert rewards.currentEpoch() == epoch
    before = [int(rewards.emissionOf(e)) for e in range(epoch + 1)]
    tx = rewards.setSchedule(
        epoch + 1,
        [(epoch + 1, epoch + 11, 0, 7 * WAD), (epoch + 11, epoch + 21, 500, 3 * WAD)],
        sender=governor)
    assert [int(rewards.emissionOf(e)) for e in range(epoch + 1)] == before
    assert rewards.emissionOf(epoch + 1) == rewards.emissionOf(epoch + 10) == 7 * WAD
    assert rewards.emissionOf(epoch + 11) == 3 * WAD
    assert rewards.emissionOf(epoch + 12) == 3 * WAD * 9_500 // BPS
    assert rewards.emissionOf(epoch + 21) == 0
    [changed] = tx.decode_logs(rewards.ScheduleChanged)
    assert changed.fromEpoch == epoch + 1
    assert changed.scheduledTotal == rewards.scheduledTotal()


def test_set_schedule__rejects_phases_not_contiguous_from_the_start_epoch(
        rewards: Any, governor: Any, chain: Any) -> None:
    epoch = enter_next_epoch(chain, rewards)
    chain.mine()
    e = epoch + 1
    with ape.reverts(rewards.RewardsBadSchedule, index=0):
        rewards.setSchedule(e, [(epoch, epoch + 5, 0, WAD)], sender=governor)  # not at e
    with ape.reverts(rewards.RewardsBadSchedule, index=0):
        rewards.setSchedule(e, [(epoch + 2, epoch + 5, 0, WAD)], sender=governor)  # gap
    with ape.reverts(rewards.RewardsBadSchedule, index=1):
        rewards.setSchedule(e, [(e, epoch + 5, 0, WAD), (epoch + 6, epoch + 9, 0, WAD)],
                            sender=governor)
    with ape.reverts(rewards.RewardsBadSchedule, index=0):
        rewards.setSchedule(e, [(e, e, 0, WAD)], sender=governor)  # empty
    with ape.reverts(rewards.RewardsBadSchedule, index=0):
        rewards.setSchedule(e, [(e, epoch + 5, BPS, WAD)], sender=governor)  # 100 % decay


def test_set_schedule__start_must_be_a_future_epoch(
        rewards: Any, governor: Any, chain: Any) -> None:
    epoch = enter_next_epoch(chain, rewards)
    chain.mine()
    for start in (epoch, epoch - 1):
        with ape.reverts(rewards.RewardsScheduleStartPassed, fromEpoch=start, current=epoch):
            rewards.setSchedule(start, [(start, start + 5, 0, WAD)], sender=governor)
    with ape.reverts(rewards.RewardsScheduleStartPassed, fromEpoch=2**32, current=epoch):
        rewards.setSchedule(2**32, [], sender=governor)


def test_set_schedule__from_a_later_epoch_keeps_the_schedule_until_then(
        rewards: Any, governor: Any, chain: Any) -> None:
    """A proposal names an epoch beyond its voting and timelock delays: until then, nothing
    changes, whenever it executes."""
    epoch = enter_next_epoch(chain, rewards)
    chain.mine()
    start = epoch + 3
    before = [int(rewards.emissionOf(e)) for e in range(start)]
    rewards.setSchedule(start, [(start, start + 4, 0, 5 * WAD)], sender=governor)
    assert [int(rewards.emissionOf(e)) for e in range(start)] == before
    assert [int(rewards.emissionOf(e)) for e in range(start, start + 5)] == [5 * WAD] * 4 + [0]


def test_set_schedule__rejects_total_above_max_emission(
        rewards: Any, governor: Any, chain: Any) -> None:
    epoch = enter_next_epoch(chain, rewards)
    chain.mine()
    before = [tuple(p) for p in rewards.phases()]
    cap = int(rewards.maxEmission())
    with ape.reverts(rewards.RewardsScheduleExceedsCap, maxEmission=cap):
        rewards.setSchedule(epoch + 1, [(epoch + 1, epoch + 1_001, 0, cap // 1_000 + 1)],
                            sender=governor)
    assert [tuple(p) for p in rewards.phases()] == before


# ---------------------------------------------------------------- claims
def test_claim__splits_emission_by_station_weight(
        two_stations: Any, settle: Any, driver: Any, rewards: Any, watt: Any, chain: Any,
        operator: Any, operator2: Any, credits: Any) -> None:
    a, b = two_stations
    epoch = enter_next_epoch(chain, rewards)
    settle(a, driver, 10_000)
    settle(b, driver, 5_000)
    assert credits.totalEpochWeight(epoch) == 15_000
    close_epoch(chain, rewards, epoch)
    emission = int(rewards.emissionOf(epoch))
    assert rewards.claimable(a.station_id, epoch) == emission * 10_000 // 15_000
    before = int(watt.balanceOf(operator))
    tx = rewards.claim([epoch], [a.station_id], sender=operator)
    got_a = int(watt.balanceOf(operator)) - before
    assert got_a == emission * 10_000 // 15_000
    [ev] = tx.decode_logs(rewards.RewardsClaimed)
    assert (ev.epoch, ev.stationId, ev.operator, ev.amount) == (epoch, a.station_id,
                                                                operator.address, got_a)
    rewards.claim([epoch], [b.station_id], sender=operator2)
    got_b = int(watt.balanceOf(operator2))
    assert got_b == emission * 5_000 // 15_000
    assert rewards.mintedFor(epoch) == got_a + got_b <= emission
    assert rewards.claimable(a.station_id, epoch) == 0


def test_claim__only_the_stations_operator(
        two_stations: Any, settle: Any, driver: Any, rewards: Any, chain: Any, attacker: Any,
        operator: Any, operator2: Any) -> None:
    a, b = two_stations
    epoch = enter_next_epoch(chain, rewards)
    settle(a, driver, 10_000)
    close_epoch(chain, rewards, epoch)
    with ape.reverts(rewards.RewardsNotOperator, stationId=a.station_id, caller=attacker.address,
                     operator=operator.address):
        rewards.claim([epoch], [a.station_id], sender=attacker)
    with ape.reverts(rewards.RewardsNotOperator, stationId=a.station_id, caller=operator2.address,
                     operator=operator.address):
        rewards.claim([epoch], [b.station_id, a.station_id], sender=operator2)
    assert not rewards.claimed(epoch, a.station_id)
    assert rewards.totalMinted() == 0


def test_claim__only_closed_epochs(
        two_stations: Any, settle: Any, driver: Any, rewards: Any, chain: Any,
        operator: Any) -> None:
    a, _b = two_stations
    epoch = enter_next_epoch(chain, rewards)
    settle(a, driver, 10_000)
    with ape.reverts(rewards.RewardsEpochNotClosed, epoch=epoch, current=epoch):
        rewards.claim([epoch], [a.station_id], sender=operator)
    with ape.reverts(rewards.RewardsEpochNotClosed, epoch=epoch + 5, current=epoch):
        rewards.claim([epoch + 5], [a.station_id], sender=operator)
    assert rewards.claimable(a.station_id, epoch) == 0


def test_claim__only_once(
        two_stations: Any, settle: Any, driver: Any, rewards: Any, chain: Any, operator: Any,
        watt: Any) -> None:
    a, _b = two_stations
    epoch = enter_next_epoch(chain, rewards)
    settle(a, driver, 10_000)
    close_epoch(chain, rewards, epoch)
    rewards.claim([epoch], [a.station_id], sender=operator)
    balance = int(watt.balanceOf(operator))
    assert balance == rewards.emissionOf(epoch)  # sole station: the whole emission
    with ape.reverts(rewards.RewardsAlreadyClaimed, stationId=a.station_id, epoch=epoch):
        rewards.claim([epoch], [a.station_id], sender=operator)
    with ape.reverts(rewards.RewardsAlreadyClaimed, stationId=a.station_id, epoch=epoch):
        rewards.claim([epoch - 1, epoch], [a.station_id], sender=operator)
    assert watt.balanceOf(operator) == balance


def test_claim__same_epoch_twice_in_one_call_reverts(
        two_stations: Any, settle: Any, driver: Any, rewards: Any, chain: Any,
        operator: Any) -> None:
    a, _b = two_stations
    epoch = enter_next_epoch(chain, rewards)
    settle(a, driver, 10_000)
    close_epoch(chain, rewards, epoch)
    with ape.reverts(rewards.RewardsAlreadyClaimed, stationId=a.station_id, epoch=epoch):
        rewards.claim([epoch, epoch], [a.station_id], sender=operator)
    assert rewards.totalMinted() == 0


def test_claim__rounding_never_mints_more_than_the_emission(
        create_station: Any, create_driver: Any, settle: Any, driver: Any, rewards: Any,
        chain: Any, operator: Any, operator2: Any) -> None:
    stations = [create_station(operator), create_station(operator2), create_station(operator)]
    create_driver(driver)
    epoch = enter_next_epoch(chain, rewards)
    while int(rewards.emissionOf(epoch)) % 3 == 0:
        epoch = enter_next_epoch(chain, rewards)
    for s in stations:
        settle(s, driver, 1)  # weight 1 each: thirds of an emission not divisible by 3
    close_epoch(chain, rewards, epoch)
    emission = int(rewards.emissionOf(epoch))
    assert emission % 3 != 0
    rewards.claim([epoch], [stations[0].station_id, stations[2].station_id], sender=operator)
    rewards.claim([epoch], [stations[1].station_id], sender=operator2)
    assert int(rewards.mintedFor(epoch)) == 3 * (emission // 3) < emission


def test_claim__region_multiplier_weighs_energy(
        two_stations: Any, settle: Any, driver: Any, rewards: Any, chain: Any, registry: Any,
        governor: Any, credits: Any, operator: Any, operator2: Any, watt: Any) -> None:
    a, b = two_stations
    registry.setRegionMultiplier(geohash_bytes8("u33"), 20_000, sender=governor)
    registry.syncRegion([a.station_id, b.station_id], sender=governor)
    assert registry.getStation(a.station_id).multiplierBps == 10_000  # a boost needs attesting
    registry.attestLocation(a.station_id, True, sender=governor)
    assert registry.getStation(a.station_id).multiplierBps == 20_000
    epoch = enter_next_epoch(chain, rewards)
    settle(a, driver, 6_000)
    registry.setRegionMultiplier(geohash_bytes8("u33"), 5_000, sender=governor)
    registry.syncRegion([b.station_id], sender=governor)
    settle(b, driver, 6_000)
    assert credits.stationEpoch(epoch, a.station_id).weight == 12_000
    assert credits.stationEpoch(epoch, b.station_id).weight == 3_000
    close_epoch(chain, rewards, epoch)
    emission = int(rewards.emissionOf(epoch))
    rewards.claim([epoch], [a.station_id], sender=operator)
    rewards.claim([epoch], [b.station_id], sender=operator2)
    assert watt.balanceOf(operator) == emission * 12_000 // 15_000
    assert watt.balanceOf(operator2) == emission * 3_000 // 15_000


def test_claim__after_large_time_jump_never_exceeds_schedule(
        two_stations: Any, settle: Any, driver: Any, rewards: Any, chain: Any, operator: Any,
        watt: Any, create_driver: Any) -> None:
    a, _b = two_stations
    epochs = []
    for _ in range(3):
        epochs.append(enter_next_epoch(chain, rewards))
        settle(a, driver, 10_000)
    # Jump far past the end of the schedule; a session there earns nothing.
    chain.pending_timestamp = int(rewards.genesis()) + 600 * WEEK + 2 * DAY
    create_driver(driver)  # a fresh day allowance and credits
    settle(a, driver, 10_000)
    close_epoch(chain, rewards, 600)
    assert rewards.emissionOf(600) == 0
    with ape.reverts(rewards.RewardsNothingToClaim, operator=operator.address):
        rewards.claim([600], [a.station_id], sender=operator)
    supply = int(watt.totalSupply())
    held = int(watt.balanceOf(operator))
    tx = rewards.claim(epochs, [a.station_id], sender=operator)
    amount = int(watt.balanceOf(operator)) - held
    assert amount == sum(int(ev.amount) for ev in tx.decode_logs(rewards.RewardsClaimed))
    assert amount == sum(int(rewards.emissionOf(e)) for e in epochs)
    assert int(rewards.totalMinted()) == amount
    assert int(watt.totalSupply()) == supply + amount <= int(watt.cap())
    for e in epochs:
        assert rewards.mintedFor(e) <= rewards.emissionOf(e)


def test_claim__station_without_weight_has_nothing_to_claim(
        two_stations: Any, settle: Any, driver: Any, rewards: Any, chain: Any,
        operator2: Any) -> None:
    a, b = two_stations
    epoch = enter_next_epoch(chain, rewards)
    settle(a, driver, 10_000)
    close_epoch(chain, rewards, epoch)
    with ape.reverts(rewards.RewardsNothingToClaim, operator=operator2.address):
        rewards.claim([epoch], [b.station_id], sender=operator2)
    assert not rewards.claimed(epoch, b.station_id)
