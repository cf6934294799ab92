"""The chain under the network simulation: a local anvil we start (or one at a given URL), and
a small JSON-RPC client for what the simulator does to it (time, balances, impersonated sends).

Every transaction the simulated drivers, operators and treasury send goes through anvil's
auto-impersonation (``eth_sendTransaction`` from any address, no keys), so thousands of
participants cost nothing to sign. The oracle signs its own transactions as in production.
"""

from __future__ import annotations

import contextlib
import logging
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from wattnet.chain.jsonrpc import rpc_batch, rpc_session
from wattnet.chain.localnode import free_port
from wattnet.errors import ChainError

log = logging.getLogger(__name__)
GAS_LIMIT = 1_000_000_000  # per block: big settlement batches fit
TX_GAS = 50_000_000  # claims over many stations are large; unused gas costs nothing here
ETH = 10**18


class Rpc:
    """Synchronous JSON-RPC over one keep-alive HTTP session; ``batch`` sends many calls in one
    request (anvil answers them in order)."""

    def __init__(self, url: str, timeout_s: float = 60.0) -> None:
        self.url = url
        self.timeout_s = timeout_s
        self._http = rpc_session(url)

    def call(self, method: str, *params: Any) -> Any:
        return self.batch([(method, list(params))])[0]

    def batch(self, calls: Sequence[tuple[str, list[Any]]]) -> list[Any]:
        return rpc_batch(self._http, self.url, calls, timeout_s=self.timeout_s)

    # ---- anvil controls ----
    def head_timestamp(self) -> int:
        return int(self.call("eth_getBlockByNumber", "latest", False)["timestamp"], 16)

    def warp_to(self, timestamp: int) -> int:
        """Move chain time forward to at least ``timestamp`` and mine a block there."""
        head = self.head_timestamp()
        if timestamp > head:
            self.call("evm_setNextBlockTimestamp", hex(timestamp))
        self.call("evm_mine")
        return self.head_timestamp()

    def fund(self, addresses: Sequence[str], wei: int = 1_000 * ETH) -> None:
        self.batch([("anvil_setBalance", [a, hex(wei)]) for a in addresses])

    def impersonate_all(self) -> None:
        self.call("anvil_autoImpersonateAccount", True)

    def send(self, txs: Sequence[tuple[str, str, str]], what: str) -> list[str]:
        """Send (from, to, calldata) transactions from impersonated accounts and check that every
        one succeeded; returns the tx hashes. One sender's transactions run in the given order;
        across senders there is no order (send dependent work in a later call)."""
        senders = sorted({f for f, _, _ in txs})
        nonces = {s: int(n, 16) for s, n in zip(senders, self.batch(
            [("eth_getTransactionCount", [s, "pending"]) for s in senders]), strict=True)}
        calls = []
        for f, t, d in txs:  # explicit nonces: anvil takes a batch's sends concurrently
            calls.append(("eth_sendTransaction", [{"from": f, "to": t, "data": d,
                                                   "gas": hex(TX_GAS), "nonce": hex(nonces[f])}]))
            nonces[f] += 1
        hashes: list[str] = []
        # Mining one block per transaction is what makes a large population slow: queue them
        # all, then mine blocks until the pool is empty.
        self.call("evm_setAutomine", False)
        try:
            for chunk in range(0, len(calls), 500):
                hashes += self.batch(calls[chunk:chunk + 500])
            while int(self.call("txpool_status")["pending"], 16):
                self.call("evm_mine")
        finally:
            self.call("evm_setAutomine", True)
        receipts = self.receipts(hashes)
        for (sender, _, _), receipt in zip(txs, receipts, strict=True):
            if receipt is None or int(receipt["status"], 16) != 1:
                raise ChainError(f"{what}: a transaction from {sender} failed on chain "
                                 f"(receipt {receipt and receipt.get('transactionHash')})")
        return hashes

    def receipts(self, hashes: Sequence[str], timeout_s: float = 120.0) -> list[Any]:
        """The receipts of ``hashes``, waiting until each is mined (anvil mines a batch of
        sends asynchronously, several to a block)."""
        found: dict[str, Any] = {}
        deadline = time.monotonic() + timeout_s
        while True:
            missing = [h for h in hashes if h not in found]
            for chunk in range(0, len(missing), 200):
                part = missing[chunk:chunk + 200]
                for h, r in zip(part, self.batch([("eth_getTransactionReceipt", [h])
                                                  for h in part]), strict=True):
                    if r is not None:
                        found[h] = r
            if len(found) == len(set(hashes)) or time.monotonic() > deadline:
                return [found.get(h) for h in hashes]
            time.sleep(0.02)

    def dump_state(self, path: Path) -> None:
        """The node's state as anvil_dumpState gives it (hex); ``Anvil(load_state=path)``
        loads it back."""
        state = self.call("anvil_dumpState")
        path.write_text(str(state))

    def close(self) -> None:
        self._http.close()


def anvil_binary() -> str:
    found = shutil.which("anvil")
    if found is None:
        raise ChainError("anvil is not installed or not on PATH: run `make setup` and "
                         "`source tools/env.sh`")
    return found


class Anvil:
    """An anvil process of our own on a free port (its own session: a terminal's Ctrl-C
    reaches only us, and we stop it)."""

    def __init__(self, workdir: Path, *, load_state: Path | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.workdir = workdir
        self.load_state = load_state
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self, timeout_s: float = 30.0) -> None:
        cmd = [anvil_binary(), "--host", "127.0.0.1", "--port", str(self.port),
               "--gas-limit", str(GAS_LIMIT), "--accounts", "10", "--silent",
               "--no-request-size-limit"]
        dump: str | None = None
        if self.load_state is not None:
            if not self.load_state.is_file():
                raise ChainError(f"--from-state: no such file {self.load_state}")
            with self.load_state.open() as fh:
                head = fh.read(2)
            if head == "0x":  # anvil_dumpState's hex form: loaded over RPC below
                dump = self.load_state.read_text().strip()
            else:  # the JSON that `anvil --dump-state` writes
                cmd += ["--load-state", str(self.load_state)]
        log_file = (self.workdir / "anvil.log").open("ab")
        self.proc = subprocess.Popen(cmd, stdout=log_file, stderr=subprocess.STDOUT,
                                     start_new_session=True)
        log_file.close()
        rpc = Rpc(self.url, timeout_s=2)
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                tail = (self.workdir / "anvil.log").read_text(errors="replace")[-2000:]
                raise ChainError(f"anvil exited at start ({self.proc.returncode}): {tail}")
            with contextlib.suppress(ChainError):
                rpc.call("eth_chainId")
                if dump is not None:
                    Rpc(self.url).call("anvil_loadState", dump)
                rpc.close()
                return
            time.sleep(0.05)
        raise ChainError(f"anvil did not answer on {self.url} within {timeout_s:.0f} s")

    def stop(self) -> None:
        stop_process(self.proc)
        self.proc = None


def stop_process(proc: subprocess.Popen[bytes] | None, timeout_s: float = 15.0) -> None:
    """SIGTERM the process (and its process group), SIGKILL if it lingers; reap it."""
    if proc is None or proc.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=timeout_s)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()
