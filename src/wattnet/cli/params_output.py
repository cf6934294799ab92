"""What ``wattnet params diff`` prints besides its table: the JSON (calls, the propose calldata,
a Safe Transaction Builder batch) and the dry run on a fork."""

from __future__ import annotations

from typing import Any

import click
from rich.console import Console

from wattnet.cli.output import show
from wattnet.errors import ConfigError


def plan_json(plan: Any, view: Any, rows: list[Any]) -> dict[str, Any]:
    from wattnet.governance.export import calls_json, propose_calldata, safe_batch

    d = view.deployment
    return {
        "change_set": plan.change_set.source, "description": plan.description,
        "network": f"{d.ecosystem}:{d.network}", "chain_id": d.chain_id,
        "current": {k: plan.current.get(k) for k in plan.proposed},
        "proposed": plan.proposed, "calls": calls_json(plan.calls, plan.targets),
        "propose": {"target": view.governor_address,
                    "function": "propose(address[],uint256[],bytes[],string)", "value": "0",
                    "calldata": "0x" + propose_calldata(plan.targets, plan.calldatas,
                                                        plan.description).hex()},
        "safe_transaction_builder": safe_batch(
            chain_id=d.chain_id, governor=view.governor_address, targets=plan.targets,
            calldatas=plan.calldatas, description=plan.description,
            name=plan.change_set.name, created_at_ms=view.now() * 1000),
        "notes": plan.notes, "simulation": [r.to_dict() for r in rows]}


def print_dry_run(console: Console, view: Any, plan: Any) -> None:
    """``diff --dry-run``: the fork's tables, then one line; exit status 1 on a problem."""
    from wattnet.cli.params_view import dry_run_tables
    from wattnet.governance.dryrun import dry_run, matches

    url = getattr(view.provider, "http_uri", None) or getattr(view.provider, "uri", None)
    if not url:
        raise ConfigError("--dry-run: the connected provider has no HTTP URL to fork")
    run = dry_run(str(url), view.deployment, plan)
    for table in dry_run_tables(run, plan.proposed, plan.current):
        show(console, table)
    wrong = [k for k, v in plan.proposed.items() if matches(k, v, run.after.get(k)) is False]
    if run.reverted or wrong:
        click.echo(f"error: dry run: {len(run.reverted)} call(s) reverted, {len(wrong)} "
                   "value(s) not as proposed (tables above)", err=True)
        raise click.exceptions.Exit(1)
    click.echo(f"dry run: {len(run.calls)} call(s) executed on a fork, every value as proposed")
