"""Group commit: one worker thread hands everything submitted while it was busy to one call.

A service's writes each need an fsync before they are acknowledged; run one at a time, the
fsync (milliseconds on real disks) caps a whole process at a few hundred writes a second. Here
concurrent submissions wait in a queue while the worker runs the previous group; the next
group takes all of them, so they share one transaction and one fsync, and each submitter gets
its own result (or exception) only after the group's work is done. Order is kept: a group is
the queue's prefix, processed in submission order.
"""

from __future__ import annotations

import asyncio
import queue
import threading
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

I = TypeVar("I")  # noqa: E741 - an item
R = TypeVar("R")

_Job = tuple[I, "asyncio.Future[R]", asyncio.AbstractEventLoop]


class GroupWorker(Generic[I, R]):
    """``await submit(item)`` -> ``process([...items])``'s entry for that item.

    ``process`` returns one entry per item, in order: a result, or an exception instance for
    that item alone. If ``process`` raises, every item of the group gets that exception.
    ``size(item)`` counts toward ``max_size`` per group (default: 1 per item).
    """

    def __init__(self, process: Callable[[list[I]], Sequence[R | BaseException]], *,
                 name: str, max_size: int = 1_000,
                 size: Callable[[I], int] = lambda item: 1) -> None:
        self._process, self._max, self._size = process, max_size, size
        self._queue: queue.SimpleQueue[_Job[I, R] | None] = queue.SimpleQueue()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self._thread.start()

    async def submit(self, item: I) -> R:
        loop = asyncio.get_running_loop()
        fut: asyncio.Future[R] = loop.create_future()
        self._queue.put((item, fut, loop))
        return await fut

    def close(self, timeout: float = 10.0) -> None:
        """Finish what was submitted, then stop the thread."""
        self._queue.put(None)
        self._thread.join(timeout=timeout)

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            jobs, total, stop = [first], self._size(first[0]), False
            while total < self._max:
                try:
                    job = self._queue.get_nowait()
                except queue.Empty:
                    break
                if job is None:
                    stop = True
                    break
                jobs.append(job)
                total += self._size(job[0])
            self._round(jobs)
            if stop:
                return

    def _round(self, jobs: list[_Job[I, R]]) -> None:
        try:
            results = list(self._process([item for item, _, _ in jobs]))
            if len(results) != len(jobs):
                raise RuntimeError(f"group of {len(jobs)} got {len(results)} results")
        except Exception as exc:  # the thread must survive; nothing of the group was acked
            results = [exc] * len(jobs)
        for (_, fut, loop), result in zip(jobs, results, strict=True):
            loop.call_soon_threadsafe(_settle, fut, result)


def _settle(fut: asyncio.Future[R], result: R | BaseException) -> None:
    if fut.done():
        return
    if isinstance(result, BaseException):
        fut.set_exception(result)
    else:
        fut.set_result(result)
