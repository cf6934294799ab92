#!/usr/bin/env python3
"""Mutation testing: slither-mutate's mutators, the project's compile, the unit tests as oracle.

    python tools/mutate.py CONTRACT [CONTRACT ...] [--tests PATH ...] [--mutators ROR,LOR,...]
                           [--max N] [--seed S] [--timeout S] [--out DIR]

slither-mutate itself cannot run here: it compiles every mutant with a native `solc` in
combined-json mode, without via-IR, and ape's incremental compile would miss a mutant in an
inherited contract (SessionSettlement is compiled inside EnergyCredits). So this script takes the
mutants from slither-mutate's own mutator classes (the same patches `slither-mutate` generates)
and, for each: writes it, compiles the contracts that import the file with `ape compile --force`
(a compile error makes it `invalid`, left out of the rate), runs the tests with `-x`, restores the
file. A failing test kills the mutant; a passing run lets it survive. The tests must pass on the
unmutated code first (the baseline), or nothing is tried. Survivors go to
OUT/survivors.md with their diff. `--max` samples that many mutants per contract (seeded), so a
campaign fits a time box. The last line is `mutants_killed_pct=<N>`.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import shutil
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from slither_check import OZ_REMAP, ROOT, SOLC, compiler_settings, sources

APE = ROOT / ".venv" / "bin" / "ape"
DEFAULT_MUTATORS = "RR,ROR,LOR,AOR,ASOR,BOR,UOR,LIR,MIA,SBR"
IMPORT = re.compile(r'^import\s+[^"]*"(\.{1,2}/[^"]+)"', re.M)


@dataclass(slots=True)
class Mutant:
    contract: str
    file: str
    mutator: str
    line: int
    old: str
    new: str
    start: int
    end: int
    outcome: str = ""
    seconds: float = 0.0


def importers(target: str) -> list[str]:
    """Every non-abstract-looking source whose import closure contains `target` (itself too)."""
    graph: dict[str, set[str]] = {}
    for rel in sources():
        text = (ROOT / rel).read_text(encoding="utf-8")
        graph[rel] = {(Path(rel).parent / m).resolve().relative_to(ROOT).as_posix()
                      for m in IMPORT.findall(text)}

    def reaches(src: str, seen: set[str]) -> bool:
        if src == target:
            return True
        seen.add(src)
        return any(reaches(d, seen) for d in graph.get(src, ()) if d not in seen)

    return [rel for rel in graph if reaches(rel, set())]


def generate(contract: str, mutators: list[str]) -> list[Mutant]:
    """The patches slither-mutate's mutators produce for `contract`."""
    from slither import Slither
    from slither.tools.mutator.mutators import all_mutators

    with tempfile.TemporaryDirectory() as tmp:
        settings = compiler_settings()
        request = {"language": "Solidity", "sources": {p: {"urls": [p]} for p in sources()},
                   "settings": settings}
        path = Path(tmp) / "input.json"
        path.write_text(json.dumps(request), encoding="utf-8")
        sl = Slither(str(path), compile_force_framework="solc-json", solc=str(SOLC),
                     solc_remaps=OZ_REMAP)
    target = next((c for c in sl.contracts if c.name == contract), None)
    if target is None:
        raise SystemExit(f"mutate: no contract named {contract} in contracts/")
    out: list[Mutant] = []
    seen: set[tuple[str, int, str]] = set()
    for name in mutators:
        cls = getattr(all_mutators, name, None)
        if cls is None:
            raise SystemExit(f"mutate: unknown mutator {name} "
                             "(see `slither-mutate --list-mutators`)")
        m = cls(target.compilation_unit, 0, "", "", target, OZ_REMAP, False, Path(tmp), [])
        for file, patches in m._mutate().get("patches", {}).items():
            rel = Path(file).resolve().relative_to(ROOT).as_posix()
            source = (ROOT / rel).read_bytes()
            for p in patches:
                m = fit(Mutant(contract, rel, name, p["line_number"], p["old_string"],
                               p["new_string"], p["start"], p["end"]), source)
                if m is not None and (m.file, m.start, m.new) not in seen:
                    seen.add((m.file, m.start, m.new))
                    out.append(m)
    return out


OPERATOR_CHARS = set("<>=!")


def fit(m: Mutant, source: bytes) -> Mutant | None:
    """The patch as an edit of its own range. Slither's ROR gives the whole statement as `old`
    and `new` (`new` sometimes cut short, and with the operator replaced at its first
    occurrence in the statement) but the range of the one comparison it mutates: written as is,
    the statement lands inside itself and cannot compile. Such a patch becomes that comparison
    with the new operator; None if the operator is not exactly once in it."""
    expr = source[m.start:m.end].decode()
    if m.old == expr:
        return m
    i = 0  # the first character where the mutated statement differs
    while i < min(len(m.old), len(m.new)) and m.old[i] == m.new[i]:
        i += 1
    a = i  # back to the start of the operator, then over the old and the new one
    while a > 0 and m.old[a - 1] in OPERATOR_CHARS:
        a -= 1
    b, c = a, a
    while b < len(m.old) and m.old[b] in OPERATOR_CHARS:
        b += 1
    while c < len(m.new) and m.new[c] in OPERATOR_CHARS:
        c += 1
    old_op, new_op = m.old[a:b], m.new[a:c]
    if not old_op or not new_op:
        return None
    at = [j for j in range(len(expr) - len(old_op) + 1) if expr.startswith(old_op, j)
          and (j == 0 or expr[j - 1] not in OPERATOR_CHARS)
          and (j + len(old_op) == len(expr) or expr[j + len(old_op)] not in OPERATOR_CHARS)]
    if len(at) != 1:
        return None
    new = expr[:at[0]] + new_op + expr[at[0] + len(old_op):]
    return Mutant(m.contract, m.file, m.mutator, m.line, expr, new, m.start, m.end)


