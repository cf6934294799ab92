"""docs/runbooks/key-rotation.md (station key) run command by command against the local chain:
`wattnet gateway new-key`, `wattnet station stake/register/show/rotate-key/set-tariff`; then
that receipts signed by the rotated-out key are rejected and the new key's settle. Failures are
one line naming the contract error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from wattnet.chain.batch_codec import pack_batch
from wattnet.chain.deploy import WAD
from wattnet.chain.eip712 import Domain, receipt_digest
from wattnet.cli.main import main
from wattnet.domain import RejectReason, SessionReceipt, station_id_for
from wattnet.gateway.signer import KeystoreSigner

PASS = "station-runbook-passphrase"
CP = "RUNBOOK-CP-1"


def wattnet(*argv: str) -> None:
    main(list(argv))


def fails(capsys: pytest.CaptureFixture[str], *argv: str) -> str:
    capsys.readouterr()
    with pytest.raises(SystemExit) as exc:
        main(list(argv))
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip()
    assert "\n" not in err and "Traceback" not in err
    return err


def show(capsys: pytest.CaptureFixture[str]) -> dict[str, Any]:
    capsys.readouterr()
    wattnet("station", "show", CP, "--json")
    data: dict[str, Any] = json.loads(capsys.readouterr().out)
    return data


def test_station_key_rotation_runbook(
        deployment: Any, protocol: Any, credit_id: int, operator2: Any, treasury: Any,
        driver: Any, create_driver: Any, oracle: Any, chain: Any, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    operator = operator2
    keys = tmp_path / "keys"
    keys.mkdir()
    op_keystore = keys / "operator.json"
    op_keystore.write_text(json.dumps(Account.encrypt(operator.private_key, PASS, kdf="scrypt",
                                                      iterations=4)))
    monkeypatch.setenv("WATTNET_KEYSTORE_PASSPHRASE", PASS)
    monkeypatch.setenv("WATTNET_OPERATOR_PASSPHRASE", PASS)
    monkeypatch.setenv("WATTNET_OPERATOR_KEYSTORE", str(op_keystore))
    protocol.watt.transfer(operator, 2_000 * WAD, sender=treasury)

    # Before: stake, a first station key, registration.
    wattnet("station", "stake", "1000")
    wattnet("gateway", "new-key", str(keys / "cp1.json"), "--scrypt-n", "4")
    wattnet("station", "register", CP, "--signer-keystore", str(keys / "cp1.json"),
            "--power-w", "22000", "--geohash", "u0yjj", "--tariff", "350000")
    old = KeystoreSigner.from_file(keys / "cp1.json", PASS)
    assert show(capsys)["signer"] == old.address

    # The runbook: a new key, rotate, check.
    wattnet("gateway", "new-key", str(keys / "cp1-new.json"), "--scrypt-n", "4")
    wattnet("station", "rotate-key", CP, "--signer-keystore", str(keys / "cp1-new.json"))
    new = KeystoreSigner.from_file(keys / "cp1-new.json", PASS)
    info = show(capsys)
    assert (info["signer"], info["operator"], info["usable"]) == (new.address, operator.address,
                                                                   True)

    # On chain: the old key's receipts are rejected, the new key's settle.
    create_driver(driver)
    chain.pending_timestamp += 2 * 3_600
    domain = Domain(int(chain.chain_id), protocol.credits.address)
    now = chain.pending_timestamp
    items = []
    for session, signer in ((1, old), (2, new)):
        r = SessionReceipt(station_id_for(CP), session, 1, driver.address, credit_id, 5_000,
                           now - 3_000, now - 600, 5_000 * 350_000 // 1000)
        items.append((r, signer.sign_digest(receipt_digest(domain, r))))
    tx = protocol.credits.settlePacked(pack_batch(items), sender=oracle)
    rejected = [(int(e.sessionId), int(e.reason))
                for e in tx.decode_logs(protocol.credits.ReceiptRejected)]
    assert rejected == [(1, int(RejectReason.BAD_SIGNATURE))]
    assert protocol.credits.isSettled(station_id_for(CP), 2)

    # Refusals are one line naming the contract's error and values.
    err = fails(capsys, "station", "rotate-key", CP, "--signer-keystore",
                str(keys / "cp1.json"))
    assert "RegistrySignerInUse" in err and old.address in err
    err = fails(capsys, "station", "set-tariff", CP, "--tariff", "400000")
    assert "RegistryTariffCooldown" in err
    err = fails(capsys, "station", "show", "NO-SUCH-CP")
    assert "is not registered" in err
    monkeypatch.setenv("WATTNET_OPERATOR_PASSPHRASE", "wrong")
    err = fails(capsys, "station", "stake", "1")
    assert "cannot decrypt keystore" in err
