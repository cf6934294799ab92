"""Parity: claims, the escrow and findings' forfeits on chain are wattnet.econ's rules, to the
wei. Hypothesis draws the stations' energy in one epoch, the fee multiple, the price floor and
the challenge window; the test settles the sessions, closes the epoch and compares
``emissionOf``, ``claimable``, what ``claim`` mints and when, and what ``forfeit`` takes."""

from __future__ import annotations

from typing import Any

import ape
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import WEEK
from wattnet.econ.emission import emission_of
from wattnet.econ.rewards import claimable_at, forfeits, reward, watt_price

DAY = 86_400
REASON = b"PARITY".ljust(32, b"\x00")
PARITY = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))
# USD wei per WATT: 1e-12 USD (the lowest floor) .. 1e6 USD, spread over every magnitude
FLOORS = st.builds(lambda m, e: min(m * 10**e, 10**24), st.integers(1, 9), st.integers(6, 24))


def fresh_epoch(chain: Any, rewards: Any) -> int:
    """Move an hour into the next epoch, where nothing has settled yet; return its number."""
    genesis = int(rewards.genesis())
    epoch = (chain.pending_timestamp - genesis) // WEEK + 1
    chain.pending_timestamp = genesis + epoch * WEEK + 3_600
    return epoch


@PARITY
@given(energies=st.lists(st.integers(0, 22_000), min_size=1, max_size=3),
       multiple=st.integers(1, 10_000), floor=FLOORS, window=st.integers(DAY, 90 * DAY),
       early=st.booleans())
@example(energies=[10_000, 22_000, 1], multiple=10_000, floor=10**6, window=86_400, early=True)
@example(energies=[10_000, 3], multiple=5_000, floor=10**17, window=30 * 86_400, early=False)
def test_parity_rewards__emission_claimable_and_minted_are_the_rule(
        energies: list[int], multiple: int, floor: int, window: int, early: bool, chain: Any,
        isolated: Any, rewards: Any, credits: Any, watt: Any, governor: Any, oracle: Any,
        operator: Any, operator2: Any, driver: Any, create_station: Any, create_driver: Any,
        make_receipt: Any, sign: Any, config: Any) -> None:
    with isolated():
        rewards.setFeeMultipleBps(multiple, sender=governor)
        rewards.setPriceFloor(floor, sender=governor)
        rewards.setChallengeWindow(window, sender=governor)
        owners = [(operator, operator2)[i % 2] for i in range(len(energies))]
        stations = [create_station(op) for op in owners]
        create_driver(driver, credits_amount=1_000 * 10**6)
        epoch = fresh_epoch(chain, rewards)
        # 22 kW stations, one-hour sessions: every energy drawn is plausible
        batch = [sign(make_receipt(s, driver, energy_wh=e), s.key)
                 for s, e in zip(stations, energies, strict=True)]
        tx = credits.settlePacked(pack_tuples(batch), sender=oracle)
        assert not list(tx.decode_logs(credits.ReceiptRejected))
        records = [credits.stationEpoch(epoch, s.station_id) for s in stations]
        total = int(credits.totalEpochWeight(epoch))
        assert total == sum(int(r.weight) for r in records)  # nothing else settled this epoch

        emission = emission_of([p.as_tuple() for p in config.phases], epoch)
        assert int(rewards.emissionOf(epoch)) == emission
        price = watt_price(floor)  # no feed: the floor
        assert int(rewards.wattPrice()) == price
        due = [reward(emission, int(r.weight), total, int(r.fees), multiple, price)
               for r in records]
        shares = [emission * int(r.weight) // total if total else 0 for r in records]
        event("fee bound binds" if due != shares else "weight share paid")
        chain.pending_timestamp = genesis_end(rewards, epoch) + 1
        chain.mine()
        assert [int(rewards.claimable(s.station_id, epoch)) for s in stations] == due

        ready = claimable_at(int(rewards.genesis()), epoch, window)
        assert int(rewards.claimableAt(epoch)) == ready
        for i, (s, amount) in enumerate(zip(stations, due, strict=True)):
            if early and i == 0:  # the escrow: a second before claimableAt, nothing
                chain.pending_timestamp = ready - 1
                with ape.reverts(rewards.RewardsInChallengeWindow, epoch=epoch,
                                 claimableAt=ready):
                    rewards.claim([epoch], [s.station_id], sender=s.operator)
            chain.pending_timestamp = max(chain.pending_timestamp, ready)
            before = int(watt.balanceOf(s.operator))
            if amount == 0:
                with ape.reverts(rewards.RewardsNothingToClaim):
                    rewards.claim([epoch], [s.station_id], sender=s.operator)
                continue
            rewards.claim([epoch], [s.station_id], sender=s.operator)
            assert int(watt.balanceOf(s.operator)) - before == amount


def genesis_end(rewards: Any, epoch: int) -> int:
    """The first second after ``epoch`` (it is closed from then on)."""
    return int(rewards.genesis()) + (epoch + 1) * WEEK


@PARITY
@given(window=st.integers(DAY, 90 * DAY), offset=st.sampled_from([-DAY, -2, -1, 0, 1, DAY]),
       claim_first=st.booleans())
def test_parity_forfeit__only_unclaimed_rewards_before_claimable_at(
        window: int, offset: int, claim_first: bool, chain: Any, isolated: Any, rewards: Any,
        credits: Any, governor: Any, oracle: Any, operator: Any, driver: Any, create_station: Any,
        create_driver: Any, make_receipt: Any, sign: Any) -> None:
    with isolated():
        rewards.setChallengeWindow(window, sender=governor)
        rewards.setPriceFloor(10**6, sender=governor)  # the bound out of the way: a reward > 0
        station = create_station(operator)
        create_driver(driver)
        epoch = fresh_epoch(chain, rewards)
        receipt = make_receipt(station, driver)
        credits.settlePacked(pack_tuples([sign(receipt, station.key)]), sender=oracle)
        genesis = int(rewards.genesis())
        ready = claimable_at(genesis, epoch, window)
        claimed = claim_first and offset >= 0  # a claim needs claimableAt
        if claimed:
            chain.pending_timestamp = ready
            rewards.claim([epoch], [station.station_id], sender=operator)
        chain.pending_timestamp = max(chain.pending_timestamp, ready + offset)
        tx = rewards.forfeit(station.station_id, epoch, REASON, sender=governor)
        now = int(chain.blocks.head.timestamp)
        taken = forfeits(now, genesis, epoch, window, claimed, False)
        event(f"forfeited: {taken}")
        assert bool(rewards.forfeited(epoch, station.station_id)) == taken
        assert len(list(tx.decode_logs(rewards.RewardsForfeited))) == int(taken)
        if taken:  # forfeited: never minted, nothing to claim
            chain.pending_timestamp = max(chain.pending_timestamp, ready)
            assert int(rewards.claimable(station.station_id, epoch)) == 0
