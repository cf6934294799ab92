"""Start notices (wattnet.chain.start_notice): standard EIP-712 (a wallet signs the same digest),
an exact JSON wire form, and one clear error for each malformed field."""

from __future__ import annotations

import re
from typing import Any

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from wattnet.chain.eip712 import Domain, address_of_private_key, recover_digest, sign_digest
from wattnet.chain.start_notice import NoticeError, StartNotice, notice_from_json, notice_to_json

KEY = b"\x24" * 32
DOMAIN = Domain(31337, "0x5FbDB2315678afecb367f032d93F642f64180aa3")
NOTICE = StartNotice(b"\x07" * 32, 2, address_of_private_key(b"\x11" * 32), 1, 20_000_000,
                     1_700_000_000)


def test_digest__is_eip712_as_a_wallet_computes_it() -> None:
    message = encode_typed_data(full_message={
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"},
                             {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"},
                             {"name": "verifyingContract", "type": "address"}],
            "SessionStart": [{"name": "stationId", "type": "bytes32"},
                             {"name": "connectorId", "type": "uint8"},
                             {"name": "driver", "type": "address"},
                             {"name": "creditId", "type": "uint256"},
                             {"name": "amount", "type": "uint128"},
                             {"name": "startTime", "type": "uint40"}],
        },
        "primaryType": "SessionStart",
        "domain": {"name": DOMAIN.name, "version": DOMAIN.version, "chainId": DOMAIN.chain_id,
                   "verifyingContract": DOMAIN.verifying_contract},
        "message": {"stationId": NOTICE.station_id, "connectorId": NOTICE.connector_id,
                    "driver": NOTICE.driver, "creditId": NOTICE.credit_id,
                    "amount": NOTICE.amount, "startTime": NOTICE.start_time},
    })
    assert Account.sign_message(message, KEY).message_hash == NOTICE.digest(DOMAIN)


def test_json__round_trips_and_the_signature_recovers_the_station() -> None:
    signature = sign_digest(KEY, NOTICE.digest(DOMAIN))
    notice, sig = notice_from_json(notice_to_json(NOTICE, signature))
    assert (notice, sig) == (NOTICE, signature)
    assert recover_digest(notice.digest(DOMAIN), sig) == address_of_private_key(KEY)
    assert NOTICE.key == (NOTICE.station_id, 2, 1_700_000_000)


def _with(**notice: Any) -> dict[str, Any]:
    body = notice_to_json(NOTICE, b"\x01" * 65)
    body["notice"].update(notice)
    return body


@pytest.mark.parametrize(("body", "message"), [
    ([], "is {\"notice\""),
    ({"notice": {}, "signature": "0x"}, "exactly the fields"),
    (_with(connectorId=256), "connectorId must be an integer in 0..2**8-1"),
    (_with(amount=True), "amount must be an integer"),
    (_with(amount=0), "amount must be above 0"),
    (_with(startTime=-1), "startTime must be an integer"),
    (_with(driver="0x12"), "driver must be a 0x address"),
    (_with(stationId="0x07"), "stationId must be 0x followed by 64 hex digits"),
    (notice_to_json(NOTICE, b"\x01" * 64), "signature must be 0x followed by 130"),
])
def test_json__malformed_notices_are_named(body: Any, message: str) -> None:
    with pytest.raises(NoticeError, match=re.escape(message)):
        notice_from_json(body)
