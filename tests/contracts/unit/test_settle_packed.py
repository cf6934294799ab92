"""The packed encoding of `settlePacked` (the oracle's entry point): the contract decodes exactly
the fields Python packed, at every field width; bad bytes revert the whole batch and move
nothing. Every settlement rule runs through both entry points in test_settlement.py."""

from __future__ import annotations

from typing import Any

import ape
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wattnet.chain import roles
from wattnet.chain.batch_codec import (
    GROUP_HEADER,
    READINGS_SIZE,
    RECEIPT_SIZE,
    pack_compact,
    pack_tuples,
    unpack_batch,
)
from wattnet.chain.eip712 import receipt_struct_hash
from wattnet.domain import ZERO_ADDRESS, SessionReceipt

ADDRESSES = st.one_of(st.just(ZERO_ADDRESS),
                      st.binary(min_size=20, max_size=20).map(lambda b: "0x" + b.hex()))
RECEIPTS = st.builds(
    SessionReceipt,
    station_id=st.sampled_from([b"\x01" * 32, b"\xfe" * 32, bytes(32)]),
    session_id=st.integers(0, 2**64 - 1),
    connector_id=st.integers(0, 255),
    driver=ADDRESSES,
    credit_id=st.integers(0, 2**32 - 1),
    energy_wh=st.integers(0, 2**32 - 1),
    start_time=st.integers(0, 2**40 - 1),
    end_time=st.integers(0, 2**40 - 1),
    cost=st.integers(0, 2**128 - 1),
    referrer=ADDRESSES,
)
WORD = st.binary(min_size=32, max_size=32)
SIGNED = st.tuples(RECEIPTS, WORD, WORD)


@pytest.fixture(scope="module")
def harness(project: Any, accounts: Any) -> Any:
    return project.MockPackedDecoder.deploy(sender=accounts[0])


@settings(max_examples=25, deadline=None)
@given(items=st.lists(SIGNED, max_size=6))
def test_packed__contract_decodes_every_field_width_as_python_packed(
        harness: Any, items: list[tuple[SessionReceipt, bytes, bytes]]) -> None:
    data = pack_compact(items)
    assert unpack_batch(data) == items
    out = bytes(harness.decodePacked(data))
    assert len(out) == 96 * len(items)
    for i, (receipt, r, vs) in enumerate(items):
        chunk = out[96 * i: 96 * (i + 1)]
        assert chunk == receipt_struct_hash(receipt) + r + vs


def _one_station_batch(world: Any, make_receipt: Any, driver: Any, sign: Any, n: int) -> bytes:
    return pack_tuples([sign(make_receipt(world, driver), world.key) for _ in range(n)])


# A receipt committing to readings (as every default test receipt does) packs 32 bytes more.
WITH_READINGS = RECEIPT_SIZE + READINGS_SIZE


@pytest.mark.parametrize(
    "cut", [1, READINGS_SIZE, WITH_READINGS - 1, WITH_READINGS + GROUP_HEADER - 1])
def test_settle_packed__truncated_batch_reverts_and_moves_nothing(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any, oracle: Any,
        credit_id: int, cut: int) -> None:
    data = _one_station_batch(world, make_receipt, driver, sign, 2)
    before = int(credits.balanceOf(driver, credit_id))
    # Cut inside the second receipt (its readings, or before), the first, or the group header.
    truncated = data[:len(data) - cut]
    second = GROUP_HEADER + WITH_READINGS
    offset = second if len(truncated) > second else (GROUP_HEADER if len(truncated) > GROUP_HEADER
                                                     else 0)
    with ape.reverts(credits.ReceiptBadEncoding, offset=offset):
        credits.settlePacked(truncated, sender=oracle)
    assert int(credits.balanceOf(driver, credit_id)) == before


def test_settle_packed__unknown_flags_revert(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any, oracle: Any) -> None:
    data = bytearray(_one_station_batch(world, make_receipt, driver, sign, 1))
    data[GROUP_HEADER] = 4  # flags of the first receipt: only bits 0 and 1 exist
    with ape.reverts(credits.ReceiptBadEncoding, offset=GROUP_HEADER):
        credits.settlePacked(bytes(data), sender=oracle)


def test_settle_packed__trailing_byte_reverts(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any, oracle: Any) -> None:
    data = _one_station_batch(world, make_receipt, driver, sign, 1)
    with ape.reverts(credits.ReceiptBadEncoding, offset=len(data)):
        credits.settlePacked(data + b"\x00", sender=oracle)


def test_settle_packed__empty_batch_settles_nothing(credits: Any, oracle: Any) -> None:
    tx = credits.settlePacked(b"", sender=oracle)
    [done] = tx.decode_logs(credits.BatchSettled)
    assert (done.settled, done.rejected, done.totalCost) == (0, 0, 0)


def test_settle_packed__only_oracle_role(
        world: Any, make_receipt: Any, driver: Any, sign: Any, credits: Any, attacker: Any,
        operator: Any) -> None:
    r = make_receipt(world, driver)
    data = pack_tuples([sign(r, world.key)])
    for caller in (attacker, operator, driver):
        with ape.reverts(credits.AccessControlUnauthorizedAccount, account=caller.address,
                         neededRole=roles.ORACLE_ROLE):
            credits.settlePacked(data, sender=caller)
    assert not credits.isSettled(r.station_id, r.session_id)
