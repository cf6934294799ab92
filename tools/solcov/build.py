"""Compile the contracts as ape-config.yaml does and list what coverage counts in them.

Statements (one line each) and decisions (if, require, ternary, loop condition, && and ||) come
from solc's AST; bytecode and source maps from the same compile, so that a program counter seen
by `hits` maps to a source range.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

TOOLS = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TOOLS))
from slither_check import OZ_REMAP, ROOT, SOLC, compiler_settings, sources  # noqa: E402

STATEMENTS = {
    "ExpressionStatement", "VariableDeclarationStatement", "Return", "EmitStatement",
    "RevertStatement", "IfStatement", "ForStatement", "WhileStatement", "DoWhileStatement",
    "Break", "Continue", "InlineAssembly", "TryStatement",
}
LOOPS = {"ForStatement", "WhileStatement", "DoWhileStatement"}


@dataclass(slots=True)
class Item:
    """A statement or a decision: a source range in one file, and the line it starts on."""

    kind: str  # "stmt" or "branch"
    file: str
    start: int
    end: int
    line: int
    function: str
    label: str = ""


@dataclass(slots=True)
class Unit:
    """One compiled contract: both bytecodes, their source maps, immutable positions."""

    name: str
    file: str
    init: bytes
    init_map: str
    runtime: bytes
    runtime_map: str
    immutables: list[tuple[int, int]] = field(default_factory=list)


@dataclass(slots=True)
class Build:
    units: list[Unit]
    items: list[Item]
    file_ids: dict[int, str]
    ours: list[str]


def _src(node: dict[str, Any]) -> tuple[int, int, int]:
    start, length, file_id = (int(x) for x in node["src"].split(":"))
    return start, start + length, file_id


def _line_starts(text: bytes) -> list[int]:
    starts = [0]
    starts += [i + 1 for i, b in enumerate(text) if b == 0x0A]
    return starts


def _line(starts: list[int], offset: int) -> int:
    lo, hi = 0, len(starts)
    while hi - lo > 1:
        mid = (lo + hi) // 2
        if starts[mid] <= offset:
            lo = mid
        else:
            hi = mid
    return lo + 1


def _walk(node: Any, func: str, emit: Any) -> None:
    if isinstance(node, list):
        for child in node:
            _walk(child, func, emit)
        return
    if not isinstance(node, dict):
        return
    kind = node.get("nodeType")
    if kind in ("FunctionDefinition", "ModifierDefinition"):
        func = node.get("name") or node.get("kind") or kind
    if kind in STATEMENTS:
        emit("stmt", node, func, kind)
    if kind == "IfStatement" or kind in LOOPS:
        emit("branch", node, func, kind)
    elif kind == "Conditional":
        emit("branch", node, func, "ternary")
    elif kind == "BinaryOperation" and node.get("operator") in ("&&", "||"):
        emit("branch", node, func, node["operator"])
    elif kind == "FunctionCall" and node.get("expression", {}).get("name") == "require":
        emit("branch", node, func, "require")
    for key, value in node.items():
        if key != "src" and isinstance(value, dict | list):
            _walk(value, func, emit)


def compile_project() -> Build:
    """One solc run over contracts/ (mocks excluded) with ape-config.yaml's settings."""
    ours = sources()
    settings = compiler_settings()
    settings["remappings"] = [OZ_REMAP]
    settings["outputSelection"] = {
        "*": {
            "": ["ast"],
            "*": [
                "evm.bytecode.object", "evm.bytecode.sourceMap",
                "evm.deployedBytecode.object", "evm.deployedBytecode.sourceMap",
                "evm.deployedBytecode.immutableReferences",
            ],
        }
    }
    request = {"language": "Solidity", "sources": {p: {"urls": [p]} for p in ours},
               "settings": settings}
    proc = subprocess.run([str(SOLC), "--standard-json", "--base-path", str(ROOT)],
                          input=json.dumps(request), capture_output=True, text=True,
                          cwd=ROOT, check=False)
    out = json.loads(proc.stdout or "{}")
    errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
    if proc.returncode or errors or "sources" not in out:
        first = errors[0]["formattedMessage"] if errors else proc.stderr.strip()[-300:]
        raise SystemExit(f"coverage: the compile failed: {first}")
    file_ids = {int(v["id"]): k for k, v in out["sources"].items()}
    items: list[Item] = []
    for path in ours:
        starts = _line_starts((ROOT / path).read_bytes())

        def emit(kind: str, node: dict[str, Any], func: str, label: str,
                 path: str = path, starts: list[int] = starts) -> None:
            start, end, _ = _src(node)
            items.append(Item(kind, path, start, end, _line(starts, start), func, label))

        _walk(out["sources"][path]["ast"], "", emit)
    units = []
    for path, contracts in out["contracts"].items():
        for name, c in contracts.items():
            runtime = bytes.fromhex(c["evm"]["deployedBytecode"]["object"])
            if not runtime:
                continue
            refs = c["evm"]["deployedBytecode"].get("immutableReferences", {})
            imm = [(r["start"], r["length"]) for rs in refs.values() for r in rs]
            units.append(Unit(name, path, bytes.fromhex(c["evm"]["bytecode"]["object"]),
                              c["evm"]["bytecode"]["sourceMap"], runtime,
                              c["evm"]["deployedBytecode"]["sourceMap"], imm))
    return Build(units, items, file_ids, ours)
