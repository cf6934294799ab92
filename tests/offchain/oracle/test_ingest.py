"""Ingest: verification, dedupe, equivocation, rejection log, plausibility (both backends)."""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest

from wattnet.chain.eip712 import SECP256K1_N, Domain, address_of_private_key
from wattnet.oracle.config import OracleConfig, PlausibilityLimits
from wattnet.oracle.directory import CachedStationDirectory, InMemoryStationDirectory
from wattnet.oracle.ingest import MAX_CONFLICTS_PER_SESSION, Ingestor, Outcome
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.schema import Status
from wattnet.oracle.store_base import Store
from wattnet.oracle.verify import Verifier

from .oracle_helpers import DOMAIN, T0, Clock, Station, key, make_receipt, rows, sign

Make = Callable[..., dict[str, Any]]


def one(ingestor: Ingestor, obj: Any) -> Outcome:
    (outcome,) = ingestor.process([obj])
    return outcome


def statuses(store: Store) -> list[tuple[int, str]]:
    return [(int.from_bytes(bytes(k), "big"), s) for k, s in
            rows(store, "SELECT session_key, status FROM receipts ORDER BY id")]


def test_ingest__valid_receipt_is_accepted_and_stored_pending(
    ingestor: Ingestor, store: Store, station: Station, create_receipt: Make
) -> None:
    assert one(ingestor, create_receipt(station, 7)) == Outcome("accepted", None)
    assert statuses(store) == [(7, Status.PENDING)]
    assert ingestor.metrics.counter("accepted") == 1


def test_ingest__same_receipt_twice_is_a_duplicate_stored_once(
    ingestor: Ingestor, store: Store, station: Station, create_receipt: Make
) -> None:
    body = create_receipt(station, 7)
    assert one(ingestor, body).status == "accepted"
    assert one(ingestor, copy.deepcopy(body)) == Outcome("duplicate", None)
    assert statuses(store) == [(7, Status.PENDING)]


def test_ingest__duplicate_after_restart_is_still_recognised(
    make_store: Callable[[], Store], make_ingestor: Callable[..., Ingestor], station: Station,
    create_receipt: Make,
) -> None:
    body = create_receipt(station, 7)
    first = make_store()
    assert make_ingestor(st=first).process([body])[0].status == "accepted"
    first.close()
    second = make_store()
    assert make_ingestor(st=second).process([body])[0].status == "duplicate"
    assert statuses(second) == [(7, Status.PENDING)]


def test_ingest__dedupe_is_by_struct_hash_not_signature_bytes(
    ingestor: Ingestor, store: Store, station: Station, directory: InMemoryStationDirectory,
) -> None:
    r = make_receipt(station, 7)
    assert one(ingestor, sign(station, r)).status == "accepted"
    # the registry rotates the station's signer; the same content signed by the new key
    new_key = key("rotated")
    directory.put(replace(station.info, signer=address_of_private_key(new_key)))
    ingestor.verifier.directory.invalidate()
    resent = sign(station, r, signer_key=new_key)
    assert resent["signature"] != sign(station, r)["signature"]
    assert one(ingestor, resent) == Outcome("duplicate", None)
    assert len(statuses(store)) == 1


def test_ingest__equivocating_receipt_is_quarantined_with_both_kept(
    ingestor: Ingestor, store: Store, station: Station, create_receipt: Make
) -> None:
    first = create_receipt(station, 7, energy_wh=10_000)
    second = create_receipt(station, 7, energy_wh=12_000)
    assert one(ingestor, first).status == "accepted"
    out = one(ingestor, second)
    assert out.status == "quarantined" and out.reason is not None
    assert out.reason.startswith("equivocation")
    assert statuses(store) == [(7, Status.PENDING)]
    conflicts = rows(store, "SELECT struct_hash, signature FROM conflicts")
    assert len(conflicts) == 1
    assert "0x" + bytes(conflicts[0][1]).hex() == second["signature"]
    # resending the equivocating receipt gives the same answer and no second evidence row
    assert one(ingestor, second).status == "quarantined"
    assert len(rows(store, "SELECT id FROM conflicts")) == 1


