"""The fast verifier agrees with the reference codec and EIP-712 code; the directory cache."""

from __future__ import annotations

import copy
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattnet.chain.eip712 import (
    address_of_private_key,
    receipt_digest,
    receipt_struct_hash,
    recover_receipt_signer,
    sign_receipt,
)
from wattnet.chain.receipt_codec import signed_from_json, signed_to_json
from wattnet.domain import SessionReceipt, SignedReceipt, StationInfo
from wattnet.errors import ReceiptError, SignatureError
from wattnet.oracle.directory import CachedStationDirectory, InMemoryStationDirectory
from wattnet.oracle.errors import DirectoryBusy, DirectoryUnavailable
from wattnet.oracle.verify import RejectedReceipt, parse_wire, recover_signer

from .oracle_helpers import DOMAIN, Clock

addresses = st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex())
receipts = st.builds(
    SessionReceipt,
    station_id=st.binary(min_size=32, max_size=32),
    session_id=st.integers(0, 2**64 - 1),
    connector_id=st.integers(0, 255),
    driver=addresses,
    credit_id=st.integers(0, 2**256 - 1),
    energy_wh=st.integers(0, 2**32 - 1),
    start_time=st.integers(0, 2**40 - 1),
    end_time=st.integers(0, 2**40 - 1),
    cost=st.integers(0, 2**128 - 1),
    referrer=addresses,
)
KEY = (7).to_bytes(32, "big")


@settings(max_examples=200, deadline=None)
@given(receipts)
def test_verify__fast_path_matches_codec_struct_hash_and_signer(r: SessionReceipt) -> None:
    sig = sign_receipt(KEY, DOMAIN, r)
    wire = parse_wire(signed_to_json(SignedReceipt(r, sig)))
    assert wire.struct_hash == receipt_struct_hash(r)
    assert wire.to_domain() == signed_from_json(signed_to_json(SignedReceipt(r, sig)))
    digest_signer = recover_signer(receipt_digest(DOMAIN, r), sig)
    assert "0x" + digest_signer.hex() == recover_receipt_signer(DOMAIN, r, sig).lower()


mutations = st.sampled_from([
    ("stationId", "0x" + "00" * 31), ("sessionId", -1), ("sessionId", 2**64), ("sessionId", 1.0),
    ("connectorId", 256), ("connectorId", None), ("energyWh", False), ("creditId", 2**256),
    ("driver", "0x" + "11" * 19), ("driver", "11" * 21), ("cost", "5"), ("startTime", 2**40),
    ("referrer", 5),
])


@settings(max_examples=100, deadline=None)
@given(receipts, mutations)
def test_verify__fast_path_rejects_whatever_the_codec_rejects(
    r: SessionReceipt, mutation: tuple[str, Any]
) -> None:
    body = signed_to_json(SignedReceipt(r, sign_receipt(KEY, DOMAIN, r)))
    bad = copy.deepcopy(body)
    bad["receipt"][mutation[0]] = mutation[1]
    with pytest.raises(ReceiptError):
        signed_from_json(bad)
    with pytest.raises(RejectedReceipt):
        parse_wire(bad)


@pytest.mark.parametrize("v", [0, 1, 26, 29])
def test_verify__v_other_than_27_or_28_is_refused(v: int) -> None:
    with pytest.raises(SignatureError, match="v must be 27 or 28"):
        recover_signer(b"\x01" * 32, b"\x01" * 64 + bytes([v]))


def test_verify__zero_s_and_garbage_r_are_refused() -> None:
    with pytest.raises(SignatureError, match="zero"):
        recover_signer(b"\x01" * 32, b"\x01" * 32 + bytes(32) + b"\x1b")
    with pytest.raises(SignatureError):
        recover_signer(b"\x01" * 32, b"\xff" * 32 + b"\x01" * 32 + b"\x1b")


def _info(sid: bytes) -> StationInfo:
    addr = address_of_private_key(KEY)
    return StationInfo(sid, addr, addr, 22_000, 2, True)


def test_directory__cache_serves_hits_until_ttl_then_refreshes() -> None:
    inner = InMemoryStationDirectory([_info(b"\x01" * 32)])
    clock = Clock(0.0)
    cache = CachedStationDirectory(inner, ttl_s=60, negative_ttl_s=5, clock=clock)
    assert cache.station(b"\x01" * 32) is not None
    assert cache.station(b"\x01" * 32) is not None
    assert inner.calls == 1
    clock.now = 61
    cache.station(b"\x01" * 32)
    assert inner.calls == 2


