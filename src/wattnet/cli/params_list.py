"""``wattnet params list``: every proposal on the Governor with its short id and state."""

from __future__ import annotations

import json

import click

from wattnet.cli.output import show
from wattnet.cli.params import _common, _view, console


@click.command("list")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def list_cmd(network: str, params_name: str | None, as_json: bool) -> None:
    """Every proposal, oldest first: short id (what the other commands accept), state, title,
    proposer, and when voting ends or it may execute."""
    from wattnet.cli.params_view import proposals_table
    from wattnet.governance.records import all_proposals, short_id, state_of

    with _view(network) as view:
        rows = [{"short_id": short_id(p.id), "id": str(p.id), "state": state_of(view, p.id),
                 "title": p.description.splitlines()[0].lstrip("# ") if p.description else "",
                 "proposer": p.proposer, "vote_end": int(view.governor.proposalDeadline(p.id)),
                 "eta": int(view.governor.proposalEta(p.id))}
                for p in all_proposals(view)]
        now = view.now()
    if as_json:
        console.out(json.dumps(rows, indent=2), highlight=False)
        return
    if not rows:
        click.echo("no proposals yet (wattnet params propose <change set>)")
        return
    show(console, proposals_table(rows, now))
