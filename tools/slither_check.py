#!/usr/bin/env python3
"""Run slither over contracts/ and fail on any finding that is neither fixed nor triaged.

Every slither detector runs (no `--exclude`), over every Solidity source in contracts/ except the
contracts/test/ mocks, compiled exactly as ape-config.yaml compiles them (solc 0.8.30 through the
tools/solc.js shim, via-IR, optimizer runs, EVM version). Findings whose every element lies in
node_modules (OpenZeppelin) are dropped: that code is not ours to change. Each remaining finding
must match an entry of docs/slither-triage.yaml by (detector, contract, function), and that
entry's one-line reason must also appear in docs/security.md ("Slither" section). Exit status:

  0  every finding is triaged and every triage entry still matches a finding
  1  an unexplained finding, a stale triage entry, or a reason missing from docs/security.md
  2  slither itself failed (compilation error, missing tool)

Inline `slither-disable` comments and slither.db.json are ignored (`--show-ignored-findings`), so
the triage file stays the only place a finding can be accepted.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NoReturn

import yaml

ROOT = Path(__file__).resolve().parents[1]
CONTRACTS = ROOT / "contracts"
EXCLUDED_DIRS = ("contracts/test/",)
SOLC = ROOT / ".solcx" / "solc-v0.8.30"
SLITHER = ROOT / ".venv" / "bin" / "slither"
OZ_REMAP = "@openzeppelin/contracts/=node_modules/@openzeppelin/contracts/"
TRIAGE = ROOT / "docs" / "slither-triage.yaml"
SECURITY_MD = ROOT / "docs" / "security.md"
HINT = "fix it or explain it in docs/slither-triage.yaml and docs/security.md"
IMPACT_ORDER = ("High", "Medium", "Low", "Informational", "Optimization")


@dataclass(frozen=True, slots=True)
class Finding:
    """One slither result, keyed by stable names rather than line numbers."""

    detector: str
    impact: str
    contract: str
    function: str
    description: str

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.detector, self.contract, self.function)


@dataclass(frozen=True, slots=True)
class Entry:
    """One accepted finding in the triage file."""

    detector: str
    contract: str
    function: str
    reason: str
    # Slither reports some findings in some runs only (its taint analysis is not deterministic:
    # identical inputs, different results). Such an entry says so and is never stale.
    intermittent: bool = False

    @property
    def key(self) -> tuple[str, str, str]:
        return (self.detector, self.contract, self.function)


def die(message: str) -> NoReturn:
    """Slither or the triage file could not be used at all: exit 2 with one clear message."""
    print(f"slither check ERROR: {message}", file=sys.stderr)
    sys.exit(2)


def sources() -> list[str]:
    """Every contracts/**/*.sol except the mocks, as project-relative POSIX paths."""
    found = []
    for path in sorted(CONTRACTS.rglob("*.sol")):
        rel = path.relative_to(ROOT).as_posix()
        if not rel.startswith(EXCLUDED_DIRS):
            found.append(rel)
    return found


def compiler_settings() -> dict[str, Any]:
    """The solc settings ape-config.yaml uses, as standard-JSON `settings`."""
    config = yaml.safe_load((ROOT / "ape-config.yaml").read_text(encoding="utf-8")) or {}
    sol = config.get("solidity", {})
    settings: dict[str, Any] = {
        "viaIR": bool(sol.get("via_ir", False)),
        "optimizer": {"enabled": bool(sol.get("optimize", True))},
    }
    if sol.get("optimization_runs") is not None:
        settings["optimizer"]["runs"] = int(sol["optimization_runs"])
    if sol.get("evm_version"):
        settings["evmVersion"] = sol["evm_version"]
    return settings


def run_slither(workdir: Path) -> dict[str, Any]:
    """Compile and analyse; return slither's JSON document."""
    standard_json = {
        "language": "Solidity",
        "sources": {path: {"urls": [path]} for path in sources()},
        "settings": compiler_settings(),
    }
    input_path = workdir / "slither-input.json"
    input_path.write_text(json.dumps(standard_json, indent=1), encoding="utf-8")
    cmd = [
        str(SLITHER),
        str(input_path),
        # A standard-JSON input file carries the via-IR/optimizer/EVM settings, which
        # `--solc-args` cannot pass in standard-JSON mode.
        "--compile-force-framework",
        "solc-json",
        "--solc",
        str(SOLC),
        "--solc-remaps",
        OZ_REMAP,
        "--show-ignored-findings",
        "--disable-color",
        "--json",
        "-",
    ]
    env = dict(os.environ, SOLCX_BINARY_PATH=str(SOLC.parent))
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    try:
        doc: dict[str, Any] = json.loads(proc.stdout)
    except json.JSONDecodeError:
        tail = "\n".join(proc.stderr.strip().splitlines()[-15:])
        die(f"slither produced no JSON (exit {proc.returncode}):\n{tail}")
    if not doc.get("success"):
        die(f"slither failed: {doc.get('error')}")
    return doc


def _file(element: dict[str, Any]) -> str:
    return str(element.get("source_mapping", {}).get("filename_relative", ""))


def _parent(element: dict[str, Any]) -> dict[str, Any]:
    parent: dict[str, Any] = element.get("type_specific_fields", {}).get("parent", {})
    return parent


