"""pytest plugin: record executed program counters and JUMPI outcomes of py-evm.

Load it with `-p tools.solcov.hits` and set SOLCOV_OUT to the JSON file to write. Every code
object the EVM runs (init code and runtime code alike) is keyed by its bytes; for each we keep
the set of program counters executed and the set of (JUMPI pc, next pc) pairs, which tell
whether each conditional jump was taken, not taken, or both.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

JUMPI = 0x57
STOP = 0x00

# code bytes -> executed pcs; code bytes -> {(jumpi pc, next pc)}
PCS: dict[bytes, set[int]] = {}
JUMPS: dict[bytes, set[tuple[int, int]]] = {}


def _recording_iter(self: Any) -> Iterator[int]:
    """CodeStream.__iter__ as py-evm writes it, plus two set insertions per opcode."""
    code: bytes = self._raw_code_bytes
    pcs = PCS.setdefault(code, set())
    jumps = JUMPS.setdefault(code, set())
    last = -1
    while True:
        pc = self.program_counter
        if last >= 0:
            jumps.add((last, pc))
            last = -1
        try:
            opcode = code[pc]
        except IndexError:
            break
        pcs.add(pc)
        if opcode == JUMPI:
            last = pc
        self.program_counter = pc + 1
        yield opcode
    yield STOP


def pytest_configure(config: Any) -> None:
    if not os.environ.get("SOLCOV_OUT"):
        return
    from eth.vm.code_stream import CodeStream

    CodeStream.__iter__ = _recording_iter  # type: ignore[method-assign]


def pytest_unconfigure(config: Any) -> None:
    out = os.environ.get("SOLCOV_OUT")
    if not out:
        return
    path = Path(out)
    previous: dict[str, Any] = {}
    if path.exists():  # several pytest runs add up into one file
        previous = json.loads(path.read_text(encoding="utf-8"))
    for code, pcs in PCS.items():
        entry = previous.setdefault(code.hex(), {"pcs": [], "jumps": []})
        entry["pcs"] = sorted(set(entry["pcs"]) | pcs)
        seen = {tuple(j) for j in entry["jumps"]} | JUMPS.get(code, set())
        entry["jumps"] = sorted(seen)
    path.write_text(json.dumps(previous), encoding="utf-8")
