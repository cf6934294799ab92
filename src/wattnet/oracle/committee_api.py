"""The committee's HTTP routes on each node (aiohttp), next to the receipt API.

POST /v1/committee/check   {"batch"} -> 200 {"refused": [{"station", "session", "reason"}]}:
                           the receipts this node would not vote for (after fetching those it
                           lacked), so that a proposer offers only what k nodes accept.
POST /v1/committee/votes   a ``Proposal`` (nonce, round, packed batch, the proposer's signature)
                           -> 200 {"signer", "signature"}: this node's vote; 409 {"error"} when
                           it refuses (the reason names the receipt or the rule). Receipts the
                           node lacks are fetched from its peers and ingested through its own
                           pipeline first, so a node that missed a receipt can still vote.
POST /v1/committee/findings {"finding", "evidence"} -> 200 {"signer", "signature"}: this
                           node's signature on a judged forfeit or freeze (oracle/findings.py),
                           409 {"error"} when its own database does not support it.
GET  /v1/committee/findings
                           the findings this node gathered k signatures for: each with the
                           arguments of OracleCommittee.act and its evidence document.
GET  /v1/committee/evidence
                           proofs of equivocation this node saw (a member that proposed two
                           batches in one round): each the arguments of proveEquivocation,
                           which anyone may send for the bounty.
POST /v1/committee/receipts {"keys": [[stationId, sessionId], ...]} -> {"receipts": [...]}:
                           the stored signed receipts among them, for a peer that missed them.
GET  /v1/receipts/{stationId}/{sessionId}
                           the stored signed receipt (``signed_to_json``, meter data included)
                           for a peer that missed it; 404 when unknown here.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Sequence
from typing import Any

import aiohttp
from aiohttp import web

from wattnet.chain.receipt_codec import signed_to_json
from wattnet.oracle.api import GOSSIP_HEADER, path_key
from wattnet.oracle.batcher import pending_of
from wattnet.oracle.committee import Key, Proposal, Refused, Voter
from wattnet.oracle.errors import DirectoryUnavailable, SettlementError, StorageUnavailable
from wattnet.oracle.findings import FindingJudge, finding_from_json, signed_findings
from wattnet.oracle.ingest import GroupCommitter
from wattnet.oracle.store_base import SETTLE_COLUMNS, Store, session_key

log = logging.getLogger(__name__)

VOTER: web.AppKey[Voter] = web.AppKey("voter", Voter)
PEERS: web.AppKey[tuple[str, ...]] = web.AppKey("peers", tuple)
JUDGE: web.AppKey[FindingJudge] = web.AppKey("finding_judge", FindingJudge)
FETCH_TIMEOUT_S = 10.0
MAX_FETCH = 5_000
_Unavailable = (StorageUnavailable, DirectoryUnavailable, SettlementError)


def _read(store: Store, keys: Sequence[Key]) -> list[dict[str, Any]]:
    """The stored signed receipts among ``keys`` (``signed_to_json``), one transaction."""
    with store.transaction() as tx:
        rows = [tx.one(f"SELECT {SETTLE_COLUMNS} FROM receipts WHERE station_id = ? AND "
                       "session_key = ?", (station, session_key(session)))
                for station, session in keys]
    return [signed_to_json(pending_of(row).signed) for row in rows if row is not None]


async def get_receipt(request: web.Request) -> web.Response:
    key = path_key(request)
    if key is None:
        return web.json_response(
            {"error": "use /v1/receipts/<0x + 64 hex station id>/<session id 0..2**64-1>"},
            status=400)
    try:
        found = await asyncio.to_thread(_read, request.app[VOTER].store, [key])
    except StorageUnavailable as exc:
        return web.json_response({"error": str(exc)}, status=503)
    if not found:
        return web.json_response({"error": "no receipt stored for this station and session"},
                                 status=404)
    return web.json_response(found[0])


async def post_receipts(request: web.Request) -> web.Response:
    """Many receipts at once for a peer: {"keys": [["0x<station id>", session id], ...]}."""
    try:
        raw = json.loads(await request.read())["keys"]
        keys = [(bytes.fromhex(str(s).removeprefix("0x")), int(n)) for s, n in raw]
        if len(keys) > MAX_FETCH or any(len(s) != 32 or not 0 <= n < 2**64 for s, n in keys):
            raise ValueError(f"at most {MAX_FETCH} keys of 32-byte station ids and uint64 "
                             "session ids")
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        return web.json_response({"error": f"want {{\"keys\": [[\"0x...\", n], ...]}}: "
                                           f"{exc}"}, status=400)
    try:
        found = await asyncio.to_thread(_read, request.app[VOTER].store, keys)
    except StorageUnavailable as exc:
        return web.json_response({"error": str(exc)}, status=503)
    return web.json_response({"receipts": found})


async def post_vote(request: web.Request) -> web.Response:
    voter = request.app[VOTER]
    try:
        proposal = Proposal.from_json(json.loads(await request.read()))
    except (ValueError, UnicodeDecodeError) as exc:
        return web.json_response({"error": f"body is not JSON: {exc}"}, status=400)
    except Refused as exc:
        return web.json_response({"error": str(exc)}, status=400)
    args = (proposal.nonce, proposal.round, proposal.batch, proposal.signature)
    try:
        try:
            signature = await asyncio.to_thread(voter.vote, *args)
        except Refused as exc:
            if not exc.missing:
                raise
            await _fetch_into(request, exc.missing)
            signature = await asyncio.to_thread(voter.vote, *args)
    except Refused as exc:
        log.warning("vote refused for nonce %d round %d: %s", proposal.nonce, proposal.round,
                    exc)
        return web.json_response({"error": str(exc)}, status=409)
    except _Unavailable as exc:
        return web.json_response({"error": str(exc)}, status=503)
    return web.json_response({"signer": voter.view.address,
                              "signature": "0x" + signature.hex()})


async def post_check(request: web.Request) -> web.Response:
    voter = request.app[VOTER]
    try:
        body = json.loads(await request.read())
        batch = bytes.fromhex(str(body["batch"]).removeprefix("0x"))
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        return web.json_response({"error": f"want {{\"batch\": \"0x...\"}}: {exc!r}"},
                                 status=400)
    try:
        missing, _ = await asyncio.to_thread(voter.verdicts, batch)
        if missing:
            await _fetch_into(request, missing)
        missing, refused = await asyncio.to_thread(voter.verdicts, batch)
    except Refused as exc:
        return web.json_response({"error": str(exc)}, status=400)
    except _Unavailable as exc:
        return web.json_response({"error": str(exc)}, status=503)
    unknown = dict.fromkeys(missing, "is unknown here (no peer has it)")
    return web.json_response({"refused": [
        {"station": "0x" + k[0].hex(), "session": k[1], "reason": why}
        for k, why in {**unknown, **refused}.items()]})


async def _fetch_into(request: web.Request, keys: Sequence[tuple[bytes, int]]) -> None:
    """Fetch ``keys`` from the peers and ingest them through this node's own pipeline."""
    peers: tuple[str, ...] = request.app[PEERS]
    found = await _fetch(peers, keys)
    if found:
        await request.app[_COMMITTER].submit(found)