def compile_contracts(files: list[str]) -> bool:
    """`ape compile --force` (of `files`, or everything), then drop contracts/.cache: installing
    the OpenZeppelin dependency copies 500+ files there, and Ape, which scans at most 500 files
    under contracts/, would then find nothing of ours to compile (the Makefile does the same)."""
    cache = ROOT / "contracts" / ".cache"
    shutil.rmtree(cache, ignore_errors=True)
    try:
        return run([str(APE), "compile", "--force", *files], 900) == 0
    finally:
        shutil.rmtree(cache, ignore_errors=True)


def run(cmd: list[str], timeout: float) -> int | None:
    try:
        return subprocess.run(cmd, cwd=ROOT, capture_output=True, timeout=timeout,
                              check=False).returncode
    except subprocess.TimeoutExpired:
        return None


def try_mutant(m: Mutant, compile_files: list[str], tests: list[str], timeout: float) -> None:
    path = ROOT / m.file
    original = path.read_bytes()
    start = time.monotonic()
    try:
        path.write_bytes(original[:m.start] + m.new.encode() + original[m.end:])
        if not compile_contracts(compile_files):
            m.outcome = "invalid"
            return
        code = run([str(APE), "test", *tests, "-x", "-q", "-p", "no:warnings"], timeout)
        m.outcome = "survived" if code == 0 else "killed"
    finally:
        path.write_bytes(original)
        m.seconds = time.monotonic() - start


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("contracts", nargs="+")
    ap.add_argument("--tests", nargs="+", default=["tests/contracts/unit"])
    ap.add_argument("--mutators", default=DEFAULT_MUTATORS)
    ap.add_argument("--max", type=int, default=0, help="sample at most N mutants per contract")
    ap.add_argument("--seed", type=int, default=17)
    ap.add_argument("--timeout", type=float, default=900.0, help="seconds per test run")
    ap.add_argument("--out", type=Path, default=ROOT / "out" / "mutation")
    args = ap.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    # The oracle must pass on the unmutated code, or every mutant would look killed.
    print("baseline: the tests on the unmutated contracts ...", flush=True)
    start = time.monotonic()
    if not compile_contracts([]) or run(
            [str(APE), "test", *args.tests, "-q", "-p", "no:warnings"], args.timeout * 4) != 0:
        print("mutate: the tests fail (or the compile does) without any mutant; fix that first",
              file=sys.stderr)
        return 2
    print(f"baseline passed in {time.monotonic() - start:.0f} s", flush=True)
    results: list[Mutant] = []
    for contract in args.contracts:
        mutants = generate(contract, args.mutators.split(","))
        total = len(mutants)
        if args.max and total > args.max:
            mutants = sorted(random.Random(args.seed).sample(mutants, args.max),
                             key=lambda m: (m.file, m.start))
        files = importers(mutants[0].file) if mutants else []
        print(f"{contract}: {total} mutants, testing {len(mutants)}; recompiling {len(files)} "
              f"file(s) each", flush=True)
        for i, m in enumerate(mutants, 1):
            try_mutant(m, files, args.tests, args.timeout)
            results.append(m)
            print(f"  [{i}/{len(mutants)}] {m.outcome:8} {m.mutator:4} {m.file}:{m.line} "
                  f"{m.old!r} -> {m.new!r} ({m.seconds:.0f} s)", flush=True)
            (args.out / "results.json").write_text(
                json.dumps([_asdict(m) for m in results],
                           indent=1), encoding="utf-8")
    compile_contracts([])  # leave .build as the unmutated sources compile
    write_report(results, args.out / "survivors.md")
    print(f"\n{'contract':20} {'killed':>7} {'survived':>9} {'invalid':>8} {'killed %':>9}")
    for contract in args.contracts:
        mine = [m for m in results if m.contract == contract]
        k = sum(m.outcome == "killed" for m in mine)
        s = sum(m.outcome == "survived" for m in mine)
        print(f"{contract:20} {k:7} {s:9} {len(mine) - k - s:8} {100 * k / max(k + s, 1):8.1f}%")
    killed = sum(m.outcome == "killed" for m in results)
    valid = sum(m.outcome in ("killed", "survived") for m in results)
    print(f"survivors: {args.out / 'survivors.md'}")
    print(f"mutants_killed_pct={100 * killed / max(valid, 1):.1f}")
    return 0


def _asdict(m: Mutant) -> dict[str, object]:
    return {k: getattr(m, k) for k in Mutant.__slots__}  # type: ignore[attr-defined]


def write_report(results: list[Mutant], path: Path) -> None:
    lines = ["# Surviving mutants", "",
             "Each needs a test that kills it, or a line in docs/security.md saying why it is "
             "equivalent.", ""]
    for m in results:
        if m.outcome == "survived":
            lines += [f"- {m.contract} {m.mutator} `{m.file}:{m.line}`: `{m.old}` -> `{m.new}`"]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")


if __name__ == "__main__":
    sys.exit(main())
