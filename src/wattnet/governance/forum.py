"""A proposal as Markdown for a governance forum post (``wattnet params diff --markdown``):
what changes and why, each value against its bounds, the simulated impact (with ``--simulate``),
and the exact calls with their targets and calldata, so readers can check them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from wattnet.governance.export import calls_json
from wattnet.governance.records import short_id
from wattnet.governance.schedule import show
from wattnet.governance.simulate import fmt_outcome
from wattnet.governance.table import lookup


def _cell(value: Any) -> str:
    text = show(value)
    return text.replace("|", "\\|").replace("\n", " ")


def plan_markdown(plan: Any, *, network: str, proposal_id: int, rows: Sequence[Any] = (),
                  settings: Any = None) -> str:
    out = [f"# {plan.change_set.name}", "", plan.change_set.description, "",
           f"Network: `{network}`. Change set: `{plan.change_set.source}`. Proposal id once "
           f"proposed: `{proposal_id}` (short id `{short_id(proposal_id)}`).",
           "", "## The change", "",
           "| parameter | on chain now | proposed | unit | allowed | contract accepts |",
           "|---|---:|---:|---|---|---|"]
    for key, value in plan.proposed.items():
        param = lookup(key)
        out.append(f"| `{key}` | {_cell(plan.current.get(key, '-'))} | {_cell(value)} | "
                   f"{param.unit if param else '-'} | {param.bounds if param else '-'} | "
                   f"{param.chain_bounds if param else '-'} |")
    if rows:
        out += ["", "## Simulated impact", "",
                f"The economic model (`wattnet sim model`), {settings.runs} runs x "
                f"{settings.stations:,} stations x {settings.days} days, scenario "
                f"`{settings.scenario}`, seed {settings.seed}, medians; the same seeds for both "
                "columns.", "", "| outcome | unit | current | proposed | change |",
                "|---|---|---:|---:|---:|"]
        for r in rows:
            delta = "" if r.delta == 0 else ("+" if r.delta > 0 else "") + fmt_outcome(r.delta)
            out.append(f"| {r.label} | {r.unit} | {fmt_outcome(r.current)} | "
                       f"{fmt_outcome(r.proposed)} | {delta} |")
    out += ["", "## Calls (executed by the timelock)", ""]
    for i, call in enumerate(calls_json(plan.calls, plan.targets), 1):
        out += [f"{i}. `{call['contract']}.{call['function']}` at `{call['target']}`, "
                f"arguments `{', '.join(map(str, call['args']))}`, value 0", "",
                "   ```", f"   {call['calldata']}", "   ```", ""]
    if not plan.calls:
        out.append("None: every value is already on chain.")
    out += [f"- {note}" for note in plan.notes]
    return "\n".join(out).rstrip() + "\n"
