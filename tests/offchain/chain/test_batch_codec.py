"""wattnet.chain.batch_codec: grouping, sizes and what cannot be packed. (That the contract
decodes these bytes to the same fields is tests/contracts/unit/test_settle_packed.py.)"""

from __future__ import annotations

import pytest

from wattnet.chain import batch_codec
from wattnet.chain.batch_codec import (
    GROUP_HEADER,
    RECEIPT_SIZE,
    REFERRER_SIZE,
    pack_batch,
    pack_compact,
    unpack_batch,
)
from wattnet.chain.eip712 import compact_signature
from wattnet.domain import SessionReceipt
from wattnet.errors import ReceiptError

A, B = b"\xaa" * 32, b"\xbb" * 32
DRIVER = "0x" + "11" * 20
REFERRER = "0x" + "22" * 20
SIG = b"\x01" * 32 + b"\x02" * 32 + b"\x1c"


def receipt(station: bytes, session: int, **kw: object) -> SessionReceipt:
    fields: dict[str, object] = dict(station_id=station, session_id=session, connector_id=1,
                                     driver=DRIVER, credit_id=1, energy_wh=7_000,
                                     start_time=1_700_000_000, end_time=1_700_003_600, cost=2_450)
    fields.update(kw)
    return SessionReceipt(**fields)  # type: ignore[arg-type]


def test_pack_batch__groups_consecutive_receipts_of_a_station() -> None:
    items = [(receipt(A, 1), SIG), (receipt(A, 2), SIG), (receipt(B, 1), SIG), (receipt(A, 3), SIG)]
    data = pack_batch(items)
    assert len(data) == 3 * GROUP_HEADER + 4 * RECEIPT_SIZE
    assert data[:32] == A and int.from_bytes(data[32:34], "big") == 2
    r, vs = compact_signature(SIG)
    assert unpack_batch(data) == [(rec, r, vs) for rec, _ in items]


def test_pack_batch__referrer_adds_its_address_and_sets_the_flag() -> None:
    data = pack_batch([(receipt(A, 1, referrer=REFERRER), SIG)])
    assert len(data) == GROUP_HEADER + RECEIPT_SIZE + REFERRER_SIZE
    assert data[GROUP_HEADER] == 1
    assert data[-REFERRER_SIZE:] == bytes.fromhex(REFERRER[2:])
    assert unpack_batch(data)[0][0].referrer.lower() == REFERRER


def test_pack_batch__splits_a_group_at_its_count_limit(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(batch_codec, "MAX_GROUP", 2)
    data = pack_batch([(receipt(A, i), SIG) for i in range(5)])
    assert len(data) == 3 * GROUP_HEADER + 5 * RECEIPT_SIZE
    assert [r.session_id for r, _, _ in unpack_batch(data)] == list(range(5))


def test_pack__credit_id_wider_than_four_bytes_is_refused() -> None:
    with pytest.raises(ReceiptError, match="credit_id"):
        pack_batch([(receipt(A, 1, credit_id=2**32), SIG)])


def test_pack__compact_signature_must_be_two_words() -> None:
    with pytest.raises(ReceiptError, match="r and vs"):
        pack_compact([(receipt(A, 1), b"\x01" * 31, b"\x02" * 32)])


@pytest.mark.parametrize("cut", [1, RECEIPT_SIZE, RECEIPT_SIZE + 1])
def test_unpack__truncated_batch_is_an_error(cut: int) -> None:
    data = pack_batch([(receipt(A, 1), SIG)])
    with pytest.raises(ReceiptError, match="truncated"):
        unpack_batch(data[:-cut])


def test_unpack__unknown_flags_are_an_error() -> None:
    data = bytearray(pack_batch([(receipt(A, 1), SIG)]))
    data[GROUP_HEADER] = 7
    with pytest.raises(ReceiptError, match="flags"):
        unpack_batch(bytes(data))
