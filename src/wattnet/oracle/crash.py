"""Crash points for the kill -9 tests: ``WATTNET_CRASHPOINT=<name>`` SIGKILLs the process there.

A crash point costs one dictionary lookup when unset. ``WATTNET_CRASHPOINT_SKIP=<n>`` lets the
first n hits pass, so a test can crash in the middle of a run rather than at its first step.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

# The persistence line of THREATS.md, step by step through the pipeline.
CRASH_POINTS = (
    "after_receive_before_store",
    "after_store_before_ack",
    "after_store_before_batch",
    "after_intent_before_submit",
    "after_submit_before_record",
    "after_record_before_confirm",
    "after_confirm_before_mark",
)

_hits: dict[str, int] = {}


def crashpoint(name: str) -> None:
    """Die here with SIGKILL (no cleanup, no flush) when the environment asks for it."""
    if os.environ.get("WATTNET_CRASHPOINT") != name:
        return
    _hits[name] = _hits.get(name, 0) + 1
    if _hits[name] <= int(os.environ.get("WATTNET_CRASHPOINT_SKIP", "0")):
        return
    log.warning("crash point %s reached: SIGKILL", name)
    os.kill(os.getpid(), signal.SIGKILL)
