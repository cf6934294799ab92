"""Group commit: concurrent store calls share one transaction; a failing call loses only itself,
a failed commit acknowledges nothing (the ``GroupWorker`` and ``GatewayStore.group``)."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
from pathlib import Path

import pytest

from wattnet.gateway.errors import OutboxError
from wattnet.gateway.store import GatewayStore
from wattnet.gateway.transactions import Transaction
from wattnet.groups import GroupWorker


def _tx(key: str) -> Transaction:
    return Transaction("CP1", key, 1, 1_700_000_000, 0)


def test_group__one_commit_failing_op_undone_alone(tmp_path: Path) -> None:
    store = GatewayStore(tmp_path / "g.sqlite3")
    commits: list[str] = []
    store._db.set_trace_callback(lambda sql: commits.append(sql) if sql == "COMMIT" else None)

    def broken() -> None:  # writes, then fails: its write must not survive
        store.save_transaction(_tx("b"))
        raise ValueError("bad op")

    results = store.group([lambda: store.save_transaction(_tx("a")), broken,
                           lambda: store.get_transaction("CP1", "a")])
    assert commits == ["COMMIT"]  # three calls, one commit
    assert isinstance(results[1], ValueError)
    assert results[2] == _tx("a")  # a later op sees an earlier one's write
    assert store.get_transaction("CP1", "a") == _tx("a")
    assert store.get_transaction("CP1", "b") is None
    store.close()


def test_group__refused_by_the_database_writes_nothing_and_raises(tmp_path: Path) -> None:
    store = GatewayStore(tmp_path / "g.sqlite3")
    blocker = sqlite3.connect(tmp_path / "g.sqlite3", isolation_level=None)
    blocker.execute("PRAGMA busy_timeout=0")
    store._db.execute("PRAGMA busy_timeout=0")
    blocker.execute("BEGIN IMMEDIATE")  # another writer holds the database: BEGIN fails
    with pytest.raises(OutboxError, match="nothing was acknowledged"):
        store.group([lambda: store.save_transaction(_tx("a"))])
    blocker.execute("ROLLBACK")
    assert store.get_transaction("CP1", "a") is None
    assert store.group([lambda: store.save_transaction(_tx("a"))])[0][1] is False
    store.close()


def test_group_worker__concurrent_submissions_grouped_in_order_each_own_result() -> None:
    gate = threading.Event()
    groups: list[list[int]] = []

    def process(items: list[int]) -> list[int | Exception]:
        gate.wait(5)  # the first group holds the thread while the rest queue up
        groups.append(items)
        return [ValueError(str(i)) if i == 3 else i * 10 for i in items]

    worker: GroupWorker[int, int] = GroupWorker(process, name="test-group")

    async def main() -> list[int | BaseException]:
        tasks = [asyncio.ensure_future(worker.submit(i)) for i in range(6)]
        await asyncio.sleep(0.05)
        gate.set()
        return await asyncio.gather(*tasks, return_exceptions=True)

    results = asyncio.run(main())
    worker.close()
    assert [g for group in groups for g in group] == list(range(6))  # order kept
    assert len(groups) < 6  # the queued submissions shared a group
    assert results[:3] == [0, 10, 20] and results[4:] == [40, 50]
    assert isinstance(results[3], ValueError)  # only the failing item failed


def test_group_worker__process_raising_fails_the_whole_group_and_thread_survives() -> None:
    calls = [0]

    def process(items: list[int]) -> list[int]:
        calls[0] += 1
        if calls[0] == 1:
            raise OSError("disk gone")
        return items

    worker: GroupWorker[int, int] = GroupWorker(process, name="test-group")

    async def main() -> tuple[BaseException | int, int]:
        first = await asyncio.gather(worker.submit(1), return_exceptions=True)
        return first[0], await worker.submit(2)

    failed, later = asyncio.run(main())
    worker.close()
    assert isinstance(failed, OSError) and later == 2