async def post_finding(request: web.Request) -> web.Response:
    judge = request.app[JUDGE]
    try:
        body = json.loads(await request.read())
        finding, document = finding_from_json(body["finding"]), body["evidence"]
    except (ValueError, UnicodeDecodeError, KeyError, TypeError) as exc:
        return web.json_response({"error": f"want {{\"finding\", \"evidence\"}}: {exc!r}"},
                                 status=400)
    except Refused as exc:
        return web.json_response({"error": str(exc)}, status=400)
    try:
        signature = await asyncio.to_thread(judge.sign, finding, document)
    except Refused as exc:
        log.info("finding %s refused: %s", finding.kind.name, exc)
        return web.json_response({"error": str(exc)}, status=409)
    except _Unavailable as exc:
        return web.json_response({"error": str(exc)}, status=503)
    return web.json_response({"signer": judge.view.address, "signature": "0x" + signature.hex()})


async def get_findings(request: web.Request) -> web.Response:
    try:
        found = await asyncio.to_thread(signed_findings, request.app[VOTER].store)
    except StorageUnavailable as exc:
        return web.json_response({"error": str(exc)}, status=503)
    return web.json_response({"findings": found})


async def get_evidence(request: web.Request) -> web.Response:
    try:
        found = await asyncio.to_thread(request.app[VOTER].evidence)
    except StorageUnavailable as exc:
        return web.json_response({"error": str(exc)}, status=503)
    return web.json_response({"equivocations": found})


