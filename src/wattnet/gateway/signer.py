"""Station keys: a small ``Signer`` protocol and its keystore-file implementation.

A hardware security module can implement :class:`Signer` later; nothing else in the gateway
touches key material.
"""

from __future__ import annotations

import json
import logging
import os
from pathlib import Path
from typing import Protocol, runtime_checkable

from coincurve import PrivateKey
from eth_account import Account

from wattnet.chain.eip712 import address_of_private_key, sign_digest
from wattnet.gateway.errors import KeystoreError

log = logging.getLogger(__name__)


@runtime_checkable
class Signer(Protocol):
    @property
    def address(self) -> str: ...

    def sign_digest(self, digest: bytes) -> bytes:
        """65 bytes r || s || v (v in {27, 28}, low s) over a 32-byte digest."""
        ...


class KeystoreSigner:
    """A key decrypted once from an eth-account (Web3 Secret Storage) keystore file."""

    __slots__ = ("_address", "_key")  # _key: the coincurve key, built once

    def __init__(self, private_key: bytes) -> None:
        self._key = PrivateKey(private_key)
        self._address = address_of_private_key(private_key)

    @classmethod
    def from_file(cls, path: Path, passphrase: str) -> KeystoreSigner:
        try:
            data = json.loads(path.read_text())
        except OSError as exc:
            raise KeystoreError(f"cannot read keystore {path}: {exc.strerror}") from exc
        except ValueError as exc:
            raise KeystoreError(f"keystore {path} is not JSON") from exc
        try:
            key = bytes(Account.decrypt(data, passphrase))
        except ValueError as exc:
            raise KeystoreError(
                f"cannot decrypt keystore {path}: wrong passphrase or corrupt file"
            ) from exc
        return cls(key)

    @property
    def address(self) -> str:
        return self._address

    def sign_digest(self, digest: bytes) -> bytes:
        if len(digest) != 32:
            raise KeystoreError("can only sign a 32-byte digest")
        return sign_digest(self._key, digest)

    def __repr__(self) -> str:
        return f"KeystoreSigner({self._address})"


def new_keystore(
    path: Path, passphrase: str, *, private_key: bytes | None = None, scrypt_n: int = 2**18
) -> str:
    """Write a new encrypted keystore (mode 0600, never overwriting); returns its address."""
    key = private_key if private_key is not None else os.urandom(32)
    data = Account.encrypt(key, passphrase, kdf="scrypt", iterations=scrypt_n)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as exc:
        raise KeystoreError(f"{path} exists; choose another file name") from exc
    with os.fdopen(fd, "w") as fh:
        json.dump(data, fh)
    return address_of_private_key(key)


def load_signers(paths: dict[str, Path], passphrase: str) -> dict[str, Signer]:
    """One signer per station; stations sharing a keystore file share one decrypted key."""
    by_file: dict[Path, Signer] = {}
    out: dict[str, Signer] = {}
    for cp_id, path in paths.items():
        resolved = path.resolve()
        if resolved not in by_file:
            by_file[resolved] = KeystoreSigner.from_file(resolved, passphrase)
            log.info("station key %s loaded from %s", by_file[resolved].address, resolved)
        out[cp_id] = by_file[resolved]
    return out
