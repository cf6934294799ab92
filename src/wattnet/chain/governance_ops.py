"""Small helpers for governance operations run by hand in ``ape console`` (the pause and
oracle-key-rotation runbooks), identical on a live network and in their tests.

- :func:`wait_until` waits until the chain's clock has passed a timestamp (a proposal's
  snapshot, deadline or eta): on a local or forked chain it moves the clock there; on a live
  network it polls the latest block.
- :func:`proposal_of` returns (targets, values, calldatas, description hash) for a list of
  ``(contract, calldata)`` and a description, as Governor's ``queue``/``execute`` take them.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from typing import Any

from eth_utils.crypto import keccak

log = logging.getLogger(__name__)


def can_travel(chain: Any) -> bool:
    """True on chains whose clock may be moved: Ape's test provider, local nodes, forks."""
    network = chain.provider.network
    return bool(network.name == "local" or network.name.endswith("-fork"))


def wait_until(chain: Any, timestamp: int, *, poll_s: float = 15.0,
               sleep: Callable[[float], None] = time.sleep) -> int:
    """Return once the latest block's timestamp exceeds ``timestamp``; its timestamp."""
    target = int(timestamp) + 1
    if can_travel(chain):
        if chain.blocks.head.timestamp < target:
            chain.pending_timestamp = target
            chain.mine(1)
        return int(chain.blocks.head.timestamp)
    while (now := int(chain.blocks.head.timestamp)) < target:
        log.info("waiting for chain time %s (now %s, %s s to go)", target, now, target - now)
        sleep(min(poll_s, max(1, target - now)))
    return now


def proposal_of(calls: Sequence[tuple[Any, bytes]], description: str
                ) -> tuple[list[str], list[int], list[bytes], bytes]:
    """``([(contract, calldata), ...], description)`` -> Governor's queue/execute arguments."""
    targets = [str(getattr(c, "address", c)) for c, _ in calls]
    return targets, [0] * len(calls), [bytes(d) for _, d in calls], keccak(text=description)
