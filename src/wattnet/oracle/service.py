"""Wiring: config -> store, directory, chain, verifier, ingest pipeline, batcher, HTTP server."""

from __future__ import annotations

import asyncio
import importlib
import logging
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

from aiohttp import web

from wattnet.aio import stop_on_signals
from wattnet.chain.eip712 import Domain
from wattnet.errors import WattNetError
from wattnet.oracle.api import build_app
from wattnet.oracle.batcher import Batcher
from wattnet.oracle.chain import SettlementChain
from wattnet.oracle.committee import CommitteeView, Proposer, Turns, Voter
from wattnet.oracle.committee_api import Gossip, add_committee_routes
from wattnet.oracle.config import OracleConfig
from wattnet.oracle.directory import (
    CachedStationDirectory,
    JsonFileStationDirectory,
    StationDirectory,
)
from wattnet.oracle.errors import OracleConfigError
from wattnet.oracle.fakechain import FakeSettlementChain
from wattnet.oracle.findings import FindingJudge, FindingProposer, FindingView
from wattnet.oracle.ingest import GroupCommitter, Ingestor
from wattnet.oracle.ledger import CreditLedger
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.notices import NoticeDesk
from wattnet.oracle.store import open_store
from wattnet.oracle.store_base import Store
from wattnet.oracle.verify import Verifier

log = logging.getLogger(__name__)
FINDINGS_LOOKBACK_S = 7 * 86_400  # quarantines older than this are not swept for findings

GAUGE_REFRESH_S = 10.0


def _factory(spec: str, config: OracleConfig, kind: str) -> Any:
    """``fake:<path>``/``json:<path>`` for the built-in doubles, ``module:callable`` otherwise."""
    if not spec:
        raise OracleConfigError(f"no {kind} configured: set `{kind}` (module:callable)")
    scheme, _, rest = spec.partition(":")
    if kind == "chain" and scheme in ("fake", "fake-manual"):
        return FakeSettlementChain(Path(rest), auto_mine=scheme == "fake")
    if kind == "directory" and scheme == "json":
        return JsonFileStationDirectory(Path(rest))
    try:
        target = getattr(importlib.import_module(scheme), rest)
    except (ImportError, AttributeError, ValueError) as exc:
        raise OracleConfigError(f"cannot load {kind} factory {spec!r}: {exc}") from exc
    return target(config)


def status_gauges(counts: dict[str, int]) -> dict[str, int]:
    return {
        "pending": counts.get("pending", 0),
        "in_flight": sum(counts.get(s, 0) for s in ("batched", "submitted", "confirming")),
        "open_batches": counts.get("open_batches", 0),
    }


