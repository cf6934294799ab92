"""What the read API asks of the index: stations and proposals from their logs, network
figures per epoch (from the per-epoch totals the indexer keeps), an operator's earnings per
station and epoch. Amounts are credit wei (big integers, summed in Python and returned as
decimal text: SQL sums of TEXT would lose digits in SQLite and need casts in PostgreSQL)."""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any

from eth_utils.address import to_checksum_address

from wattnet.indexer import totals
from wattnet.oracle.store_base import Store

SPLIT = totals.AMOUNTS


def station_uris(store: Store) -> dict[bytes, str]:
    """Every registered station id with its current metadata URI, in registration order."""
    with store.transaction() as tx:
        rows = tx.query("SELECT event, args FROM index_events WHERE event IN "
                        "('StationRegistered', 'MetadataChanged') ORDER BY block, log_index")
    uris: dict[bytes, str] = {}
    for event, args in rows:
        a = json.loads(args)
        sid = bytes.fromhex(a["stationId"][2:])
        if event == "StationRegistered" or sid in uris:
            uris[sid] = str(a["metadataURI"])
    return uris


def proposals_created(store: Store) -> list[dict[str, Any]]:
    """The governor's ProposalCreated arguments, newest first."""
    with store.transaction() as tx:
        rows = tx.query("SELECT args FROM index_events WHERE event = 'ProposalCreated' "
                        "ORDER BY block DESC, log_index DESC")
    return [json.loads(r[0]) for r in rows]


def settled_totals(store: Store) -> dict[str, int]:
    """Sessions the ledger settled (its BatchSettled counts, every batch) and their energy (Wh,
    the decoded batches' sessions: a batch the index cannot read adds none)."""
    with store.transaction() as tx:
        n = tx.one("SELECT COALESCE(SUM(settled), 0) FROM index_batches")
        wh = tx.one("SELECT COALESCE(SUM(energy_wh), 0) FROM index_epoch_totals")
    return {"sessions_settled": int(n[0]) if n else 0, "energy_settled_wh": int(wh[0]) if wh else 0}


def _zero_split() -> dict[str, int]:
    return dict.fromkeys(SPLIT, 0)


def epochs(store: Store) -> list[dict[str, Any]]:
    """Per epoch with settlements or claims, oldest first: sessions settled (the ledger's
    BatchSettled counts), their energy (Wh) and fees per credit id split as the ledger paid
    them (decoded batches, from the per-epoch totals), and WATT claimed for the epoch."""
    out: dict[int, dict[str, Any]] = defaultdict(lambda: {
        "sessions": 0, "energy_wh": 0, "undecoded_batches": 0,
        "fees": defaultdict(_zero_split), "watt_claimed": 0})
    with store.transaction() as tx:
        batches = tx.query("SELECT epoch, SUM(settled), SUM(1 - decoded) FROM index_batches "
                           "GROUP BY epoch")
        sums = totals.read(tx)
        claims = tx.query("SELECT args FROM index_events WHERE event = 'RewardsClaimed'")
    for epoch, settled, undecoded in batches:
        e = out[int(epoch)]
        e["sessions"] += int(settled)
        e["undecoded_batches"] += int(undecoded)
    for (epoch, credit), (_, energy, *amounts) in sums.items():
        e = out[epoch]
        e["energy_wh"] += energy
        e["fees"][str(credit)] = dict(zip(SPLIT, amounts, strict=True))
    for (args,) in claims:
        a = json.loads(args)
        out[int(a["epoch"])]["watt_claimed"] += int(a["amount"])
    return [{"epoch": epoch, **_texts(out[epoch])} for epoch in sorted(out)]


def _texts(e: dict[str, Any]) -> dict[str, Any]:
    return {**e, "watt_claimed": str(e["watt_claimed"]),
            "fees": {cid: {k: str(v) for k, v in f.items()} for cid, f in e["fees"].items()}}


def earnings(store: Store, operator: str) -> dict[str, Any]:
    """``operator``'s earnings from settled sessions per station, epoch and credit id (newest
    epoch first), its totals per credit id, and what it withdrew (PayoutWithdrawn)."""
    who = to_checksum_address(operator)
    with store.transaction() as tx:
        rows = tx.query("SELECT station_id, epoch, credit_id, energy_wh, to_operator "
                        "FROM index_sessions WHERE operator = ?", (bytes.fromhex(who[2:]),))
        paid = tx.query("SELECT args FROM index_events WHERE event = 'PayoutWithdrawn' "
                        "AND subject = ?", (who,))
    groups: dict[tuple[str, int, int], list[int]] = defaultdict(lambda: [0, 0, 0])
    totals: dict[str, int] = defaultdict(int)
    for sid, epoch, credit, energy, earned in rows:
        g = groups[("0x" + bytes(sid).hex(), int(epoch), int(credit))]
        g[0] += 1
        g[1] += int(energy)
        g[2] += int(earned)
        totals[str(credit)] += int(earned)
    withdrawn: dict[str, int] = defaultdict(int)
    for (args,) in paid:
        a = json.loads(args)
        withdrawn[str(a["id"])] += int(a["amount"])
    return {
        "operator": who,
        "rows": [{"station_id": sid, "epoch": epoch, "credit_id": credit, "sessions": n,
                  "energy_wh": wh, "earned": str(earned)}
                 for (sid, epoch, credit), (n, wh, earned)
                 in sorted(groups.items(), key=lambda kv: (-kv[0][1], kv[0][0], kv[0][2]))],
        "earned": {k: str(v) for k, v in totals.items()},
        "withdrawn": {k: str(v) for k, v in withdrawn.items()},
    }
