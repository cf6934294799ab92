"""tools/app_abis.py: the web app's ABIs are the compiled contracts' (the committed file is
current), and a contract change the app did not take up fails the check."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
TOOL = ROOT / "tools" / "app_abis.py"
MANIFEST = ROOT / ".build" / "__local__.json"


def _check(env_extra: dict[str, str]) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, **env_extra}
    return subprocess.run([sys.executable, str(TOOL), "--check"], capture_output=True, text=True,
                          timeout=120, env=env, cwd=ROOT)


@pytest.fixture
def manifest() -> dict[str, object]:
    if not MANIFEST.is_file():
        pytest.fail("no compiled contracts: run `make compile` first")
    raw: dict[str, object] = json.loads(MANIFEST.read_text())
    return raw


def test_app_abis__the_committed_file_matches_the_compiled_contracts(
        manifest: dict[str, object]) -> None:
    proc = _check({"WATTNET_ARTIFACTS": str(MANIFEST)})
    assert proc.returncode == 0, proc.stderr
    assert "up to date" in proc.stdout


def test_app_abis__a_new_contract_error_is_drift(manifest: dict[str, object],
                                                 tmp_path: Path) -> None:
    types = manifest["contractTypes"]
    assert isinstance(types, dict)
    types["EnergyCredits"]["abi"].append(
        {"type": "error", "name": "CreditsSomethingNew", "inputs": []})
    changed = tmp_path / "manifest.json"
    changed.write_text(json.dumps(manifest))
    proc = _check({"WATTNET_ARTIFACTS": str(changed)})
    assert proc.returncode == 1
    assert proc.stderr.strip() == ("error: app/src/abi/contracts.ts is out of date with the "
                                   "compiled contracts; run `python tools/app_abis.py` and "
                                   "commit it")


def test_app_abis__no_compiled_contracts_is_one_line(tmp_path: Path) -> None:
    proc = _check({"WATTNET_ARTIFACTS": str(tmp_path / "missing.json")})
    assert proc.returncode == 2
    assert proc.stderr.startswith("error: no compiled contracts at")
    assert "Traceback" not in proc.stderr
