"""Parity: what a settled batch does on chain is what wattnet.econ computes, to the smallest
unit. Hypothesis draws the split, the epoch cap, the station (declared and certified power,
region multiplier, attestation, certification) and a batch of sessions (energy up to the rated
power, referrers of every kind); the test settles the batch and compares payouts, the station's
epoch record and the epoch's weight with the rules. It also checks the economic model's one
step per station-epoch against the chain's per-session rounding (docs/economics.md)."""

from __future__ import annotations

from typing import Any

from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from wattnet.chain.batch_codec import pack_tuples
from wattnet.chain.deploy import WEEK, geohash_bytes8
from wattnet.econ.settlement import (
    referrer_counts,
    retained_fees_usd,
    session_cost,
    split_payment,
)
from wattnet.econ.weight import (
    accrue,
    effective_multiplier,
    epoch_cap_wh,
    rated_power_w,
    region_multiplier,
    settlement_multiplier,
    weight,
)

DAY = 86_400
ZERO = "0x" + "00" * 20
GEOHASH = "u4pruyd"  # no prefix of it is in params/local.yaml's table
PARITY = settings(max_examples=6, deadline=None, suppress_health_check=list(HealthCheck))

# (energy as a share of what the rated power allows in the session, in bps; driver 0 or 1;
# whom the receipt names as referrer)
SESSIONS = st.lists(
    st.tuples(st.integers(0, 10_000), st.integers(0, 1),
              st.sampled_from(["none", "chosen", "operator", "stranger"])),
    min_size=1, max_size=6)


@PARITY
@given(
    shares=st.tuples(st.integers(5_000, 10_000), st.integers(0, 2_000)).filter(
        lambda s: s[0] + s[1] <= 10_000),
    cap_bps=st.integers(1_000, 10_000),
    declared_w=st.integers(1_000, 2_000_000),
    certified_max_w=st.one_of(st.none(), st.integers(1, 2_000_000)),
    region=st.tuples(st.integers(1, 7), st.sampled_from([0, 5_000, 9_999, 10_000, 10_001,
                                                          30_000]), st.booleans()),
    uncertified_bps=st.integers(0, 2_000),
    tariff=st.integers(50_000, 2_000_000),
    hours=st.integers(1, 168),
    sessions=SESSIONS,
)
# a certified meter below the declared power, a boosted attested region, a paid referrer next
# to ones that do not count, and a week-long first session past the epoch cap
@example(shares=(8_000, 500), cap_bps=1_000, declared_w=22_000, certified_max_w=11_000,
         region=(3, 30_000, True), uncertified_bps=0, tariff=350_000, hours=168,
         sessions=[(10_000, 0, "chosen"), (5_000, 1, "operator"), (10_000, 0, "stranger"),
                   (3_333, 1, "none")])
# an uncertified station in a penalised region, the split at its bounds, odd energies
@example(shares=(5_000, 2_000), cap_bps=10_000, declared_w=2_000_000, certified_max_w=None,
         region=(7, 5_000, False), uncertified_bps=2_000, tariff=1_999_999, hours=1,
         sessions=[(1, 0, "chosen"), (9_999, 0, "chosen"), (0, 1, "none")])
