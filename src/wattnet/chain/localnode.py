"""Helpers for the local anvil that Ape starts (tests, demo, benchmarks)."""

from __future__ import annotations

import os
import socket


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


def ensure_foundry_host() -> str:
    """Point ape-foundry at a free port unless APE_FOUNDRY_HOST is already set; returns the URL.

    ape-foundry's default port 8545 silently reuses whatever node listens there, and its own
    random-port mode fails intermittently, so WattNet always chooses the port itself.
    """
    if not os.environ.get("APE_FOUNDRY_HOST"):
        os.environ["APE_FOUNDRY_HOST"] = f"http://127.0.0.1:{free_port()}"
    return os.environ["APE_FOUNDRY_HOST"]
