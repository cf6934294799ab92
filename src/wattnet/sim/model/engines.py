"""Where the model's batches run: the local process pool (the default) or a Dask cluster.

An engine takes a list of batches (run ids of one scenario) and returns their results; which
machine ran a batch, and how the runs were cut into batches, never changes a run's result (each
run draws from its own stream, see montecarlo.py). So a campaign on a Dask cluster equals the
local one bit for bit. Dask (``distributed``) is an optional extra: ``pip install 'wattnet[dask]'``.
"""

from __future__ import annotations

import importlib
import logging
import os
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from contextlib import ExitStack, contextmanager
from multiprocessing import get_context
from types import TracebackType
from typing import Any

from wattnet.errors import ConfigError
from wattnet.sim.model.dynamics import simulate
from wattnet.sim.model.outcomes import Batch
from wattnet.sim.model.state import Inputs

log = logging.getLogger(__name__)

ENGINES = ("local", "dask")
DASK_EXTRA = "pip install 'wattnet[dask]'"
TRIM = "MALLOC_TRIM_THRESHOLD_"

# (batch index, share of its epochs done) -> None
Report = Callable[[int, float], None]


def _work(inp: Inputs, chunk: list[int], seed: int, k: int, queue: Any) -> Batch:
    """One batch in a worker; reports its progress (batch, share done) on ``queue`` if given."""
    step = max(1, inp.epochs // 20)

    def tick(e: int) -> None:
        if queue is not None and ((e + 1) % step == 0):
            queue.put((k, (e + 1) / inp.epochs))

    return simulate(inp, chunk, seed, on_epoch=tick if queue is not None else None)


def worker_env(name: str) -> str | None:
    """An environment variable of the process this runs in (a module function, so that Dask
    sends it by reference; ``os.environ.get`` would carry the caller's environment along)."""
    return os.environ.get(name)


class Engine(ABC):
    """Runs batches of one scenario; a context manager that owns its workers."""

    @property
    @abstractmethod
    def slots(self) -> int:
        """How many batches can run at the same time."""

    @abstractmethod
    def run(
        self, inp: Inputs, chunks: list[list[int]], seed: int, report: Report | None
    ) -> list[Batch]:
        """Every batch's result (in any order); ``report`` hears of progress as it is made."""

    def close(self) -> None:  # noqa: B027 (engines without resources keep the default)
        """Release the workers."""

    def __enter__(self) -> Engine:
        return self

    def __exit__(
        self, et: type[BaseException] | None, ev: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


class LocalEngine(Engine):
    """This machine: a pool of ``workers`` spawned processes (one batch in-process if 1),
    started on first use and kept for every later run until closed."""

    def __init__(self, workers: int | None = None) -> None:
        self._workers = max(1, workers or os.cpu_count() or 1)
        self._stack = ExitStack()
        self._pool: ProcessPoolExecutor | None = None
        self._queue: Any = None

    @property
    def slots(self) -> int:
        return self._workers

    def run(
        self, inp: Inputs, chunks: list[list[int]], seed: int, report: Report | None
    ) -> list[Batch]:
        if self._workers == 1 or len(chunks) == 1:
            return [self._inline(inp, k, chunk, seed, report) for k, chunk in enumerate(chunks)]
        ctx = get_context("spawn")
        if self._pool is None:
            self._pool = self._stack.enter_context(ProcessPoolExecutor(self._workers, ctx))
        if report and self._queue is None:
            self._queue = self._stack.enter_context(ctx.Manager()).Queue()
        queue = self._queue if report else None
        futures = [
            self._pool.submit(_work, inp, chunk, seed, k, queue) for k, chunk in enumerate(chunks)
        ]
        index = {fut: k for k, fut in enumerate(futures)}
        batches: list[Batch] = []
        pending = set(futures)
        while pending:
            finished, pending = wait(pending, timeout=0.2, return_when=FIRST_COMPLETED)
            batches += [fut.result() for fut in finished]
            while queue is not None and not queue.empty():
                k, share = queue.get_nowait()
                report(k, share)  # type: ignore[misc]  # queue is set only with report
            for fut in finished:
                if report:
                    report(index[fut], 1.0)
        return batches

    @staticmethod
    def _inline(inp: Inputs, k: int, chunk: list[int], seed: int, report: Report | None) -> Batch:
        def tick(e: int) -> None:
            if report and (e + 1) % 26 == 0:
                report(k, (e + 1) / inp.epochs)

        batch = simulate(inp, chunk, seed, on_epoch=tick if report else None)
        if report:
            report(k, 1.0)
        return batch

    def close(self) -> None:
        self._stack.close()
        self._pool = self._queue = None


class DaskEngine(Engine):
    """A Dask ``distributed`` cluster: the scheduler at ``address``, or, without one, a
    ``LocalCluster`` of ``workers`` single-threaded processes on this machine. Every worker
    needs the same wattnet version installed; the inputs are sent to each worker once per run."""

    def __init__(self, address: str | None = None, workers: int | None = None) -> None:
        try:
            dd = importlib.import_module("distributed")  # untyped: used as Any
        except ImportError:
            raise ConfigError(
                f"--engine dask needs the optional Dask extra: {DASK_EXTRA}"
            ) from None
        self._dd = dd
        self._cluster: Any = None
        try:
            if address:
                self._client: Any = dd.Client(address, timeout="10s")
            else:
                n = max(1, workers or os.cpu_count() or 1)
                with _without_malloc_trim():
                    self._cluster = dd.LocalCluster(
                        n_workers=n, threads_per_worker=1, processes=True, dashboard_address=":0"
                    )
                self._client = dd.Client(self._cluster)
        except (OSError, TimeoutError) as exc:
            self.close()
            where = address or "a local Dask cluster"
            raise ConfigError(
                f"cannot reach the Dask scheduler at {where} ({exc}); start one with "
                "`dask scheduler` or check --dask-scheduler"
            ) from None
        log.info("dask: %s, %d worker threads", self._client.scheduler.address, self.slots)
        trimmed = [w for w, v in self._client.run(worker_env, TRIM).items() if v]
        if trimmed:
            log.warning(
                "%d Dask workers run with %s set (Dask's default): the model runs about 2x "
                "slower there; start them as docs/economics.md says",
                len(trimmed),
                TRIM,
            )

    @property
    def slots(self) -> int:
        threads: dict[str, int] = self._client.nthreads()
        return max(1, sum(threads.values()))

    def run(
        self, inp: Inputs, chunks: list[list[int]], seed: int, report: Report | None
    ) -> list[Batch]:
        shared = self._client.scatter(inp, broadcast=True, hash=False)  # a key per run
        futures = [
            self._client.submit(_work, shared, chunk, seed, k, None, pure=False)
            for k, chunk in enumerate(chunks)
        ]
        index = {fut.key: k for k, fut in enumerate(futures)}
        batches: list[Batch] = []
        for fut in self._dd.as_completed(futures):
            batches.append(fut.result())
            if report:
                report(index[fut.key], 1.0)
        return batches

    def close(self) -> None:
        client = getattr(self, "_client", None)
        if client is not None:
            client.close()
        if self._cluster is not None:
            self._cluster.close()


@contextmanager
def _without_malloc_trim() -> Iterator[None]:
    """Dask's nanny starts workers with ``MALLOC_TRIM_THRESHOLD_=65536``, which also fixes
    glibc's mmap threshold: every large numpy array is then a fresh mmap, and the model runs
    about 2.3x slower in a worker than in a plain process (measured). Workers started here go
    without it (neither from Dask's config nor from this process's environment, where an earlier
    nanny may have left it), and this process's environment is left as it was; docs/economics.md
    says how to start remote workers the same way."""
    dask = importlib.import_module("dask")
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ", {}))
    environ.pop(TRIM, None)
    saved = dict(os.environ)  # the nanny also writes its variables into this process's
    os.environ.pop(TRIM, None)
    try:
        with dask.config.set({"distributed.nanny.pre-spawn-environ": environ}):
            yield
    finally:
        os.environ.clear()
        os.environ.update(saved)


def open_engine(name: str, address: str | None = None, workers: int | None = None) -> Engine:
    """The engine named ``name`` (one of ENGINES); a ConfigError for a bad combination."""
    if name == "local":
        if address:
            raise ConfigError("--dask-scheduler needs --engine dask")
        return LocalEngine(workers)
    if name == "dask":
        return DaskEngine(address, workers)
    raise ConfigError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")
