"""Compile the contracts only when their inputs changed (``make compile`` / ``make demo``).

    python tools/compile_if_changed.py [--root DIR] -- <compile command...>

The inputs are every ``*.sol`` under ``contracts/`` (the cache of dependencies Ape leaves in
``contracts/.cache`` excluded), ``ape-config.yaml`` (compiler version, optimizer, via-IR,
EVM version, remappings), ``package-lock.json`` (the npm ``solc`` and OpenZeppelin versions) and
``tools/solc.js`` (the compiler wrapper). Their SHA-256 is kept in ``.build/sources.sha256``
next to the artifacts it describes (``.build`` is per checkout, ``.stamps`` may be shared).
When the stamp matches and ``.build/__local__.json`` exists, nothing runs; otherwise the
command runs (the Makefile's ``ape compile --force``: Ape's incremental compile misses changes
to inherited contracts, so a compile that happens is always a full one) and the stamp is written
only if it succeeds. Prints one line either way; exits with the command's status.
"""

from __future__ import annotations

import argparse
import hashlib
import subprocess
import sys
from pathlib import Path

INPUTS = ("ape-config.yaml", "package-lock.json", "tools/solc.js")
STAMP = Path(".build") / "sources.sha256"
MANIFEST = Path(".build") / "__local__.json"


def sources(root: Path) -> list[Path]:
    """Every file the compiled artifacts depend on, relative to ``root``, sorted."""
    sol = [p.relative_to(root) for p in (root / "contracts").rglob("*.sol")
           if ".cache" not in p.relative_to(root).parts]
    return sorted(sol + [Path(n) for n in INPUTS if (root / n).is_file()])


def digest(root: Path) -> str:
    h = hashlib.sha256()
    for rel in sources(root):
        data = (root / rel).read_bytes()
        h.update(f"{rel.as_posix()}\0{len(data)}\0".encode())
        h.update(data)
    return h.hexdigest()


def up_to_date(root: Path, current: str) -> bool:
    stamp = root / STAMP
    return ((root / MANIFEST).is_file() and stamp.is_file()
            and stamp.read_text().strip() == current)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--root", type=Path, default=Path.cwd())
    parser.add_argument("command", nargs=argparse.REMAINDER)
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("give the compile command after --")
    root = args.root.resolve()
    current = digest(root)
    if up_to_date(root, current):
        print(f"contracts unchanged (sources sha256 {current[:12]}): not compiling")
        return 0
    print(f"contracts changed (sources sha256 {current[:12]}): {' '.join(command)}", flush=True)
    status = subprocess.run(command, cwd=root).returncode
    if status == 0:
        (root / STAMP).parent.mkdir(parents=True, exist_ok=True)
        # the inputs as hashed before compiling: a source edited meanwhile compiles next time
        (root / STAMP).write_text(current + "\n")
    return status


if __name__ == "__main__":
    sys.exit(main())
