"""tools/compile_if_changed.py (what `make compile` and `make demo` run): the compile command
runs when, and only when, a contract source or a compiler setting changed since the last
successful compile."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[3]
TOOL = REPO / "tools" / "compile_if_changed.py"
# A stand-in for `ape compile --force`: counts its runs, writes the manifest, fails on demand.
FAKE_COMPILE = (
    "import pathlib, sys; c = pathlib.Path('count'); "
    "c.write_text(str(int(c.read_text() or 0) + 1) if c.exists() else '1'); "
    "sys.exit(3) if pathlib.Path('fail').exists() else None; "
    "b = pathlib.Path('.build'); b.mkdir(exist_ok=True); (b / '__local__.json').write_text('{}')"
)


@pytest.fixture
def project(tmp_path: Path) -> Path:
    (tmp_path / "contracts" / "tokens").mkdir(parents=True)
    (tmp_path / "contracts" / "tokens" / "Token.sol").write_text("contract Token {}\n")
    (tmp_path / "contracts" / "Base.sol").write_text("contract Base {}\n")
    (tmp_path / "ape-config.yaml").write_text("solidity:\n  optimization_runs: 200\n")
    return tmp_path


def compile_(root: Path) -> tuple[int, str, int]:
    """(exit status, printed line, how many times the compile command has run so far)."""
    r = subprocess.run([sys.executable, str(TOOL), "--root", str(root), "--", sys.executable,
                        "-c", FAKE_COMPILE], cwd=root, capture_output=True, text=True,
                       timeout=60)
    count = root / "count"
    return r.returncode, r.stdout.strip(), int(count.read_text()) if count.exists() else 0


def test_compiles_once_then_only_when_an_input_changes(project: Path) -> None:
    status, line, runs = compile_(project)
    assert (status, runs) == (0, 1) and line.startswith("contracts changed")
    status, line, runs = compile_(project)
    assert (status, runs) == (0, 1) and line.startswith("contracts unchanged")
    for edit in (
        lambda: (project / "contracts" / "Base.sol").write_text("contract Base { }\n"),  # inherited
        lambda: (project / "ape-config.yaml").write_text("solidity:\n  optimization_runs: 9\n"),
        lambda: (project / "contracts" / "tokens" / "New.sol").write_text("contract New {}\n"),
        lambda: (project / "contracts" / "tokens" / "New.sol").unlink(),
        lambda: (project / "package-lock.json").write_text('{"solc": "0.8.31"}'),
    ):
        before = compile_(project)[2]
        edit()
        assert compile_(project)[2] == before + 1  # changed: compiles
        assert compile_(project)[2] == before + 1  # and then not again


def test_dependency_cache_and_other_files_do_not_count(project: Path) -> None:
    compile_(project)
    cache = project / "contracts" / ".cache" / "openzeppelin"
    cache.mkdir(parents=True)
    (cache / "ERC20.sol").write_text("contract ERC20 {}\n")
    (project / "contracts" / "README.md").write_text("notes\n")
    assert compile_(project)[2] == 1


def test_failed_compile_or_missing_artifacts_compile_again(project: Path) -> None:
    (project / "fail").write_text("")
    assert compile_(project)[:1] == (3,)  # the command's status
    assert not (project / ".build" / "sources.sha256").exists()
    (project / "fail").unlink()
    assert compile_(project)[2] == 2
    (project / ".build" / "__local__.json").unlink()  # e.g. `make clean` of the artifacts only
    assert compile_(project)[2] == 3


def test_the_repository_sources_are_what_ape_compiles() -> None:
    sys.path.insert(0, str(TOOL.parent))
    try:
        from compile_if_changed import sources  # type: ignore[import-not-found]
    finally:
        sys.path.remove(str(TOOL.parent))
    found = {p.as_posix() for p in sources(REPO)}
    on_disk = {p.relative_to(REPO).as_posix() for p in (REPO / "contracts").rglob("*.sol")
               if ".cache" not in p.parts}
    assert on_disk and on_disk <= found
    assert {"ape-config.yaml", "package-lock.json", "tools/solc.js"} <= found
