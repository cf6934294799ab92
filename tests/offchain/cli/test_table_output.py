"""Tables at 80 columns and in pipes (issue 17, item 11): nothing collapses, every header and
cell is there in full; piped output is tab-separated."""

from __future__ import annotations

import io

import pytest
from click.testing import CliRunner
from rich.console import Console

from wattnet.cli.output import cells, show
from wattnet.cli.params import params as params_cli
from wattnet.cli.params_view import governed_table, status_table
from wattnet.governance.table import PARAMS


def render(width: int, terminal: bool, table: object) -> str:
    buf = io.StringIO()
    console = Console(file=buf, width=width, force_terminal=terminal, color_system=None)
    show(console, table)  # type: ignore[arg-type]
    return buf.getvalue()


@pytest.mark.parametrize("width", [60, 80, 100])
def test_narrow_terminal__every_header_and_cell_in_full(width: int) -> None:
    table = governed_table()
    headers, rows = cells(table)
    out = render(width, True, table)
    for header in headers[1:]:
        assert out.count(f"  {header}: ") >= len(PARAMS) // 2  # not squeezed away
    for row in rows:
        for cell in row:
            if cell:
                assert cell in out  # nothing truncated with "…"
    assert "…" not in out


def test_wide_terminal__the_table_itself() -> None:
    out = render(220, True, governed_table())
    assert "┃ parameter" in out and "contract bounds" in out


def test_pipe__tab_separated_with_title_comment_and_header() -> None:
    res = CliRunner().invoke(params_cli, ["table"])
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert lines[0] == "# Governed parameters (params/<network>.yaml keys)"
    assert lines[1].split("\t") == ["parameter", "set by", "unit", "params bounds",
                                    "contract bounds"]
    body = [ln.split("\t") for ln in lines[2:]]
    assert len(body) == len(PARAMS) + 3  # + region, treasury share, schedule
    assert all(len(fields) == 5 for fields in body)
    assert body[0][0] == PARAMS[0].key and "[" not in res.output  # no markup left


def test_headerless_table__key_value_lines() -> None:
    s = {"id": 1, "short_id": "00000000", "state": "Active", "description": "# x\nmore",
         "proposer": "0xabc", "now": 100, "vote_start": 50, "vote_end": 200, "eta": 0,
         "votes": {"for": 10**18, "against": 0, "abstain": 0}, "quorum": 10**18,
         "calls": ["EnergyCredits.setShares(7800, 500)"]}
    piped = render(80, False, status_table(s))
    assert "state\tActive" in piped and "call 1\tEnergyCredits.setShares(7800, 500)" in piped
    narrow = render(30, True, status_table(s))
    assert "state: Active" in narrow
