"""Rehearsal fixtures: anvils with live chain ids, and `ape run deploy` as a user runs it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from wattnet.chain.localnode import free_port

ROOT = Path(__file__).resolve().parents[3]
ANVIL = ROOT / "node_modules/@foundry-rs/anvil-linux-amd64/bin/anvil"
# anvil's default dev accounts (mnemonic "test test ... junk"): #0 deploys, #1 treasury,
# #6 oracle, #8 guardian.
KEYS = [
    "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80",
    "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d",
]
ADDR = {
    "deployer": "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266",
    "treasury": "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
    "oracle": "0x976EA74026E726554dB657fA54763abd0C3a0aa9",
    "guardian": "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f",
}


@dataclass
class Anvil:
    url: str
    chain_id: int
    proc: subprocess.Popen[bytes]

    @property
    def w3(self) -> Web3:
        return Web3(HTTPProvider(self.url))


def start_anvil(chain_id: int) -> Anvil:
    port = free_port()
    proc = subprocess.Popen([str(ANVIL), "--port", str(port), "--chain-id", str(chain_id),
                             "--silent"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    w3 = Web3(HTTPProvider(url))
    for _ in range(100):
        try:
            if w3.eth.chain_id == chain_id:
                return Anvil(url, chain_id, proc)
        except Exception:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError(f"anvil on {url} did not start")


@pytest.fixture
def anvil_factory() -> Iterator[Callable[[int], Anvil]]:
    started: list[Anvil] = []

    def make(chain_id: int) -> Anvil:
        a = start_anvil(chain_id)
        started.append(a)
        return a

    yield make
    for a in started:
        a.proc.terminate()
        a.proc.wait(timeout=10)


def deploy_mock_stablecoin(anvil: Anvil, symbol: str, decimals: int = 6) -> str:
    """A MockStablecoin deployed with plain web3 (the rehearsal's stand-in for USDC/EURC)."""
    manifest = json.loads((ROOT / ".build/__local__.json").read_text())
    ct = manifest["contractTypes"]["MockStablecoin"]
    w3 = anvil.w3
    factory = w3.eth.contract(abi=ct["abi"], bytecode=ct["deploymentBytecode"]["bytecode"])
    tx = factory.constructor(f"Mock {symbol}", symbol, decimals).transact(
        {"from": ADDR["treasury"]})
    address = w3.eth.wait_for_transaction_receipt(tx)["contractAddress"]
    return str(address)


# Init code returning the one-byte runtime STOP: a contract that accepts any call, the
# rehearsal's stand-in for the guardian multisig (preflight wants code at the guardian).
STAND_IN_MULTISIG = "0x6001600c60003960016000f300"


def deploy_stand_in_multisig(anvil: Anvil) -> str:
    w3 = anvil.w3
    tx = w3.eth.send_transaction({"from": ADDR["treasury"], "data": STAND_IN_MULTISIG})
    return str(w3.eth.wait_for_transaction_receipt(tx)["contractAddress"])


def live_env(anvil: Anvil, rpc_var: str, coins: dict[str, str], **extra: str) -> dict[str, str]:
    """What an operator exports for a live deploy (no WATTNET_DEPLOY_CONFIRMATIONS: on anvil
    the deploy needs none)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("WATTNET_")}
    env.update({
        rpc_var: anvil.url,
        "WATTNET_DEPLOYER_KEY": KEYS[0],
        "WATTNET_GUARDIAN": deploy_stand_in_multisig(anvil),
        "WATTNET_ORACLE_ADDRESS": ADDR["oracle"],
        "WATTNET_TREASURY": ADDR["treasury"],
        "APE_DATA_FOLDER": str(ROOT / ".ape-data"),
        "SOLCX_BINARY_PATH": str(ROOT / ".solcx"),
        "PATH": f"{ANVIL.parent}:{Path(sys.executable).parent}:{env.get('PATH', '')}",
        "APE_FOUNDRY_HOST": f"http://127.0.0.1:{free_port()}",
    })
    env.update({f"WATTNET_STABLECOIN_{s}": a for s, a in coins.items()})
    env.update(extra)
    return env


def ape_deploy(args: list[str], env: dict[str, str],
               answer: str = "") -> subprocess.CompletedProcess[str]:
    """`ape run deploy ...` from the checkout root, as the runbook says; ``answer`` is typed at
    the confirmation prompt."""
    return subprocess.run([str(Path(sys.executable).parent / "ape"), "run", "deploy", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=180,
                          input=answer)


def record(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def runbook_block(path: Path, name: str = "rehearsal") -> list[str]:
    """The command lines between ``<!-- name:begin -->`` and ``<!-- name:end -->``."""
    text = path.read_text()
    block = text.split(f"<!-- {name}:begin -->")[1].split(f"<!-- {name}:end -->")[0]
    lines = [ln.split(" #")[0].strip() for ln in block.splitlines()]
    return [ln for ln in lines if ln and not ln.startswith(("```", "#"))]