class OracleService:
    """Everything one oracle process runs; ``serve`` blocks until SIGTERM/SIGINT."""

    def __init__(
        self, config: OracleConfig, *, store: Store | None = None,
        directory: StationDirectory | None = None, chain: SettlementChain | None = None,
        clock: Callable[[], float] = time.time, ledger: CreditLedger | None = None,
    ) -> None:
        self.config = config
        self.clock = clock
        self.metrics = Metrics()
        self.store = store or open_store(config.database, config.pg_schema)
        inner = directory or _factory(config.directory, config, "directory")
        self.directory = CachedStationDirectory(inner, ttl_s=config.directory_ttl_s)
        self.chain: SettlementChain = chain or _factory(config.chain, config, "chain")
        separator = Domain(config.chain_id, config.settlement_contract).separator
        self.ingestor = Ingestor(self.store, Verifier(separator, self.directory), config,
                                 self.metrics, clock)
        make_ledger = getattr(self.chain, "credit_ledger", None)
        self.ledger = ledger or (make_ledger() if make_ledger is not None else None)
        self.batcher = Batcher(self.store, self.chain, config.batcher, self.metrics, clock,
                               ledger=self.ledger)
        self.notices = None if self.ledger is None else NoticeDesk(
            self.store, self.directory, self.ledger, separator, self.metrics, clock,
            future_skew_s=config.plausibility.future_skew_s)
        self.judge: FindingJudge | None = None
        self.findings: FindingProposer | None = None
        self.voter = self._committee_node(config)
        self._stop = threading.Event()
        self._batcher_thread: threading.Thread | None = None
        self.committer: GroupCommitter | None = None

    def _committee_node(self, config: OracleConfig) -> Voter | None:
        """As a committee node: this node's voter, and its proposer on the chain adapter."""
        if config.committee is None:
            return None
        if not isinstance(self.chain, CommitteeView) or not hasattr(self.chain, "proposer"):
            raise OracleConfigError("a `committee` section needs the committee chain adapter "
                                    "(chain: wattnet.oracle.committee_web3:committee_chain)")
        cc = config.committee
        voter = Voter(self.store, self.chain, self.clock)
        proposer = Proposer(voter, Turns(cc.round_s), cc.peers, cc.request_timeout_s)
        self.chain.proposer = proposer
        self.judge = FindingJudge(self.store, cast(FindingView, self.chain), cc.forfeit_reasons,
                                  cc.finding_ttl_s)
        self.findings = FindingProposer(self.judge, cc.peers, proposer.ask)
        return voter

    def start_batcher(self) -> None:
        self._batcher_thread = threading.Thread(target=self._batch_loop, name="oracle-batcher",
                                                daemon=True)
        self._batcher_thread.start()
        if self.findings is not None:
            threading.Thread(target=self._findings_loop, name="committee-findings",
                             daemon=True).start()

    def _findings_loop(self) -> None:
        """Sweep the last week's quarantines for forfeits and freezes to propose."""
        assert self.config.committee is not None and self.findings is not None
        every = self.config.committee.finding_sweep_s
        while not self._stop.wait(every):
            try:
                self.findings.sweep(int(self.clock()) - FINDINGS_LOOKBACK_S)
            except WattNetError as exc:
                log.error("findings: %s; retrying", exc)
            except Exception:
                log.exception("findings sweep failed; retrying")

    def _batch_loop(self) -> None:
        refreshed = float("-inf")
        while not self._stop.is_set():
            try:
                self.batcher.step()
                if time.monotonic() - refreshed >= GAUGE_REFRESH_S:
                    self.metrics.set_gauges(status_gauges(self.store.live_counts()))
                    refreshed = time.monotonic()
            except WattNetError as exc:
                log.error("batcher: %s; retrying", exc)
            except Exception:
                log.exception("batcher step failed; retrying")
            self._stop.wait(self.config.batcher.poll_interval_s)

    def app(self) -> web.Application:
        self.committer = GroupCommitter(self.ingestor, self.config.group_commit_max)
        peers = self.config.committee.peers if self.config.committee is not None else ()
        committee = self.config.committee
        gossip = Gossip(peers) if committee is not None and committee.gossip else None
        app = build_app(self.committer, self.metrics, self.store, self.config.max_body_bytes,
                        self.config.max_batch_items, on_cleanup=self.close,
                        notices=self.notices, gossip=gossip)
        if self.voter is not None and self.judge is not None:
            add_committee_routes(app, self.voter, self.committer, peers, self.judge)
        if gossip is not None:
            app.on_cleanup.insert(0, gossip.close)
        return app

    def close(self) -> None:
        self._stop.set()
        if self._batcher_thread is not None:
            self._batcher_thread.join(timeout=30)
        if self.committer is not None:
            self.committer.close()
        if self.notices is not None:
            self.notices.close()
        self.store.close()

    def serve(self, ready: Callable[[str], None] | None = None) -> None:
        asyncio.run(self._serve(ready))

    async def _serve(self, ready: Callable[[str], None] | None) -> None:
        runner = web.AppRunner(self.app(), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, self.config.host, self.config.port)
        await site.start()
        self.start_batcher()
        url = f"http://{self.config.host}:{self.config.port}"
        log.info("oracle listening on %s (%s)", url, self.store.description)
        if ready is not None:
            ready(url)
        await stop_on_signals().wait()
        await runner.cleanup()