async def _fetch(peers: Sequence[str], keys: Sequence[Key]) -> list[Any]:
    """The receipts ``keys`` as peers hold them (each from the first peer that has it, one
    request per peer), unverified: they go through this node's own ingest pipeline."""
    found: list[Any] = []
    left = list(keys)[:MAX_FETCH]
    timeout = aiohttp.ClientTimeout(total=FETCH_TIMEOUT_S)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        for peer in peers:
            if not left:
                break
            body = {"keys": [["0x" + s.hex(), n] for s, n in left]}
            try:
                async with http.post(f"{peer}/v1/committee/receipts", json=body) as r:
                    got = (await r.json())["receipts"] if r.status == 200 else []
            except (aiohttp.ClientError, TimeoutError, ValueError, KeyError, TypeError):
                continue
            have = {_wire_key(obj) for obj in got if isinstance(obj, dict)}
            found += [obj for obj in got if isinstance(obj, dict)]
            left = [k for k in left if k not in have]
    log.info("fetched %d of %d missing receipts from peers", len(found), len(keys))
    return found


def _wire_key(obj: dict[str, Any]) -> Key | None:
    try:
        r = obj["receipt"]
        return bytes.fromhex(str(r["stationId"]).removeprefix("0x")), int(r["sessionId"])
    except (KeyError, TypeError, ValueError):
        return None


_COMMITTER: web.AppKey[GroupCommitter] = web.AppKey("committee_committer", GroupCommitter)


class Gossip:
    """Passes receipts this node accepted on to its peers (``POST /v1/receipts:batch`` with
    ``X-WattNet-Gossip``), in the background and best effort: a peer that misses one fetches it
    when it votes. With every node holding every receipt, whoever's round it is can propose."""

    def __init__(self, peers: Sequence[str]) -> None:
        self.peers = tuple(p.rstrip("/") for p in peers)
        self._session: aiohttp.ClientSession | None = None
        self._tasks: set[asyncio.Task[None]] = set()

    def __call__(self, items: list[Any]) -> None:
        body = json.dumps(items).encode()
        for peer in self.peers:
            task = asyncio.get_running_loop().create_task(self._send(peer, body))
            self._tasks.add(task)
            task.add_done_callback(self._tasks.discard)

    async def _send(self, peer: str, body: bytes) -> None:
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30))
        try:
            async with self._session.post(f"{peer}/v1/receipts:batch", data=body, headers={
                    "Content-Type": "application/json", GOSSIP_HEADER: "1"}) as resp:
                await resp.read()
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.debug("gossip to %s failed: %s", peer, exc)

    async def close(self, _: web.Application | None = None) -> None:
        for task in list(self._tasks):
            task.cancel()
        if self._session is not None:
            await self._session.close()


def add_committee_routes(app: web.Application, voter: Voter, committer: GroupCommitter,
                         peers: Sequence[str], judge: FindingJudge) -> None:
    app[VOTER] = voter
    app[JUDGE] = judge
    app[PEERS] = tuple(p.rstrip("/") for p in peers)
    app[_COMMITTER] = committer
    app.router.add_post("/v1/committee/check", post_check)
    app.router.add_post("/v1/committee/votes", post_vote)
    app.router.add_get("/v1/committee/evidence", get_evidence)
    app.router.add_post("/v1/committee/findings", post_finding)
    app.router.add_get("/v1/committee/findings", get_findings)
    app.router.add_post("/v1/committee/receipts", post_receipts)
    app.router.add_get("/v1/receipts/{station}/{session}", get_receipt)
