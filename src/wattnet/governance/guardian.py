"""The emergency pause (docs/runbooks/pause.md): the guardian pauses EnergyCredits; only
governance (the timelock) unpauses early, so ``unpause`` is a Governor proposal of the one call
``EnergyCredits.unpause()`` that then goes through vote, queue and execute like any other.

Either may be sent by a Safe (:class:`wattnet.governance.safe.SafeSender`): the guardian is a
multisig in production."""

from __future__ import annotations

from typing import Any

from eth_utils.crypto import keccak

from wattnet.governance.client import ChainView, GovernanceError, when
from wattnet.governance.proposals import _send, propose_calls
from wattnet.governance.table import encode_call

CREDITS = "EnergyCredits"
PAUSER_ROLE = keccak(text="PAUSER_ROLE")


def pause(view: ChainView, sender: Any) -> int:
    """Pause EnergyCredits as the guardian; returns when the pause ends by itself."""
    credits, now = view.contract(CREDITS), view.now()
    if credits.paused():
        raise GovernanceError(f"{CREDITS} is already paused, until "
                              f"{when(int(credits.pauseEndsAt()), now)}")
    if not credits.hasRole(PAUSER_ROLE, sender.address):
        raise GovernanceError(f"{sender.address} lacks PAUSER_ROLE on {CREDITS} (the guardian "
                              "holds it; with a Safe guardian pass --safe ADDRESS)")
    again = int(credits.pausableAgainAt())
    if now + 1 < again:
        raise GovernanceError(f"the guardian may pause again only from {when(again, now)} "
                              "(14 days after the last pause ended)")
    _send(credits, "pause", sender=sender)
    return int(credits.pauseEndsAt()) or now + int(credits.MAX_PAUSE())


def propose_unpause(view: ChainView, sender: Any, reason: str) -> int:
    """A Governor proposal to unpause EnergyCredits; returns its id."""
    credits = view.contract(CREDITS)
    if not credits.paused():
        raise GovernanceError(f"{CREDITS} is not paused")
    description = f"# Unpause {CREDITS}\n\n{reason}"
    return propose_calls(view, sender, [str(credits.address)], [encode_call("unpause()", ())],
                         description)