def test_ingest__endless_equivocation_variants_keep_bounded_evidence(
    ingestor: Ingestor, store: Store, station: Station, create_receipt: Make
) -> None:
    assert one(ingestor, create_receipt(station, 7, energy_wh=1)).status == "accepted"
    variants = [create_receipt(station, 7, energy_wh=2 + i) for i in range(20)]
    assert {o.status for o in ingestor.process(variants)} == {"quarantined"}
    assert rows(store, "SELECT COUNT(*) FROM conflicts") == [(MAX_CONFLICTS_PER_SESSION,)]
    assert statuses(store) == [(7, Status.PENDING)]


def test_ingest__wrong_signer_is_rejected_with_reason_stored(
    ingestor: Ingestor, store: Store, station: Station
) -> None:
    body = sign(station, make_receipt(station), signer_key=key("attacker"))
    out = one(ingestor, body)
    assert out.status == "rejected" and "not the station signer" in str(out.reason)
    assert statuses(store) == []
    assert [r[0] for r in rows(store, "SELECT reason FROM rejected")] == [out.reason]


@pytest.mark.parametrize("domain", [Domain(1, DOMAIN.verifying_contract),
                                    Domain(DOMAIN.chain_id, "0x" + "ab" * 20)],
                         ids=["other-chain-id", "other-contract"])
def test_ingest__signature_for_another_domain_is_rejected(
    ingestor: Ingestor, store: Store, station: Station, domain: Domain
) -> None:
    out = one(ingestor, sign(station, make_receipt(station), domain=domain))
    assert out.status == "rejected"
    assert statuses(store) == []


def test_ingest__high_s_copy_of_a_valid_signature_is_rejected(
    ingestor: Ingestor, store: Store, station: Station, create_receipt: Make
) -> None:
    body = create_receipt(station, 7)
    sig = bytes.fromhex(body["signature"][2:])
    s = int.from_bytes(sig[32:64], "big")
    flipped = sig[:32] + (SECP256K1_N - s).to_bytes(32, "big") + bytes([55 - sig[64]])
    out = one(ingestor, {**body, "signature": "0x" + flipped.hex()})
    assert out.status == "rejected" and "upper half" in str(out.reason)
    assert one(ingestor, {**body, "signature": body["signature"][:-2] + "01"}).status == "rejected"
    assert statuses(store) == []
    assert one(ingestor, body).status == "accepted"


def test_ingest__old_key_after_rotation_and_unset_signer_are_rejected(
    ingestor: Ingestor, store: Store, station: Station, directory: InMemoryStationDirectory,
    create_station: Callable[..., Station], create_receipt: Make,
) -> None:
    directory.put(replace(station.info, signer=address_of_private_key(key("rotated"))))
    out = one(ingestor, create_receipt(station, 8))
    assert out.status == "rejected" and "not the station signer" in str(out.reason)
    unset = create_station("unset")
    directory.put(replace(unset.info, signer="0x" + "00" * 20))
    assert one(ingestor, create_receipt(unset, 1)).status == "rejected"
    assert statuses(store) == []


def test_ingest__unknown_or_inactive_station_is_rejected(
    ingestor: Ingestor, store: Store, create_station: Callable[..., Station],
    create_receipt: Make,
) -> None:
    ghost = create_station("ghost")
    inactive = create_station("sleepy", active=False)
    body = create_receipt(ghost)
    body["receipt"]["stationId"] = "0x" + "77" * 32
    assert "unknown station" in str(one(ingestor, body).reason)
    assert "not active" in str(one(ingestor, create_receipt(inactive)).reason)
    assert statuses(store) == []


