"""``wattnet oracle status`` and ``quarantine`` read the database (or /metrics); ``run`` fails
with one clear line on bad settings."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from wattnet.chain.eip712 import Domain, address_of_private_key, sign_receipt
from wattnet.chain.receipt_codec import signed_to_json
from wattnet.cli.oracle import oracle
from wattnet.domain import SessionReceipt, SignedReceipt, StationInfo, station_id_for
from wattnet.oracle.config import OracleConfig
from wattnet.oracle.directory import CachedStationDirectory, InMemoryStationDirectory
from wattnet.oracle.ingest import Ingestor
from wattnet.oracle.metrics import Metrics
from wattnet.oracle.store import open_store
from wattnet.oracle.verify import Verifier

CONTRACT = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
DOMAIN = Domain(31337, CONTRACT)
NOW = 1_750_000_000
KEY = (5).to_bytes(32, "big")


@pytest.fixture
def db(tmp_path: Path) -> str:
    """A database with one pending, one quarantined receipt and one rejected payload."""
    path = str(tmp_path / "oracle.db")
    signer = address_of_private_key(KEY)
    info = StationInfo(station_id_for("CP-1"), signer, signer, 11_000, 2, True)
    store = open_store(path)
    ingestor = Ingestor(
        store, Verifier(DOMAIN.separator, CachedStationDirectory(InMemoryStationDirectory([info]))),
        OracleConfig(chain_id=31337, settlement_contract=CONTRACT), Metrics(), lambda: NOW)
    driver = address_of_private_key((6).to_bytes(32, "big"))

    def body(sid: int, energy: int) -> dict[str, object]:
        r = SessionReceipt(info.station_id, sid, 1, driver, 1, energy, NOW - 7200 + sid * 3600,
                           NOW - 7200 + sid * 3600 + 1800, 100)
        return signed_to_json(SignedReceipt(r, sign_receipt(KEY, DOMAIN, r)))

    outcomes = ingestor.process([body(0, 1_000), body(1, 999_999), {"junk": True}])
    assert [o.status for o in outcomes] == ["accepted", "quarantined", "rejected"]
    store.close()
    return path


def test_oracle_status__json_counts_receipts_by_state(db: str) -> None:
    result = CliRunner().invoke(oracle, ["status", "--database", db, "--json"])
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)["values"]
    assert values["pending"] == 1 and values["quarantined"] == 1 and values["rejected"] == 1
    assert values["settled"] == 0


def test_oracle_status__table_is_printed(db: str) -> None:
    result = CliRunner().invoke(oracle, ["status", "--database", db])
    assert result.exit_code == 0 and "pending" in result.output and "quarantined" in result.output


def test_oracle_quarantine__lists_reasons_newest_first_with_limit(db: str) -> None:
    result = CliRunner().invoke(oracle, ["quarantine", "--database", db, "--json"])
    assert result.exit_code == 0, result.output
    entries = json.loads(result.output)
    assert {e["kind"] for e in entries} == {"quarantined", "rejected"}
    quarantined = next(e for e in entries if e["kind"] == "quarantined")
    assert "exceeds rated power" in quarantined["reason"] and quarantined["session_id"] == 1
    limited = CliRunner().invoke(oracle, ["quarantine", "--database", db, "--json",
                                          "--limit", "1"])
    assert len(json.loads(limited.output)) == 1
    table = CliRunner(env={"COLUMNS": "250"}).invoke(oracle, ["quarantine", "--database", db])
    assert "exceeds rated power" in table.output and "rejected" in table.output


def test_oracle_run__missing_settings_exit_2_with_one_line(tmp_path: Path) -> None:
    proc = subprocess.run(
        [sys.executable, "-m", "wattnet.oracle", "run", "--database", str(tmp_path / "x.db")],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2
    assert proc.stderr.strip().startswith("error: oracle config needs chain_id")
    assert "Traceback" not in proc.stderr


def test_oracle_status__corrupt_database_exit_2_with_one_line(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"garbage" * 1000)
    proc = subprocess.run(
        [sys.executable, "-m", "wattnet.oracle", "status", "--database", str(bad)],
        capture_output=True, text=True, timeout=60,
    )
    assert proc.returncode == 2 and "is corrupt" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_oracle_status__reads_a_running_oracles_metrics_url() -> None:

    metrics = Metrics()
    metrics.inc("accepted", 5)
    metrics.set_gauges({"pending": 2})
    result = _status_from_metrics(metrics)
    assert result.exit_code == 0, result.output
    values = json.loads(result.output)["values"]
    assert values["wattnet_oracle_accepted_total"] == 5
    assert values["wattnet_oracle_pending"] == 2


def test_oracle_config__bad_settings_are_refused_with_clear_messages(tmp_path: Path) -> None:
    from wattnet.errors import ConfigError
    from wattnet.oracle.config import load_config

    cfg = tmp_path / "o.json"
    cfg.write_text(json.dumps({"chain_id": 1, "settlement_contract": CONTRACT, "prot": 1}))
    with pytest.raises(ConfigError, match="unknown oracle settings: \\['prot'\\]"):
        load_config(cfg)
    cfg.write_text(json.dumps({"chain_id": 1, "settlement_contract": "0x12"}))
    with pytest.raises(ConfigError, match="is not an address"):
        load_config(cfg)
    cfg.write_text(json.dumps({"chain_id": 1, "settlement_contract": CONTRACT,
                               "batcher": {"min_batch": 5, "max_batch": 2}}))
    with pytest.raises(ConfigError, match="min_batch <= max_batch"):
        load_config(cfg)
    with pytest.raises(ConfigError, match="cannot read oracle config"):
        load_config(tmp_path / "missing.json")
    ok = load_config(None, chain_id=5, settlement_contract=CONTRACT.lower(), port=9000)
    assert ok.port == 9000 and ok.settlement_contract == CONTRACT


def test_oracle_status__warns_about_expired_and_given_up_receipts(db: str) -> None:
    """Losses are quarantine reasons the batcher writes (losses.py); status counts and warns."""
    quiet = json.loads(CliRunner().invoke(oracle, ["status", "--database", db, "--json"]).output)
    assert quiet["warnings"] == [] and quiet["values"]["expired"] == 0
    store = open_store(db)
    with store.transaction() as tx:
        tx.execute("UPDATE receipts SET status = 'quarantined', reason = 'expired: settlement "
                   "window closed at 1 (session ended 0); rejected on chain as STALE' "
                   "WHERE status = 'pending'")
    store.close()
    result = CliRunner().invoke(oracle, ["status", "--database", db, "--json"])
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert out["values"]["expired"] == 1 and out["values"]["reverts_quarantined"] == 0
    assert out["values"]["quarantined"] == 2  # the plausibility one is no loss of the oracle's
    [warning] = out["warnings"]
    assert warning.startswith("1 acknowledged receipt(s) expired unpaid")
    table = CliRunner(env={"COLUMNS": "250"}).invoke(oracle, ["status", "--database", db])
    assert "warning: 1 acknowledged receipt(s) expired unpaid" in table.output


def test_oracle_status__warns_from_a_running_oracles_counters() -> None:

    metrics = Metrics()
    metrics.inc("expired", 2)
    metrics.inc("revert_quarantined", 1)
    result = _status_from_metrics(metrics)
    warnings = json.loads(result.output)["warnings"]
    assert len(warnings) == 2 and warnings[0].startswith("2 acknowledged receipt(s) expired")
    assert "kept reverting" in warnings[1]


def _status_from_metrics(metrics: Metrics) -> Any:
    """`wattnet oracle status --metrics-url` against a server that serves ``metrics``."""

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            body = metrics.render().encode()
            self.send_response(200)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = HTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        url = f"http://127.0.0.1:{server.server_port}/metrics"
        return CliRunner().invoke(oracle, ["status", "--metrics-url", url, "--json"])
    finally:
        server.shutdown()
