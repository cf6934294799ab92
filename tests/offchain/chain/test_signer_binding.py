"""The signer key's proof of possession for StationRegistry (registerStation / rotateSigner)."""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data

from wattnet.chain.eip712 import address_of_private_key, recover_digest
from wattnet.chain.signer_binding import signer_binding_digest, signer_proof

KEY = b"\x42" * 32
REGISTRY = "0x" + "12" * 20
OPERATOR = "0x" + "34" * 20
STATION = b"\x56" * 32


def _typed(chain_id: int, registry: str, station: bytes, operator: str) -> bytes:
    message = encode_typed_data(full_message={
        "types": {
            "EIP712Domain": [{"name": "name", "type": "string"},
                             {"name": "version", "type": "string"},
                             {"name": "chainId", "type": "uint256"},
                             {"name": "verifyingContract", "type": "address"}],
            "SignerBinding": [{"name": "stationId", "type": "bytes32"},
                              {"name": "operator", "type": "address"}],
        },
        "primaryType": "SignerBinding",
        "domain": {"name": "WattNet StationRegistry", "version": "1", "chainId": chain_id,
                   "verifyingContract": registry},
        "message": {"stationId": station, "operator": operator},
    })
    return bytes(Account.sign_message(message, KEY).message_hash)


def test_signer_binding_digest__is_eip712_of_the_registry_domain() -> None:
    assert signer_binding_digest(chain_id=31337, registry=REGISTRY, station_id=STATION,
                                 operator=OPERATOR) == _typed(31337, REGISTRY, STATION, OPERATOR)


@pytest.mark.parametrize("change", ["chain", "registry", "station", "operator"])
def test_signer_binding_digest__every_field_is_bound(change: str) -> None:
    base = {"chain_id": 1, "registry": REGISTRY, "station_id": STATION, "operator": OPERATOR}
    other = dict(base)
    other[{"chain": "chain_id", "registry": "registry", "station": "station_id",
           "operator": "operator"}[change]] = {
        "chain": 2, "registry": OPERATOR, "station": b"\x00" * 32, "operator": REGISTRY}[change]
    assert signer_binding_digest(**base) != signer_binding_digest(**other)  # type: ignore[arg-type]


def test_signer_proof__compact_low_s_and_recovers_to_the_key() -> None:
    r, vs = signer_proof(KEY, chain_id=1, registry=REGISTRY, station_id=STATION,
                         operator=OPERATOR)
    word = int.from_bytes(vs, "big")
    v, s = word >> 255, word & ((1 << 255) - 1)
    digest = signer_binding_digest(chain_id=1, registry=REGISTRY, station_id=STATION,
                                   operator=OPERATOR)
    signature = r + s.to_bytes(32, "big") + bytes([27 + v])
    assert recover_digest(digest, signature) == address_of_private_key(KEY)


def test_signer_binding_digest__rejects_malformed_inputs() -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        signer_binding_digest(chain_id=1, registry=REGISTRY, station_id=b"\x01",
                              operator=OPERATOR)
    with pytest.raises(ValueError):
        signer_binding_digest(chain_id=1, registry=REGISTRY, station_id=STATION,
                              operator="0x1234")