def test_directory__unknown_ids_are_cached_briefly_and_the_cache_is_bounded() -> None:
    inner = InMemoryStationDirectory()
    clock = Clock(0.0)
    cache = CachedStationDirectory(inner, ttl_s=60, negative_ttl_s=5, max_entries=100,
                                   max_negative=50, clock=clock)
    assert cache.station(b"\x09" * 32) is None
    assert cache.station(b"\x09" * 32) is None
    assert inner.calls == 1
    inner.put(_info(b"\x09" * 32))
    clock.now = 6
    assert cache.station(b"\x09" * 32) is not None
    for i in range(1_000):
        inner.put(_info((10_000 + i).to_bytes(32, "big")))
        cache.station((10_000 + i).to_bytes(32, "big"))
        cache.station(i.to_bytes(32, "big"))  # made up
    assert len(cache._entries) == 100 and len(cache._negative) == 50


def test_directory__made_up_ids_buy_a_bounded_number_of_reads_and_evict_no_station() -> None:
    """A flood of made-up station ids (each new, so no negative entry helps): the registry is
    read for at most the budget, then DirectoryBusy; a station seen before is still served from
    the cache, and the budget comes back with time."""
    real = b"\x01" * 32
    inner = InMemoryStationDirectory([_info(real)])
    clock = Clock(0.0)
    cache = CachedStationDirectory(inner, ttl_s=600, max_entries=10, max_negative=10,
                                   lookups_per_s=5, lookup_burst=100, clock=clock)
    assert cache.station(real) is not None
    busy = 0
    for i in range(10_000):
        try:
            assert cache.station((1_000_000 + i).to_bytes(32, "big")) is None
        except DirectoryBusy:
            busy += 1
    assert inner.calls == 100 and busy == 10_000 - 99  # the real one took one read
    assert cache.station(real) is not None and inner.calls == 100  # still cached
    clock.now = 2.0  # two seconds: ten reads more
    assert cache.station(b"\x02" * 32) is None and inner.calls == 101


class _BatchDirectory(InMemoryStationDirectory):
    """A registry that also reads many stations in one round trip (``stations``)."""

    def __init__(self, stations: list[StationInfo]) -> None:
        super().__init__(stations)
        self.batches: list[int] = []

    def stations(self, station_ids: list[bytes]) -> dict[bytes, StationInfo | None]:
        self.batches.append(len(station_ids))
        return {sid: self._stations.get(sid) for sid in station_ids}


def test_directory__prefetch_reads_the_misses_in_one_round_trip() -> None:
    known = [i.to_bytes(32, "big") for i in range(1, 5)]
    inner = _BatchDirectory([_info(sid) for sid in known])
    clock = Clock(0.0)
    cache = CachedStationDirectory(inner, ttl_s=60, negative_ttl_s=5, clock=clock)
    assert cache.station(known[0]) is not None  # cached already: not asked again
    cache.prefetch({*known, b"\x77" * 32})
    assert inner.batches == [4]  # three misses and an unknown id, one call
    assert [cache.station(sid) for sid in known] == [_info(sid) for sid in known]
    assert cache.station(b"\x77" * 32) is None and inner.calls == 1  # all from the cache
    clock.now = 61
    cache.prefetch(set(known))  # expired: read again, together
    assert inner.batches == [4, 4]


def test_directory__prefetch_reads_no_more_than_the_budget() -> None:
    inner = _BatchDirectory([])
    cache = CachedStationDirectory(inner, lookups_per_s=0, lookup_burst=3, clock=Clock(0.0))
    cache.prefetch({i.to_bytes(32, "big") for i in range(1, 9)})
    assert inner.batches == [3]


def test_directory__prefetch_failure_fails_closed() -> None:
    class Down(_BatchDirectory):
        def stations(self, station_ids: list[bytes]) -> dict[bytes, StationInfo | None]:
            raise ConnectionError("node down")

    cache = CachedStationDirectory(Down([]), clock=Clock(0.0))
    with pytest.raises(DirectoryUnavailable, match="and 1 more: node down"):
        cache.prefetch({b"\x01" * 32, b"\x02" * 32})
