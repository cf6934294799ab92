"""Which pending receipts the next batch takes: every driver's in the order the oracle learned of
its sessions, as far as the driver's room on chain covers them after earlier claims
(``reservations``). Receipts held behind an earlier claim wait; as their settlement window
closes they are quarantined, never sent to spend what an earlier session holds."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from wattnet.oracle.ledger import CreditLedger, DriverKey
from wattnet.oracle.reservations import Claim, plan
from wattnet.oracle.store_base import Row, Store
from wattnet.oracle.store_starts import PLACE_AT, driver_key, open_reservations, pending_by_place
from wattnet.oracle.urgency import urgent_first


@dataclass(frozen=True, slots=True)
class Choice:
    send: list[Row]  # SETTLE_COLUMNS rows, in the drivers' order
    waiting: int
    expired: list[int]  # receipt ids whose window closes while they wait: quarantine them


def choose(store: Store, ledger: CreditLedger, limit: int, now: int,
           chain_now: int | None = None) -> Choice:
    """``now`` is the oracle's clock (places and holds are in it); ``chain_now`` the chain's
    (receipts' windows are), ``now`` when not given. Receipts that may go are taken due ones
    first (``urgency``): a later receipt of a driver may then go before an earlier one, which
    is safe because the plan found both to fit together."""
    chain_now = now if chain_now is None else chain_now
    with store.transaction() as tx:
        rows = pending_by_place(tx, 2 * limit)
        drivers = {bytes(r[4]) for r in rows}
        held = open_reservations(tx, drivers, now)
    claims: dict[DriverKey, list[Claim]] = defaultdict(list)
    for r in rows:
        at, kind, seq = (int(v) for v in r[PLACE_AT:PLACE_AT + 3])
        claims[driver_key(r[4], r[5])].append(Claim((at, kind, seq), int(str(r[9])), int(r[0])))
    rooms = ledger.rooms(sorted(claims), now)
    send: set[int] = set()
    wait: set[int] = set()
    for key, mine in claims.items():
        p = plan(mine + held.get(key, []), rooms[key])
        send.update(p.send)
        wait.update(p.wait)
    window = ledger.timing().max_settlement_delay
    margin = max(60, window // 10)
    expired = [int(r[0]) for r in rows
               if int(r[0]) in wait and chain_now >= int(r[8]) + window - margin]
    chosen = urgent_first([r[:PLACE_AT] for r in rows if int(r[0]) in send], chain_now, window,
                          limit)
    return Choice(chosen, len(wait) - len(expired), expired)
