"""Printing tables so they survive narrow terminals and pipes.

* Not a terminal (a pipe, a file, a test runner): tab-separated lines, the title as a ``# ``
  comment first, then the header, then one line per row, markup removed and nothing truncated;
  ``cut -f2``, ``awk -F'\\t'`` and spreadsheets read it as is.
* A terminal too narrow for the table (rich would squeeze columns to nothing: empty headers):
  one block per row, ``column: value`` lines under the row's first cell.
* Otherwise the rich table.
"""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text


def _plain(cell: object) -> str:
    if isinstance(cell, Text):
        return cell.plain
    if isinstance(cell, str):
        return Text.from_markup(cell).plain
    return str(cell)


def cells(table: Table) -> tuple[list[str], list[list[str]]]:
    """(headers, rows) of ``table`` as plain text."""
    headers = [_plain(c.header) for c in table.columns]
    columns = [[_plain(x) for x in c._cells] for c in table.columns]
    return headers, [list(r) for r in zip(*columns, strict=True)] if columns else []


def tsv(table: Table) -> str:
    headers, rows = cells(table)
    clean = [[v.replace("\t", " ").replace("\n", " ") for v in r] for r in rows]
    lines = [f"# {_plain(table.title)}"] if table.title else []
    if table.show_header:
        lines.append("\t".join(headers))
    lines += ["\t".join(r) for r in clean]
    return "\n".join(lines)


def records(table: Table) -> str:
    headers, rows = cells(table)
    out = [_plain(table.title)] if table.title else []
    for row in rows:
        out.append("")
        out.append(row[0] if table.show_header else f"{row[0]}: {row[1] if len(row) > 1 else ''}")
        if table.show_header:
            out += [f"  {h}: {v}" for h, v in zip(headers[1:], row[1:], strict=True) if v]
    return "\n".join(out)


def fits(console: Console, table: Table) -> bool:
    """Whether every column gets at least its longest word (its longest cell if it does not
    wrap) and its header: below that rich squeezes columns to nothing or mid-word."""
    headers, rows = cells(table)
    need = 1  # the left border
    for i, col in enumerate(table.columns):
        values = [r[i] for r in rows]
        longest = max((len(v) for v in values), default=0) if col.no_wrap else max(
            (len(w) for v in values for w in v.split()), default=0)
        need += max(longest, len(headers[i])) + 3  # padding and the border after
    return need <= console.width


def show(console: Console, table: Table) -> None:
    """Print ``table`` as described in the module docstring."""
    if not console.is_terminal:
        console.file.write(tsv(table) + "\n")  # as is: rich would expand the tabs
    elif fits(console, table):
        console.print(table)
    else:
        console.out(records(table), highlight=False)