def test_parity_settlement__payouts_station_record_and_weight_to_the_wei(
        shares: tuple[int, int], cap_bps: int, declared_w: int, certified_max_w: int | None,
        region: tuple[int, int, bool], uncertified_bps: int, tariff: int, hours: int,
        sessions: list[tuple[int, int, str]], chain: Any, isolated: Any, credits: Any,
        registry: Any, governor: Any, oracle: Any, operator: Any, driver: Any, driver2: Any,
        referrer: Any, attacker: Any, treasury: Any, create_station: Any, create_driver: Any,
        certify: Any, make_receipt: Any, sign: Any, credit_id: int, rewards: Any) -> None:
    with isolated():
        op_bps, ref_bps = shares
        credits.setShares(op_bps, ref_bps, sender=governor)
        credits.setStationEpochCap(cap_bps, sender=governor)
        # one session may last up to a week, so one can reach the epoch cap
        credits.setTiming((8 * DAY, 3_600, 7 * DAY), sender=governor)
        registry.setUncertifiedRewardBps(uncertified_bps, sender=governor)
        length, bps, attested = region
        table = [(GEOHASH[:length], bps)]
        registry.setRegionMultiplier(geohash_bytes8(table[0][0]), bps, sender=governor)
        station = create_station(operator, rated_power_w=declared_w, geohash=GEOHASH,
                                 tariff=tariff, certified=False)
        if certified_max_w is not None:
            certify(station, max_power_w=certified_max_w)
        registry.attestLocation(station.station_id, attested, sender=governor)
        power = rated_power_w(declared_w, certified_max_w)
        assert registry.getStation(station.station_id).ratedPowerW == power
        mult = settlement_multiplier(
            effective_multiplier(region_multiplier(table, GEOHASH), attested),
            certified_max_w is not None, uncertified_bps)
        assert registry.settlementView(station.station_id, credit_id).multiplierBps == mult

        duration = hours * 3_600
        chain.pending_timestamp += duration + 60  # sessions start after the tariff was set
        drivers = (driver, driver2)
        chosen = (referrer.address, operator.address)  # each driver's own choice
        energies = [power * duration // 3_600 * share // 10_000 for share, _, _ in sessions]
        costs = [session_cost(e, tariff) for e in energies]
        for k, d in enumerate(drivers):
            spend = sum(c for c, (_, who, _) in zip(costs, sessions, strict=True) if who == k)
            # mandates count in cap units (0.01 USDC), each session rounded up
            create_driver(d, credits_amount=spend + 1, per_session_cap=spend + 10_000,
                          daily_cap=spend + 10_000 * (len(sessions) + 1))
            credits.setReferrer(chosen[k], sender=d)
        named = {"none": ZERO, "chosen": None, "operator": operator.address,
                 "stranger": attacker.address}
        batch, expected = [], {"operator": 0, "treasury": 0, "referrer": 0, "stranger": 0}
        rewarded, added, retained = 0, 0, 0
        cap = epoch_cap_wh(power, cap_bps)
        for (_, who, kind), energy, cost in zip(sessions, energies, costs, strict=True):
            name = named[kind] or chosen[who]
            r = make_receipt(station, drivers[who], energy_wh=energy, duration=duration,
                             referrer=name)
            batch.append(sign(r, station.key))
            pay = split_payment(cost, op_bps, ref_bps,
                                referrer_counts(name, chosen[who], operator.address))
            expected["operator"] += pay.operator
            expected["treasury"] += pay.treasury
            if pay.referrer:
                expected["referrer" if name == referrer.address else "stranger"] += pay.referrer
            if cost:  # paid; the drivers are not the operator; make_receipt commits readings
                rewarded, w = accrue(rewarded, energy, cap, mult)
                added += w
            retained += pay.retained
        payees = {"operator": operator, "treasury": treasury, "referrer": referrer,
                  "stranger": attacker}
        before = {k: int(credits.owed(a, credit_id)) for k, a in payees.items()}
        epoch = (chain.pending_timestamp - int(rewards.genesis())) // WEEK
        total_before = int(credits.totalEpochWeight(epoch))
        tx = credits.settlePacked(pack_tuples(batch), sender=oracle)
        assert (int(chain.blocks.head.timestamp) - int(rewards.genesis())) // WEEK == epoch
        assert not list(tx.decode_logs(credits.ReceiptRejected))
        got = {k: int(credits.owed(a, credit_id)) - before[k] for k, a in payees.items()}
        assert got == expected
        event(f"referrer paid: {expected['referrer'] > 0}; cap reached: {rewarded == cap}")
        record = credits.stationEpoch(epoch, station.station_id)
        unit = int(credits.capUnitOf(credit_id))
        assert (int(record.rewardedWh), int(record.weight), int(record.fees)) == (
            rewarded, added, retained_fees_usd(retained, unit))
        assert int(credits.totalEpochWeight(epoch)) - total_before == added
        # the model takes the station-epoch's sessions as one: never less weight, by less than
        # one unit per paid session (docs/economics.md, "Rounding")
        paid = [e for e, c in zip(energies, costs, strict=True) if c]
        one_step = weight(sum(paid), cap, mult)
        assert 0 <= one_step - added < max(len(paid), 1)


@PARITY
@given(prefixes=st.lists(st.tuples(st.integers(1, 8),
                                   st.sampled_from([0, 5_000, 12_345, 30_000])),
                         min_size=1, max_size=5),
       probe=st.integers(1, 8))
def test_parity_region_multiplier__longest_listed_prefix_and_the_cached_copy(
        prefixes: list[tuple[int, int]], probe: int, chain: Any, isolated: Any, registry: Any,
        governor: Any, operator: Any, create_station: Any, credit_id: int) -> None:
    gh = "sp3e9yz8"
    with isolated():
        station = create_station(operator, geohash=gh[:probe])
        registry.attestLocation(station.station_id, True, sender=governor)
        cached = int(registry.getStation(station.station_id).multiplierBps)
        table: dict[str, int] = {}
        for length, bps in prefixes:
            registry.setRegionMultiplier(geohash_bytes8(gh[:length]), bps, sender=governor)
            table[gh[:length]] = bps
        live = region_multiplier(table.items(), gh[:probe])
        assert int(registry.regionMultiplier(geohash_bytes8(gh[:probe]))) == live
        # the station keeps the multiplier it registered with until someone syncs it
        assert int(registry.getStation(station.station_id).multiplierBps) == cached
        registry.syncRegion([station.station_id], sender=operator)
        assert int(registry.settlementView(station.station_id, credit_id).multiplierBps) == live