@pytest.mark.parametrize(
    ("mutate", "needle"),
    [
        (lambda b: b["receipt"].pop("cost"), "missing ['cost']"),
        (lambda b: b["receipt"].__setitem__("energyWh", True), "energyWh"),
        (lambda b: b["receipt"].__setitem__("energyWh", 2**32), "energyWh"),
        (lambda b: b["receipt"].__setitem__("sessionId", "7"), "sessionId"),
        (lambda b: b.__setitem__("extra", 1), "unknown keys"),
        (lambda b: b["receipt"].__setitem__("driver", "0x" + "zz" * 20), "driver"),
        (lambda b: b.__setitem__("signature", "0x1234"), "signature"),
        (lambda b: b.__setitem__("meterData", 5), "meterData"),
    ],
)
def test_ingest__malformed_payload_is_rejected_with_a_clear_reason(
    ingestor: Ingestor, store: Store, station: Station, create_receipt: Make,
    mutate: Callable[[dict[str, Any]], Any], needle: str,
) -> None:
    body = create_receipt(station)
    mutate(body)
    out = one(ingestor, body)
    assert out.status == "rejected" and needle in str(out.reason)
    assert out.to_json() == {"error": out.reason}
    assert statuses(store) == []


def test_ingest__rejected_log_is_bounded(
    make_ingestor: Callable[..., Ingestor], store: Store, config: OracleConfig,
    station: Station,
) -> None:
    ing = make_ingestor(replace(config, max_rejected_rows=5))
    for i in range(4):
        ing.process([{"junk": "x" * 100_000, "i": i}] * 5)
    kept = rows(store, "SELECT body FROM rejected")
    assert len(kept) == 5
    assert all(len(b) <= 2_048 for (b,) in kept)


def test_ingest__batch_is_one_transaction_with_per_item_outcomes(
    ingestor: Ingestor, store: Store, station: Station, create_receipt: Make
) -> None:
    a, b = create_receipt(station, 1), create_receipt(station, 2, start_time=T0 - 3000,
                                                      end_time=T0 - 1000, energy_wh=100)
    bad = sign(station, make_receipt(station, 3), signer_key=key("attacker"))
    out = ingestor.process([a, bad, b, a])
    assert [o.status for o in out] == ["accepted", "rejected", "accepted", "duplicate"]
    assert statuses(store) == [(1, Status.PENDING), (2, Status.PENDING)]


# ---- plausibility: quarantined with the reason stored ----

@pytest.mark.parametrize(
    ("fields", "needle"),
    [
        ({"energy_wh": 22_001, "start_time": T0 - 3600, "end_time": T0}, "exceeds rated power"),
        ({"start_time": T0 - 100, "end_time": T0 - 100}, "not before end_time"),
        ({"start_time": T0 - 100, "end_time": T0 - 200}, "not before end_time"),
        ({"start_time": T0, "end_time": T0 + 3600}, "in the future"),
        ({"connector_id": 3}, "connector 3 does not exist"),
        ({"connector_id": 0}, "connector 0 does not exist"),
    ],
)
def test_plausibility__implausible_receipt_is_quarantined_with_reason(
    ingestor: Ingestor, store: Store, station: Station, create_receipt: Make,
    fields: dict[str, int], needle: str,
) -> None:
    out = one(ingestor, create_receipt(station, 9, **fields))
    assert out.status == "quarantined" and needle in str(out.reason)
    assert rows(store, "SELECT status, reason FROM receipts") == [(Status.QUARANTINED, out.reason)]


def test_plausibility__energy_exactly_at_rated_power_and_small_clock_skew_pass(
    ingestor: Ingestor, station: Station, create_receipt: Make
) -> None:
    body = create_receipt(station, 9, energy_wh=22_000, start_time=T0 - 3600 + 60,
                          end_time=T0 + 60)
    assert one(ingestor, body).status == "accepted"


def test_plausibility__overlapping_session_on_same_connector_is_quarantined(
    ingestor: Ingestor, store: Store, station: Station, create_receipt: Make
) -> None:
    assert one(ingestor, create_receipt(station, 1, start_time=T0 - 7200,
                                        end_time=T0 - 3600)).status == "accepted"
    overlap = create_receipt(station, 2, start_time=T0 - 4000, end_time=T0 - 100, energy_wh=10)
    out = one(ingestor, overlap)
    assert out.status == "quarantined" and "overlaps session 1" in str(out.reason)
    other_connector = create_receipt(station, 3, connector_id=2, start_time=T0 - 4000,
                                     end_time=T0 - 100, energy_wh=10)
    back_to_back = create_receipt(station, 4, start_time=T0 - 3600, end_time=T0 - 60,
                                  energy_wh=10)
    assert one(ingestor, other_connector).status == "accepted"
    assert one(ingestor, back_to_back).status == "accepted"


