"""Crash points for the gateway kill -9 tests: ``WATTNET_CRASHPOINT=<name>`` SIGKILLs it there.

Same mechanism as :mod:`wattnet.oracle.crash`; one environment lookup when unset.
"""

from __future__ import annotations

import logging
import os
import signal

log = logging.getLogger(__name__)

# The gateway's pipeline for one session end, step by step (THREATS.md, Persistence).
CRASH_POINTS = (
    "after_stop_received_before_store",  # StopTransaction parsed, receipt not stored
    "after_store_before_reply",  # receipt committed to the outbox, charger not answered
    "after_reply_before_forward",  # charger answered (after-hook), receipt maybe not forwarded
    "after_forward_before_ack_recorded",  # oracle acknowledged, outbox row still pending
)


def crashpoint(name: str) -> None:
    """Die here with SIGKILL (no cleanup, no flush) when the environment asks for it."""
    if os.environ.get("WATTNET_CRASHPOINT") != name:
        return
    log.warning("crash point %s reached: SIGKILL", name)
    os.kill(os.getpid(), signal.SIGKILL)
