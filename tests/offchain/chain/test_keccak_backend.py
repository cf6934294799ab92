"""Importing wattnet makes eth-hash use pysha3 (same digests, ~5x faster than pycryptodome),
unless the environment already chose a backend."""

from __future__ import annotations

import os
import subprocess
import sys

PROBE = (
    "import wattnet\n"
    "from eth_utils import keccak\n"
    "from eth_hash.auto import keccak as auto\n"
    "print(keccak(b'').hex(), auto._backend.keccak256.__module__)\n"
)
EMPTY = "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"


def _probe(env_backend: str | None) -> tuple[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "ETH_HASH_BACKEND"}
    if env_backend is not None:
        env["ETH_HASH_BACKEND"] = env_backend
    out = subprocess.run([sys.executable, "-c", PROBE], env=env, check=True,
                         capture_output=True, text=True).stdout.split()
    return out[0], out[1]


def test_wattnet_chooses_pysha3() -> None:
    assert _probe(None) == (EMPTY, "eth_hash.backends.pysha3")


def test_an_explicit_choice_is_kept() -> None:
    assert _probe("pycryptodome") == (EMPTY, "eth_hash.backends.pycryptodome")
