"""A driver's sessions are charged in the order the oracle learned of them.

The rule (issue 11 item 4; docs/security.md, "Collusion against the honest station"): a
session's place is the oracle's arrival time of its start notice, or of its receipt when no
notice was admitted. An admitted notice holds what is free of its amount beside everything
admitted before, against every later claim, until its receipt arrives or it expires. A receipt
joins a batch only when the driver's on-chain room covers it after every earlier claim; one
that does not fit while an earlier claim is still open waits (and everything of that driver
after it), and one still waiting as its settlement window closes is quarantined, never sent to
spend what an earlier session holds.

Settlement on chain charges a batch's receipts in station order, so this is also what keeps a
colluding station whose id sorts first from being charged before the honest one in one batch.

Pure functions of the claims and the chain's answer; the batcher and the notice endpoint feed
them from the store.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Room:
    """What the chain lets a driver spend of one credit id now: the balance plus a pending
    redemption (settlement draws on it too), and the day's cap left, in cap units."""

    credits: int
    units: int
    cap_unit: int

    def units_of(self, amount: int) -> int:
        return -(-amount // self.cap_unit) if self.cap_unit else 0


@dataclass(frozen=True, slots=True)
class Claim:
    """Something that draws on a driver's credits, at its place in the driver's order.

    ``receipt`` is the stored receipt's id, or None for an open reservation (a notice whose
    receipt has not arrived)."""

    place: tuple[int, int, int]  # (arrival second, 0 notice / 1 receipt, sequence)
    amount: int
    receipt: int | None = None


@dataclass(frozen=True, slots=True)
class Plan:
    send: list[int]  # receipt ids that fit, in the drivers' order
    wait: list[int]  # receipt ids held behind an earlier open claim


def plan(claims: Iterable[Claim], room: Room) -> Plan:
    """One driver's claims (one credit id): which receipts may go now, which must wait.

    A receipt that does not fit waits while anything earlier is open: a reservation, or a
    receipt sent in this batch (the chain charges a batch in station order, not in ours). With
    nothing earlier open it is sent all the same, and the chain judges it (InsufficientCredits,
    or paid if the driver topped up meanwhile)."""
    credits, units = room.credits, room.units
    send: list[int] = []
    wait: list[int] = []
    blocked = False
    open_before = False
    for c in sorted(claims, key=lambda c: c.place):
        need = room.units_of(c.amount)
        if c.receipt is None:
            credits, units, open_before = credits - c.amount, units - need, True
        elif blocked:
            wait.append(c.receipt)
        elif c.amount <= credits and need <= units:
            send.append(c.receipt)
            credits, units, open_before = credits - c.amount, units - need, True
        elif open_before:
            wait.append(c.receipt)
            blocked = True
        else:  # it holds its amount too: if the chain pays it, nothing later may take that
            send.append(c.receipt)
            credits, units, open_before = credits - c.amount, units - need, True
    return Plan(send, wait)


def free(open_claims: Iterable[Claim], room: Room) -> int:
    """What a new notice may hold beside every claim already open (never below 0)."""
    claims = list(open_claims)
    credits = room.credits - sum(c.amount for c in claims)
    units = room.units - sum(room.units_of(c.amount) for c in claims)
    return max(0, min(credits, units * room.cap_unit))
