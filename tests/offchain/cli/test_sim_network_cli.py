"""`wattnet sim network` refuses bad input with one line and exit status 2, before it starts
anything (no anvil, no service, no file written)."""

from __future__ import annotations

from pathlib import Path

import pytest

from wattnet.cli.main import main


@pytest.mark.parametrize(("args", "message"), [
    (["--chargers", "0"], "--chargers 0 is out of range 1..20000"),
    (["--drivers", "-3"], "--drivers -3 is out of range 1..200000"),
    (["--days", "400"], "--days 400 is out of range 1..365"),
    (["--from-state", "no/such/state.json"], "--from-state no/such/state.json: no such file"),
    (["--rpc-url", "127.0.0.1:8545"], "must be an http(s):// URL"),
    (["--rpc-url", "http://127.0.0.1:1", "--from-state", "x"], "not both"),
    (["--params", "atlantis"], "atlantis"),
    (["--chargers", "many"], "'many' is not a valid integer"),
])
def test_network__bad_input_is_one_line_and_exit_2(
        args: list[str], message: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exc:
        main(["sim", "network", "--workdir", str(tmp_path / "work"), *args])
    err = capsys.readouterr().err
    assert exc.value.code == 2
    assert message in err.replace("\n", " ") and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1
    assert not (tmp_path / "work").exists()  # nothing started, nothing written