def test_plausibility__self_charging_is_quarantined_or_flagged(
    make_ingestor: Callable[..., Ingestor], store: Store, config: OracleConfig,
    station: Station, create_receipt: Make,
) -> None:
    body = create_receipt(station, 1, driver=station.info.operator)
    out = one(make_ingestor(), body)
    assert out.status == "quarantined" and "self-charging" in str(out.reason)
    flagging = replace(config, plausibility=PlausibilityLimits(self_charging="flag"))
    body2 = create_receipt(station, 2, driver=station.info.operator, connector_id=2)
    assert one(make_ingestor(flagging), body2).status == "accepted"
    assert rows(store, "SELECT flags FROM receipts WHERE status = 'pending'") == [
        ("self-charging: driver is the station operator",)]


def test_plausibility__one_signer_key_behind_too_many_stations_is_quarantined(
    ingestor: Ingestor, create_station: Callable[..., Station], create_receipt: Make
) -> None:
    shared = key("farm")
    outs = [one(ingestor, create_receipt(create_station(f"farm-{i}", key=shared)))
            for i in range(4)]
    assert [o.status for o in outs] == ["accepted"] * 3 + ["quarantined"]
    assert "signs for 4 stations (limit 3)" in str(outs[-1].reason)


def test_plausibility__one_operator_behind_too_many_stations_is_quarantined(
    make_ingestor: Callable[..., Ingestor], config: OracleConfig,
    create_station: Callable[..., Station], create_receipt: Make,
) -> None:
    cfg = replace(config, plausibility=PlausibilityLimits(max_stations_per_operator=2))
    ing = make_ingestor(cfg)
    outs = [one(ing, create_receipt(create_station(f"op-{i}"))) for i in range(3)]
    assert [o.status for o in outs] == ["accepted", "accepted", "quarantined"]
    assert "runs 3 stations (limit 2)" in str(outs[-1].reason)


def test_plausibility__resent_quarantined_receipt_answers_quarantined_again(
    ingestor: Ingestor, station: Station, create_receipt: Make, clock: Clock
) -> None:
    body = create_receipt(station, 1, start_time=T0, end_time=T0 + 3600, energy_wh=10)
    first = one(ingestor, body)
    clock.now += 7200  # even once the times became plausible, the stored verdict stands
    assert one(ingestor, body) == first


def test_ingest__a_flood_of_made_up_stations_is_deferred_and_the_honest_receipt_stored(
    store: Store, station: Station, create_receipt: Make, directory: InMemoryStationDirectory,
    config: OracleConfig, clock: Clock,
) -> None:
    """A page of receipts from made-up stations beside an honest one: the registry is read for
    the budget's worth (those are rejected as unknown), the rest are deferred (not judged,
    nothing stored, sent again later), and the honest receipt is stored as always."""
    cached = CachedStationDirectory(directory, clock=clock, lookups_per_s=0, lookup_burst=3)
    ingestor = Ingestor(store, Verifier(DOMAIN.separator, cached), config, Metrics(), clock)
    cached.station(station.info.station_id)  # seen before the flood: one read of three
    fakes = [Station(replace(station.info, station_id=bytes([i]) * 32), station.key, f"F{i}")
             for i in range(1, 9)]
    out = ingestor.process([create_receipt(station, 7)] + [create_receipt(f, 1) for f in fakes])
    assert out[0] == Outcome("accepted", None)
    assert sorted(o.status for o in out[1:]) == ["deferred"] * 6 + ["rejected"] * 2
    assert statuses(store) == [(7, Status.PENDING)]
    assert len(rows(store, "SELECT id FROM rejected")) == 2 and directory.calls == 3
    assert ingestor.metrics.counter("deferred") == 6
