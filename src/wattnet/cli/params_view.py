"""Rich tables of ``wattnet params``: the governed-parameter table, a change set's diff, the
simulated outcomes and a proposal's status."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from rich.table import Table

from wattnet.governance.client import watt, when
from wattnet.governance.schedule import show
from wattnet.governance.simulate import fmt_outcome
from wattnet.governance.table import (
    PARAMS,
    SCHEDULE_KEY,
    TREASURY_SHARE,
    Call,
    lookup,
    region_param,
    same_value,
)


def governed_table() -> Table:
    """The governed keys and their setters (getters and notes: ``--json``)."""
    table = Table(title="Governed parameters (params/<network>.yaml keys)", title_justify="left")
    table.add_column("parameter", no_wrap=True)
    table.add_column("set by", no_wrap=True)
    for col in ("unit", "params bounds", "contract bounds"):
        table.add_column(col)
    for p in (*PARAMS, region_param("<prefix>")):
        table.add_row(p.key, f"{p.contract}.{p.setter.split('(')[0]}", str(p.unit), p.bounds,
                      p.chain_bounds)
    table.add_row(TREASURY_SHARE, "(derived: 10000 - operator - referrer)", "bps",
                  "0..10000 bps", "-")
    table.add_row(SCHEDULE_KEY, "RewardsEngine.setSchedule", "WATT/epoch",
                  "sum <= cap - genesis", "<= maxEmission")
    return table


def diff_table(current: Mapping[str, Any], proposed: Mapping[str, Any],
               problems: Mapping[str, str], title: str) -> Table:
    """parameter | current on chain | proposed | unit | within bounds (and what is allowed)."""
    table = Table(title=title, title_justify="left")
    table.add_column("parameter", no_wrap=True)
    table.add_column("current", justify="right")
    table.add_column("proposed", justify="right")
    table.add_column("unit")
    table.add_column("within bounds")
    for key, value in proposed.items():
        param = lookup(key)
        schedule = key.startswith(SCHEDULE_KEY)
        unit = str(param.unit) if param else ("WATT/epoch" if schedule else "bps")
        allowed = param.bounds if param else (
            "cap - genesis supply; contract maxEmission" if schedule else "the rest of 10000")
        if param and param.chain_bounds != "-":
            allowed += f"; contract {param.chain_bounds}"
        problem = problems.get(key)
        verdict = f"[green]yes[/] ({allowed})" if problem is None else f"[red]no[/]: {problem}"
        shown = _show(value)
        if same_value(key, value, current.get(key)):
            shown += " (no change)"
        table.add_row(key, _show(current.get(key, "-")), shown, unit, verdict)
    return table


_show = show


def calls_lines(calls: list[Call]) -> list[str]:
    """What the proposal sends, one line per call."""
    out = []
    for c in calls:
        if c.keys == (SCHEDULE_KEY,):
            from_epoch, phases = c.args
            out.append(f"  {c.contract}.setSchedule({len(phases)} phases from epoch "
                       f"{from_epoch}: {phases})")
            continue
        args = ", ".join(a.rstrip(b"\x00").decode() if isinstance(a, bytes) else str(a)
                         for a in c.args)
        out.append(f"  {c.contract}.{c.signature.split('(')[0]}({args})")
    return out


_num = fmt_outcome

def outcomes_table(rows: list[Any], settings: Any) -> Table:
    table = Table(title=f"Economic model, current vs proposed: {settings.runs} runs x "
                        f"{settings.stations:,} stations x {settings.days} days, scenario "
                        f"{settings.scenario}, seed {settings.seed} (medians)")
    for col in ("outcome", "unit", "current", "proposed", "change"):
        table.add_column(col, justify="left" if col in ("outcome", "unit") else "right")
    for r in rows:
        delta = r.delta
        shown = "" if delta == 0 else ("+" if delta > 0 else "") + _num(delta)
        table.add_row(r.label, r.unit, _num(r.current), _num(r.proposed), shown)
    return table


def status_table(s: Mapping[str, Any]) -> Table:
    now = int(s["now"])
    votes = s["votes"]
    table = Table(title=f"Proposal {s['id']}", show_header=False)
    table.add_column("field")
    table.add_column("value")
    first = str(s["description"]).splitlines()[0] if s["description"] else ""
    table.add_row("state", f"[bold]{s['state']}[/]")
    table.add_row("description", first)
    table.add_row("proposer", str(s["proposer"]))
    table.add_row("voting starts", when(int(s["vote_start"]), now))
    table.add_row("voting ends", when(int(s["vote_end"]), now))
    table.add_row("executable from (eta)", when(int(s["eta"]), now))
    table.add_row("votes for / against / abstain",
                  f"{watt(votes['for'])} / {watt(votes['against'])} / {watt(votes['abstain'])}")
    table.add_row("quorum (for + abstain)", watt(int(s["quorum"])))
    for i, call in enumerate(s["calls"]):
        table.add_row(f"call {i + 1}", call)
    return table


def proposals_table(rows: Sequence[Mapping[str, Any]], now: int) -> Table:
    """``params list``: short id, state, title, and the next date that matters."""
    table = Table(title="Proposals (oldest first)", title_justify="left")
    table.add_column("id", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("change")
    table.add_column("next", no_wrap=False)
    for r in rows:
        state = str(r["state"])
        nxt = {"Pending": "voting starts soon", "Active": f"voting ends {when(r['vote_end'], now)}",
               "Succeeded": "queue it", "Queued": f"executable from {when(r['eta'], now)}"
               }.get(state, "-")
        table.add_row(str(r["short_id"]), state, str(r["title"]), nxt)
    return table


def dry_run_tables(run: Any, proposed: Mapping[str, Any], current: Mapping[str, Any]
                   ) -> tuple[Table, Table]:
    """``diff --dry-run``: each call's result on the fork, then each value read back."""
    from wattnet.governance.dryrun import matches

    calls = Table(title=f"Dry run: the calls as the timelock on a fork (block {run.fork_block})",
                  title_justify="left")
    for col in ("call", "target", "result", "gas"):
        calls.add_column(col, no_wrap=col in ("call", "gas"))
    for c in run.calls:
        calls.add_row(c.call, c.target, f"[red]reverted[/]: {c.error}" if c.error else
                      "[green]executed[/]", f"{c.gas:,}" if c.gas else "-")
    values = Table(title="Dry run: read back on the fork", title_justify="left")
    for col in ("parameter", "now", "proposed", "after execution", "as proposed"):
        values.add_column(col, no_wrap=col == "parameter")
    for key, value in proposed.items():
        ok = matches(key, value, run.after.get(key))
        verdict = "-" if ok is None else ("[green]yes[/]" if ok else "[red]no[/]")
        values.add_row(key, _show(current.get(key, "-")), _show(value),
                       _show(run.after.get(key, "-")), verdict)
    return calls, values
