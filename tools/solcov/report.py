#!/usr/bin/env python3
"""Map recorded program counters onto statements and decisions; print and check coverage.

    python tools/solcov/report.py HITS.json [--lcov FILE] [--min-lines N] [--min-branches M]

A statement counts as executed when an executed instruction's source range lies inside it and in
no smaller statement. A decision (if, require, ternary, loop, && / ||) has two branches; a branch
counts as covered when one of the decision's own conditional jumps went that way. Statements and
decisions that the optimizer left without an instruction of their own cannot be observed: they
are listed as `unmapped` and left out of both figures. The last line is
`coverage_lines_pct=<N> coverage_branches_pct=<M>`; the exit status is 1 below a floor.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from solcov.build import Build, Item, Unit, compile_project


@dataclass(slots=True)
class FileCov:
    """Coverage of one source file: line -> executed, decision item -> directions seen."""

    lines: dict[int, bool] = field(default_factory=dict)
    branches: dict[int, set[bool]] = field(default_factory=dict)  # item index -> directions
    unmapped_stmts: int = 0
    unmapped_branches: int = 0


JUMPI = 0x57


def _pcs_to_index(code: bytes) -> dict[int, int]:
    """Program counter -> instruction index (PUSH1..PUSH32 carry 1..32 data bytes)."""
    out, pc, i = {}, 0, 0
    while pc < len(code):
        out[pc] = i
        op = code[pc]
        pc += 1 + (op - 0x5F if 0x60 <= op <= 0x7F else 0)
        i += 1
    return out


def _decode_map(srcmap: str) -> list[tuple[int, int, int]]:
    entries, cur = [], [0, 0, -1]
    for chunk in srcmap.split(";"):
        for k, part in enumerate(chunk.split(":")[:3]):
            if part:
                cur[k] = int(part)
        entries.append((cur[0], cur[1], cur[2]))
    return entries


def _masked(code: bytes, unit: Unit) -> bytes:
    """Runtime code with immutables and the trailing CBOR metadata zeroed."""
    buf = bytearray(code)
    for start, length in unit.immutables:
        buf[start:start + length] = bytes(length)
    meta = int.from_bytes(code[-2:], "big") + 2 if len(code) >= 2 else 0
    if meta < len(buf):
        buf[len(buf) - meta:] = bytes(meta)
    return bytes(buf)


def _same_init(code: bytes, init: bytes) -> bool:
    """Init code (constructor arguments appended) equal but for the embedded metadata hashes."""
    if len(code) < len(init) or abs(len(code) - len(init)) > 4096:
        return False
    return sum(1 for a, b in zip(code, init, strict=False) if a != b) <= 2 * 53


class Attributor:
    """Innermost item (statement or decision) containing a source range, per file."""

    def __init__(self, build: Build) -> None:
        self.by_file: dict[str, list[tuple[int, Item]]] = defaultdict(list)
        for idx, item in enumerate(build.items):
            self.by_file[item.file].append((idx, item))
        self.file_ids = build.file_ids

    def __call__(self, s: int, length: int, f: int, branch: bool) -> int | None:
        path = self.file_ids.get(f)
        best: tuple[int, int, int] | None = None
        for idx, item in self.by_file.get(path or "", []):
            if item.start <= s and s + length <= item.end:
                # smaller wins; on equal ranges a decision wins only for jumps
                key = (item.end - item.start, 0 if (item.kind == "branch") == branch else 1, idx)
                if best is None or key < best:
                    best = key
        if best is None:
            return None
        return best[2]


class Mapper:
    """Instruction -> item for one bytecode, through its source map (memoised per range)."""

    def __init__(self, attribute: Attributor, bytecode: bytes, srcmap: str) -> None:
        self.attribute = attribute
        self.bytecode = bytecode
        self.index = _pcs_to_index(bytecode)
        self.entries = _decode_map(srcmap)
        self.cache: dict[tuple[int, int, int, bool], int | None] = {}

    def item_at(self, pc: int, branch: bool) -> int | None:
        i = self.index.get(pc)
        if i is None or i >= len(self.entries):
            return None
        s, length, f = self.entries[i]
        key = (s, length, f, branch)
        if key not in self.cache:
            self.cache[key] = self.attribute(s, length, f, branch)
        return self.cache[key]


def _code_of(unit: Unit, code: bytes, runtime_key: bytes) -> tuple[bytes, str] | None:
    """The unit's runtime or init code (and source map) when `code` is it, else None."""
    if len(code) == len(unit.runtime) and _masked(code, unit) == runtime_key:
        return unit.runtime, unit.runtime_map
    if _same_init(code, unit.init):
        return unit.init, unit.init_map
    return None


