#!/usr/bin/env python3
"""Run the Foundry invariant suites (tests/foundry/) and print their statistics.

    python tools/forge_invariants.py [--profile default|deep] [--runs N] [--depth N] [--seed S]

`default` is CI's shallow budget (tests/foundry/foundry.toml: 32 runs x depth 64 per
invariant); `deep` is the auditors' campaign (10,000 runs x depth 100). Forge comes from
node_modules (@foundry-rs/forge, package.json). On a failure forge prints the shrunk call
sequence; rerun it with the same `--seed` (printed below) to reproduce. The last line is
`invariant_runs=<R> invariant_depth=<D> invariant_calls=<N> invariant_seconds=<S>
invariant_calls_per_s=<N>`.
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import subprocess
import sys
import time
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
FORGE = ROOT / "node_modules" / "@foundry-rs" / "forge-linux-amd64" / "bin" / "forge"
# Not at the root: crytic-compile (slither, tools/slither_check.py) would take the project for a
# Foundry project and stop compiling it as ape-config.yaml says.
CONFIG = ROOT / "tests" / "foundry" / "foundry.toml"
RESULT = re.compile(r"\[(PASS|FAIL)[^\]]*\]\s*(invariant_\w+)\(\) "
                    r"\(runs: (\d+), calls: (\d+), reverts: (\d+)\)")


def budget(profile: str) -> tuple[int, int]:
    """(runs, depth) of a foundry.toml profile, falling back to the default profile."""
    cfg = tomllib.loads(CONFIG.read_text(encoding="utf-8"))["profile"]
    base = cfg["default"].get("invariant", {})
    mine = cfg.get(profile, {}).get("invariant", {})
    return int(mine.get("runs", base["runs"])), int(mine.get("depth", base["depth"]))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--profile", default="default", choices=("default", "deep"))
    ap.add_argument("--runs", type=int, help="override the profile's runs per invariant")
    ap.add_argument("--depth", type=int, help="override the profile's calls per run")
    ap.add_argument("--seed", help="fuzz seed (hex or decimal); random when omitted")
    ap.add_argument("--match", default="", help="only suites whose contract name matches")
    args = ap.parse_args()
    if not FORGE.exists():
        print(f"forge not found at {FORGE}: run `npm ci` (package.json pins @foundry-rs/forge)",
              file=sys.stderr)
        return 2
    runs, depth = budget(args.profile)
    runs, depth = args.runs or runs, args.depth or depth
    seed = args.seed or hex(secrets.randbits(64))
    env = dict(os.environ, FOUNDRY_CONFIG=str(CONFIG), FOUNDRY_PROFILE=args.profile,
               FOUNDRY_INVARIANT_RUNS=str(runs), FOUNDRY_INVARIANT_DEPTH=str(depth))
    cmd = [str(FORGE), "test", "--fuzz-seed", seed]
    if args.match:
        cmd += ["--match-contract", args.match]
    print(f"forge invariant campaign: profile {args.profile}, {runs} runs x depth {depth}, "
          f"seed {seed}", flush=True)
    # Compile first (cached in .build/forge-cache), so the rate counts the campaign only.
    build = subprocess.run([str(FORGE), "build"], cwd=ROOT, env=env, capture_output=True,
                           text=True, check=False)
    if build.returncode != 0:
        print(f"forge build failed:\n{(build.stdout + build.stderr)[-3000:]}", file=sys.stderr)
        return 1
    start = time.monotonic()
    proc = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    seconds = time.monotonic() - start
    out = proc.stdout + proc.stderr
    results = RESULT.findall(out)
    for status, name, r, calls, reverts in results:
        print(f"  {status} {name:36} runs {r:>6} calls {calls:>9} reverts {reverts}")
    failed = proc.returncode != 0
    if failed:
        print("\n".join(line for line in out.splitlines() if "FAIL" in line or "Error" in line
                        or "revert" in line.lower())[-4000:], file=sys.stderr)
        print(f"forge failed: reproduce with `python tools/forge_invariants.py --profile "
              f"{args.profile} --runs {runs} --depth {depth} --seed {seed}`", file=sys.stderr)
    if not results and not failed:
        print("forge ran no invariant test", file=sys.stderr)
        return 1
    calls = sum(int(c) for *_, c, _ in results)
    print(f"invariant_runs={runs} invariant_depth={depth} invariant_calls={calls} "
          f"invariant_seconds={seconds:.1f} invariant_calls_per_s={calls / seconds:.0f}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
