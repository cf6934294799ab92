"""`wattnet gateway`: helpers through CliRunner, and `run` as a real process that a simulated
charger charges against."""

from __future__ import annotations

import asyncio
import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner, Result

from wattnet.cli.gateway import gateway
from wattnet.domain import OcppVersion
from wattnet.errors import ConfigError
from wattnet.gateway.config import load_config
from wattnet.gateway.errors import GatewayConfigError
from wattnet.gateway.security import verify_password
from wattnet.gateway.signer import KeystoreSigner

PASSWORD = "cli-test-password-0123"


def invoke(*args: str, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(gateway, list(args), env=env, catch_exceptions=True)


def test_hash_password__prints_a_verifiable_scrypt_hash() -> None:
    result = invoke("hash-password", "--password", PASSWORD)
    assert result.exit_code == 0, result.output
    stored = result.output.strip()
    assert stored.startswith("scrypt$") and verify_password(PASSWORD, stored)


def test_hash_password__too_short_is_a_clear_error() -> None:
    result = invoke("hash-password", "--password", "short")
    assert result.exit_code != 0
    assert isinstance(result.exception, ConfigError) and "16 to 40" in str(result.exception)


def test_new_key__writes_an_encrypted_keystore_and_prints_the_address(tmp_path: Path) -> None:
    path = tmp_path / "k.json"
    env = {"WATTNET_KEYSTORE_PASSPHRASE": "pp"}
    result = invoke("new-key", str(path), "--scrypt-n", "4", "--json", env=env)
    out = json.loads(result.output)
    assert KeystoreSigner.from_file(path, "pp").address == out["address"]
    assert oct(path.stat().st_mode & 0o777) == "0o600"
    again = invoke("new-key", str(path), "--scrypt-n", "4", env=env)
    assert again.exit_code != 0 and "exists" in str(again.exception)  # never overwritten


def test_new_key__without_passphrase_is_a_clear_error(tmp_path: Path) -> None:
    result = invoke("new-key", str(tmp_path / "k.json"),
                    env={"WATTNET_KEYSTORE_PASSPHRASE": ""})
    assert isinstance(result.exception, ConfigError)
    assert "WATTNET_KEYSTORE_PASSPHRASE" in str(result.exception)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _site(tmp_path: Path) -> tuple[Path, Path, int]:
    env = {"WATTNET_KEYSTORE_PASSPHRASE": "pp"}
    invoke("new-key", str(tmp_path / "k.json"), "--scrypt-n", "4", env=env)
    stored = invoke("hash-password", "--password", PASSWORD).output.strip()
    port = _free_port()
    config = tmp_path / "gateway.yaml"
    config.write_text(yaml.safe_dump({
        "data_dir": "data", "oracle_url": "http://127.0.0.1:9", "chain_id": 31337,
        "settlement": "0x00000000000000000000000000000000000000aa", "port": port,
        "stations": {"CP-CLI": {"security_profile": 1, "keystore": "k.json",
                                "password_hash": stored, "tariffs": {1: 300_000}}},
    }))
    credits = tmp_path / "credits.yaml"
    credits.write_text(yaml.safe_dump({"accounts": [{
        "driver": "0x" + "33" * 20, "credit_id": 1, "balance": 10**9, "per_session_cap": 10**8,
        "daily_cap": 10**9, "spent_today": 0, "day": 0, "id_tokens": ["CLI-TAG"]}]}))
    return config, credits, port


def test_run__serves_a_charger_and_outbox_lists_its_receipt(tmp_path: Path) -> None:
    from wattnet.sim.chargepoint import SimChargePoint

    config, credits, port = _site(tmp_path)
    env = os.environ | {"WATTNET_KEYSTORE_PASSPHRASE": "pp"}
    proc = subprocess.Popen(
        [sys.executable, "-c", "from wattnet.cli.gateway import gateway; gateway()", "run",
         "--config", str(config), "--credits", str(credits)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        async def charge() -> str:
            cp = SimChargePoint(f"ws://127.0.0.1:{port}/ocpp", "CP-CLI", OcppVersion.V16,
                                password=PASSWORD)
            for _ in range(100):
                try:
                    await cp.connect()
                    break
                except OSError:
                    await asyncio.sleep(0.1)
            await cp.boot()
            status = await cp.charge("CLI-TAG", 1_500, steps=1)
            await cp.close()
            return status

        assert asyncio.run(charge()) == "Accepted"
    finally:
        proc.terminate()
        proc.wait(10)
    result = invoke("outbox", "--config", str(config), "--json")
    [row] = json.loads(result.output)
    assert row["sessionId"] == 1 and row["state"] == "pending"  # the oracle is not running
    # what the station key signed, auditable without opening the database
    from wattnet.chain.receipt_codec import signed_from_json

    signed = signed_from_json({k: row[k] for k in ("receipt", "signature", "meterData")})
    assert (signed.receipt.energy_wh, signed.receipt.session_id) == (1_500, 1)
    assert row["receipt"]["cost"] == signed.receipt.cost > 0
    assert row["signature"].startswith("0x") and len(row["signature"]) == 2 + 130


def test_run__missing_passphrase_exits_with_one_clear_line(tmp_path: Path) -> None:
    config, credits, _ = _site(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "WATTNET_KEYSTORE_PASSPHRASE"}
    env["COLUMNS"] = "200"  # rich wraps at 80 columns when not on a terminal
    out = subprocess.run(
        [sys.executable, "-c", "from wattnet.cli.main import main; import sys; "
         "from wattnet.cli.gateway import gateway; from wattnet.cli import main as m; "
         "m._COMMANDS['gateway'] = ('wattnet.cli.gateway', 'gateway', ''); main(sys.argv[1:])",
         "gateway", "run", "--config", str(config), "--credits", str(credits)],
        env=env, capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert out.stderr.strip().splitlines() == [
        "error: set the keystore passphrase in the environment variable "
        "WATTNET_KEYSTORE_PASSPHRASE"]


@pytest.mark.parametrize(("edit", "message"), [
    ({"settlement": "nope"}, "settlement is not an address"),
    ({"stations": {"X": {"keystore": "k", "tariffs": {1: 1}}}}, "needs a password_hash"),
    ({"stations": {"X": {"keystore": "k", "security_profile": 3, "tariffs": {1: 1}}}},
     "need a tls section"),
    ({"stations": {"X": {"keystore": "k", "password_hash": "h", "tariffs": {}}}},
     "at least one tariff"),
    ({"chain_id": None}, "gateway config"),
])
def test_config__bad_values_are_clear_errors(tmp_path: Path, edit: dict[str, object],
                                             message: str) -> None:
    config, _, _ = _site(tmp_path)
    raw = yaml.safe_load(config.read_text()) | edit
    config.write_text(yaml.safe_dump(raw))
    with pytest.raises(GatewayConfigError, match=message):
        load_config(config)


def test_config__loads_paths_relative_to_the_file(tmp_path: Path) -> None:
    config, _, port = _site(tmp_path)
    cfg = load_config(config)
    assert cfg.port == port and cfg.data_dir == tmp_path / "data"
    assert cfg.stations["CP-CLI"].keystore == tmp_path / "k.json"
    assert cfg.stations["CP-CLI"].tariffs == {1: 300_000}