def measure(build: Build, hits: dict[str, dict[str, list[Any]]]) -> dict[str, FileCov]:
    attribute = Attributor(build)
    kinds = [item.kind for item in build.items]
    mapped: set[int] = set()
    executed: set[int] = set()
    directions: dict[int, set[bool]] = defaultdict(set)
    records = [(bytes.fromhex(k), v) for k, v in hits.items()]
    for unit in build.units:
        runtime_key = _masked(unit.runtime, unit)
        # What can be observed at all, from the runtime code whether it ran or not.
        for bytecode, srcmap in ((unit.runtime, unit.runtime_map), (unit.init, unit.init_map)):
            m = Mapper(attribute, bytecode, srcmap)
            for pc in m.index:
                if (it := m.item_at(pc, False)) is not None and kinds[it] == "stmt":
                    mapped.add(it)
                if bytecode[pc] == JUMPI and (it := m.item_at(pc, True)) is not None \
                        and kinds[it] == "branch":
                    mapped.add(it)
        for code, rec in records:
            found = _code_of(unit, code, runtime_key)
            if found is None:
                continue
            m = Mapper(attribute, *found)
            for pc in rec["pcs"]:
                if (it := m.item_at(pc, False)) is not None and kinds[it] == "stmt":
                    executed.add(it)
            for jpc, nxt in rec["jumps"]:
                if (it := m.item_at(jpc, True)) is not None and kinds[it] == "branch":
                    directions[it].add(nxt != jpc + 1)
    result: dict[str, FileCov] = {path: FileCov() for path in build.ours}
    for idx, item in enumerate(build.items):
        cov = result[item.file]
        if idx not in mapped:
            if item.kind == "stmt":
                cov.unmapped_stmts += 1
            else:
                cov.unmapped_branches += 1
        elif item.kind == "stmt":
            cov.lines[item.line] = cov.lines.get(item.line, False) or idx in executed
        else:
            cov.branches[idx] = directions.get(idx, set())
    return {p: c for p, c in result.items() if c.lines or c.branches}


def _pct(hit: int, total: int) -> float:
    return 100.0 * hit / total if total else 100.0


def write_lcov(build: Build, cov: dict[str, FileCov], path: Path) -> None:
    out = []
    for file, c in sorted(cov.items()):
        out.append(f"SF:{file}")
        for line, hit in sorted(c.lines.items()):
            out.append(f"DA:{line},{int(hit)}")
        for idx, dirs in sorted(c.branches.items()):
            line = build.items[idx].line
            for n, d in enumerate((True, False)):
                out.append(f"BRDA:{line},{idx},{n},{1 if d in dirs else '-'}")
        out += [f"LF:{len(c.lines)}", f"LH:{sum(c.lines.values())}",
                f"BRF:{2 * len(c.branches)}", f"BRH:{sum(len(d) for d in c.branches.values())}",
                "end_of_record"]
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("\n".join(out) + "\n", encoding="utf-8")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("hits", type=Path)
    ap.add_argument("--lcov", type=Path)
    ap.add_argument("--min-lines", type=float, default=0.0)
    ap.add_argument("--min-branches", type=float, default=0.0)
    ap.add_argument("--missed", action="store_true", help="list every line not executed")
    args = ap.parse_args()
    if not args.hits.exists():
        print(f"coverage: no hits file at {args.hits}; run the tests with SOLCOV_OUT set",
              file=sys.stderr)
        return 2
    build = compile_project()
    cov = measure(build, json.loads(args.hits.read_text(encoding="utf-8")))
    print(f"{'file':48} {'lines':>13} {'branches':>13} {'unmapped':>9}")
    tl = th = tb = tbh = 0
    for file, c in sorted(cov.items()):
        lh, lf = sum(c.lines.values()), len(c.lines)
        bh, bf = sum(len(d) for d in c.branches.values()), 2 * len(c.branches)
        tl, th, tb, tbh = tl + lf, th + lh, tb + bf, tbh + bh
        print(f"{file:48} {lh:4}/{lf:<4} {_pct(lh, lf):5.1f}% {bh:4}/{bf:<4} {_pct(bh, bf):5.1f}% "
              f"{c.unmapped_stmts:4}+{c.unmapped_branches:<4}")
        if args.missed:
            missed = [str(n) for n, hit in sorted(c.lines.items()) if not hit]
            half = [str(build.items[i].line) for i, d in sorted(c.branches.items()) if len(d) < 2]
            print(f"    lines not run: {' '.join(missed) or '-'}; decisions one-sided: "
                  f"{' '.join(half) or '-'}")
    if args.lcov:
        write_lcov(build, cov, args.lcov)
    lines_pct, branches_pct = _pct(th, tl), _pct(tbh, tb)
    failed = lines_pct < args.min_lines or branches_pct < args.min_branches
    if failed:
        print(f"coverage below the floor: lines {lines_pct:.1f}% (min {args.min_lines}), "
              f"branches {branches_pct:.1f}% (min {args.min_branches})", file=sys.stderr)
    print(f"coverage_lines_pct={lines_pct:.1f} coverage_branches_pct={branches_pct:.1f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