def _name_pair(element: dict[str, Any]) -> tuple[str, str]:
    """(contract, function) of an element: a function, or something inside one."""
    kind = element.get("type")
    if kind == "contract":
        return element["name"], "-"
    if kind == "function":
        return _parent(element).get("name", "-"), element["name"]
    if kind == "pragma":
        # No contract or function: one key for the whole project's pragma directives.
        return "(pragma)", "-"
    parent = _parent(element)
    if parent.get("type") == "function":
        return _parent(parent).get("name", "-"), parent["name"]
    if parent.get("type") == "contract":
        return parent["name"], "-"
    return "-", element.get("name", "-")


def _summary(description: str) -> str:
    """The description's first line, plus its first detail line when the first ends in ':'."""
    lines = [" ".join(line.split()) for line in description.splitlines() if line.strip()]
    if not lines:
        return ""
    head = lines[0]
    if head.endswith(":") and len(lines) > 1:
        head = f"{head} {lines[1].lstrip('- ')}"
    return head


def findings(doc: dict[str, Any]) -> tuple[list[Finding], int]:
    """Project findings, and how many dependency-only findings were dropped."""
    results = doc.get("results", {}).get("detectors", [])
    kept: list[Finding] = []
    dropped = 0
    for result in results:
        elements = [e for e in result.get("elements", []) if "source_mapping" in e]
        ours = [e for e in elements if _file(e).startswith("contracts/")]
        if elements and not ours:
            dropped += 1
            continue
        contract, function = _name_pair(ours[0] if ours else result["elements"][0])
        kept.append(
            Finding(
                detector=result["check"],
                impact=result["impact"],
                contract=contract,
                function=function,
                description=_summary(result["description"]),
            )
        )
    return kept, dropped


def load_triage() -> list[Entry]:
    if not TRIAGE.exists():
        die("docs/slither-triage.yaml is missing")
    doc = yaml.safe_load(TRIAGE.read_text(encoding="utf-8")) or {}
    entries = []
    for i, raw in enumerate(doc.get("accepted", [])):
        missing = [k for k in ("detector", "contract", "function", "reason") if not raw.get(k)]
        if missing:
            die(f"docs/slither-triage.yaml: entry {i} lacks {', '.join(missing)}")
        fields = (str(raw[k]) for k in ("detector", "contract", "function", "reason"))
        intermittent = raw.get("intermittent", False)
        if not isinstance(intermittent, bool):
            die(f"docs/slither-triage.yaml: entry {i}: intermittent must be true or false")
        entries.append(Entry(*fields, intermittent=intermittent))
    return entries


def main() -> int:
    started = time.monotonic()
    if not SLITHER.exists() or not SOLC.exists():
        die(f"need {SLITHER.relative_to(ROOT)} and {SOLC.relative_to(ROOT)}: run `make setup`")
    with tempfile.TemporaryDirectory(prefix="wattnet-slither-") as tmp:
        doc = run_slither(Path(tmp))
    found, dropped = findings(doc)
    entries = load_triage()
    security_md = SECURITY_MD.read_text(encoding="utf-8") if SECURITY_MD.exists() else ""

    problems: list[str] = []
    keys = Counter(e.key for e in entries)
    for key, count in keys.items():
        if count > 1:
            problems.append(f"duplicate triage entry: {key[0]} {key[1]}.{key[2]}")
    accepted = {e.key: e for e in entries}
    for entry in entries:
        if entry.reason not in security_md:
            problems.append(
                f"triage reason missing from docs/security.md: {entry.detector} "
                f'{entry.contract}.{entry.function}: "{entry.reason}"'
            )

    unexplained = [f for f in found if f.key not in accepted]
    for f in unexplained:
        problems.append(
            f"UNEXPLAINED {f.detector} ({f.impact}) {f.contract}.{f.function}: "
            f"{f.description} -- {HINT}"
        )
    matched = {f.key for f in found}
    for entry in entries:
        if entry.key not in matched and not entry.intermittent:
            problems.append(
                f"STALE triage entry {entry.detector} {entry.contract}.{entry.function}: "
                "matches no finding any more -- remove it from docs/slither-triage.yaml "
                "and docs/security.md"
            )

    # Summary table: per detector, findings in our code, accepted, unexplained.
    by_detector: dict[str, list[Finding]] = {}
    for f in found:
        by_detector.setdefault(f.detector, []).append(f)
    rows = sorted(by_detector.items(), key=lambda kv: (IMPACT_ORDER.index(kv[1][0].impact), kv[0]))
    print(f"{'detector':<26} {'impact':<14} {'found':>5} {'accepted':>8} {'unexplained':>11}")
    for detector, fs in rows:
        bad = sum(1 for f in fs if f.key not in accepted)
        print(f"{detector:<26} {fs[0].impact:<14} {len(fs):>5} {len(fs) - bad:>8} {bad:>11}")
    ok = len(found) - len(unexplained)
    print(f"{'total':<26} {'':<14} {len(found):>5} {ok:>8} {len(unexplained):>11}")
    print(
        f"slither: {len(sources())} sources, {len(entries)} triage entries, {dropped} findings "
        f"only in node_modules ignored, {time.monotonic() - started:.1f} s"
    )
    for line in problems:
        print(line, file=sys.stderr)
    if problems:
        print(f"slither check FAILED: {len(problems)} problem(s)", file=sys.stderr)
        return 1
    print("slither check passed: every finding is fixed or explained")
    return 0


if __name__ == "__main__":
    sys.exit(main())
