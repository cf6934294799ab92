"""``wattnet params``: DAO parameter changes from a change set (``changes/<name>.yaml``) through
the WattGovernor: ``diff``, ``propose``, ``vote``, ``queue``, ``execute``, ``status``, ``cancel``,
and ``table`` (what can be governed). ``scripts/params.py`` runs the same group under
``ape run params``.

Network: ``--network`` or ``$WATTNET_NETWORK`` (an Ape choice, default
``ethereum:local:foundry``); addresses from ``deployments/<ecosystem>/<network>.json`` only.
Sender: ``--account`` or ``$WATTNET_ACCOUNT`` (an Ape account alias; ``test:N`` on local
networks, where ``test:0`` is the default). Every user error is one line, exit status 2.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from typing import Any

import click
from rich.console import Console

from wattnet.cli.output import show
from wattnet.errors import ConfigError, WattNetError
from wattnet.governance.changeset import ChangeSet, load_change_set
from wattnet.governance.table import REGION_PREFIX

console = Console()
NETWORK_PARAMS = {"ethereum:local": "local", "ethereum:sepolia": "sepolia",
                  "arbitrum:sepolia": "arbitrum-sepolia", "arbitrum:mainnet": "arbitrum"}


class ParamsGroup(click.Group):
    """Turns every WattNet or Ape error into one line (also under ``ape run params``)."""

    def invoke(self, ctx: click.Context) -> Any:
        from ape.exceptions import ApeException

        try:
            return super().invoke(ctx)
        except WattNetError as exc:
            raise _UserError(str(exc)) from None
        except ApeException as exc:
            lines = str(exc).strip().splitlines()
            raise _UserError(lines[0] if lines else type(exc).__name__) from None
        except (click.ClickException, click.exceptions.Exit, click.Abort):
            raise
        except Exception as exc:  # a node that went away, a malformed answer: still one line
            if os.environ.get("WATTNET_DEBUG"):
                raise
            lines = str(exc).strip().splitlines()
            raise _UserError(f"{type(exc).__name__}: {lines[0] if lines else ''} "
                             "(WATTNET_DEBUG=1 for the traceback)") from None


class _UserError(click.ClickException):
    exit_code = 2

    def show(self, file: Any = None) -> None:
        click.echo(f"error: {self.format_message()}", err=True)


@dataclass(frozen=True, slots=True)
class Target:
    network: str
    params_name: str | None
    account: str | None


def _common(fn: Callable[..., Any]) -> Callable[..., Any]:
    fn = click.option("--params", "params_name", default=None,
                      help="params/<network>.yaml to validate against [default: the network's]"
                      )(fn)
    return click.option("--network", envvar="WATTNET_NETWORK", default="ethereum:local:foundry",
                        show_default=True, help="Ape network choice ($WATTNET_NETWORK).")(fn)


def _sender_option(fn: Callable[..., Any]) -> Callable[..., Any]:
    from wattnet.cli.params_safe import safe_options

    fn = safe_options(fn)
    return click.option("--account", envvar="WATTNET_ACCOUNT", default=None,
                        help="Ape account alias, or test:N on local networks ($WATTNET_ACCOUNT; "
                        "local default test:0).")(fn)


def _simulate_options(fn: Callable[..., Any]) -> Callable[..., Any]:
    for opt in (
        click.option("--simulate", is_flag=True, help="Run the economic model, current vs "
                     "proposed, and show the change in key outcomes."),
        click.option("--sim-runs", type=click.IntRange(1, 1_000), default=4, show_default=True),
        click.option("--sim-days", type=click.IntRange(7, 36_500), default=None,
                     help="[default: the params file's model.horizon_days]"),
        click.option("--sim-stations", type=click.IntRange(1, 1_000_000), default=None,
                     help="[default: the params file's model.stations]"),
        click.option("--sim-seed", type=int, default=0, show_default=True),
    ):
        fn = opt(fn)
    return fn


@contextmanager
def _view(network: str) -> Iterator[Any]:
    from wattnet.chain.deployments import ENV_DEPLOYMENT, load_deployment
    from wattnet.chain.localnode import ensure_foundry_host
    from wattnet.governance.client import ChainView, connected

    parts = network.split(":")
    if len(parts) < 2 or "://" in network:
        raise ConfigError(f"--network {network}: give an Ape choice ecosystem:network[:provider]")
    # before starting or dialing any node; $WATTNET_DEPLOYMENT names another record file
    deployment = load_deployment(None, None) if os.environ.get(ENV_DEPLOYMENT) else (
        load_deployment(parts[0], parts[1]))
    if network.endswith(":foundry"):
        ensure_foundry_host()
    with connected(network) as provider:
        yield ChainView(provider, deployment)


def _params_for(view: Any, name: str | None) -> Any:
    from wattnet.params import load_params

    d = view.deployment
    return load_params(name or NETWORK_PARAMS.get(f"{d.ecosystem}:{d.network}", d.network))


def _problems(change_set: ChangeSet, base: Any) -> dict[str, str]:
    """Each changed key checked on its own (for the table's bounds column)."""
    from wattnet.governance.changeset import proposed

    out: dict[str, str] = {}
    for key, value in change_set.changes.items():
        try:
            proposed(replace(change_set, changes={key: value}), base)
        except ConfigError as exc:
            out[key] = str(exc).split(": ", 1)[-1]
    return out


def _plan(view: Any, change_set: ChangeSet, params: Any, show_rejected: bool = False) -> Any:
    """The plan; if invalid, the one-line error (after the table of the offending rows when
    ``show_rejected``: ``diff``)."""
    from wattnet.cli.params_view import diff_table
    from wattnet.governance.changeset import overlay
    from wattnet.governance.proposals import make_plan

    try:
        return make_plan(view, change_set, params)
    except ConfigError:
        if not show_rejected:
            raise
        current = view.current(params, [k for k in change_set.changes
                                        if k.startswith(REGION_PREFIX)])
        base = overlay(params, current, f"{params.network} on chain")
        problems = _problems(change_set, base)
        if problems:
            show(console, diff_table(current, change_set.changes, problems,
                                     f"{change_set.source}: REJECTED"))
        raise


def _show_plan(plan: Any, sim: tuple[bool, int, int | None, int | None, int], as_json: bool,
               view: Any = None, markdown: bool = False) -> None:
    from wattnet.cli.params_output import plan_json
    from wattnet.cli.params_view import calls_lines, diff_table, outcomes_table
    from wattnet.governance.simulate import SimSettings, compare

    simulate, runs, days, stations, seed = sim
    rows = []
    settings = SimSettings(runs, days, stations, seed).sized_for(plan.before)
    if simulate:
        rows = compare(plan.before, plan.after, settings)
    if as_json:
        console.out(json.dumps(plan_json(plan, view, rows), indent=2, default=str),
                    highlight=False)
        return
    if markdown:
        from wattnet.governance.forum import plan_markdown
        from wattnet.governance.proposals import proposal_id

        d = view.deployment
        click.echo(plan_markdown(plan, network=f"{d.ecosystem}:{d.network}",
                                 proposal_id=proposal_id(view, plan), rows=rows,
                                 settings=settings), nl=False)
        return
    show(console, diff_table(plan.current, plan.proposed, {}, plan.change_set.source))
    click.echo("calls (through the timelock):")
    for line in calls_lines(plan.calls):
        click.echo(line)
    for note in plan.notes:
        click.echo(f"note: {note}")
    if simulate:
        show(console, outcomes_table(rows, settings))


@click.group("params", cls=ParamsGroup, context_settings={"help_option_names": ["-h", "--help"]})
def params() -> None:
    """DAO parameter changes: change sets, Governor proposals, votes, execution."""


@params.command("table")
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of a table.")
def table_cmd(as_json: bool) -> None:
    """Every governed parameter: contract, getter, setter, unit, bounds."""
    from wattnet.cli.params_view import governed_table
    from wattnet.governance.table import PARAMS, region_param

    if as_json:
        rows = [{"key": p.key, "contract": p.contract, "getter": p.getter, "setter": p.setter,
                 "unit": str(p.unit), "bounds": p.bounds, "contract_bounds": p.chain_bounds,
                 "note": p.note} for p in (*PARAMS, region_param("<prefix>"))]
        console.out(json.dumps(rows, indent=2), highlight=False)
        return
    show(console, governed_table())


@params.command("check")
@click.argument("change_set")
@click.option("--params", "params_name", default="local", show_default=True,
              help="params/<network>.yaml to validate against.")
def check_cmd(change_set: str, params_name: str) -> None:
    """Validate a change set against a params file (offline; no chain)."""
    from wattnet.governance.changeset import proposed
    from wattnet.params import load_params

    cs = load_change_set(change_set)
    _, values = proposed(cs, load_params(params_name))
    click.echo(f"{cs.source}: ok ({', '.join(f'{k}={v}' for k, v in values.items())})")


@params.command("diff")
@click.argument("change_set")
@_common
@_simulate_options
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--dry-run", "dry", is_flag=True,
              help="Also execute the calls as the timelock on a fork of the network (anvil "
              "--fork-url) and read the values back; exit status 1 if a call reverts or a "
              "value is not the proposed one.")
@click.option("--markdown", is_flag=True,
              help="Print a governance forum post: the change, its bounds, the simulated impact "
              "(with --simulate) and the calls.")
def diff_cmd(change_set: str, network: str, params_name: str | None, simulate: bool,
             sim_runs: int, sim_days: int | None, sim_stations: int | None, sim_seed: int,
             as_json: bool, dry: bool, markdown: bool) -> None:
    """Current on-chain values next to the proposed ones (nothing is sent to the network)."""
    if as_json and markdown:
        raise ConfigError("give --json or --markdown, not both")
    from wattnet.cli.params_output import print_dry_run

    cs = load_change_set(change_set)
    with _view(network) as view:
        plan = _plan(view, cs, _params_for(view, params_name),
                     show_rejected=not (as_json or markdown))
        _show_plan(plan, (simulate, sim_runs, sim_days, sim_stations, sim_seed), as_json, view,
                   markdown)
        if dry:
            print_dry_run(console, view, plan)



@params.command("propose")
@click.argument("change_set")
@_common
@_sender_option
@_simulate_options
@click.option("--yes", is_flag=True, help="Do not ask for confirmation (live networks).")
def propose_cmd(change_set: str, network: str, params_name: str | None, account: str | None,
                simulate: bool, sim_runs: int, sim_days: int | None,
                sim_stations: int | None, sim_seed: int, yes: bool) -> None:
    """Submit the change set to the Governor; prints the proposal id."""
    from wattnet.cli.params_safe import exported, sender_for
    from wattnet.governance.proposals import preflight, propose
    from wattnet.governance.records import short_id

    cs = load_change_set(change_set)
    with _view(network) as view:
        plan = _plan(view, cs, _params_for(view, params_name))
        sender = sender_for(view, account)
        preflight(view, sender, plan)
        _show_plan(plan, (simulate, sim_runs, sim_days, sim_stations, sim_seed), False)
        sends = getattr(sender, "executes", True)
        if view.deployment.network != "local" and not yes and sends:
            click.confirm(f"propose from {sender.address} on {network}?", abort=True)
        pid = propose(view, sender, plan)
        if exported(sender, view, f"propose {cs.name}"):
            click.echo(f"proposal id once executed: {pid} (short id {short_id(pid)})", err=True)
            return
    click.echo(f"proposal id: {pid} (short id {short_id(pid)})")


@params.command("vote")
@click.argument("proposal_id")
@click.argument("support", type=click.Choice(["for", "against", "abstain"]))
@click.option("--reason", default=None, help="Reason recorded with the vote.")
@_common
@_sender_option
def vote_cmd(proposal_id: str, support: str, reason: str | None, network: str,
             params_name: str | None, account: str | None) -> None:
    """Vote for, against or abstain with the sender's delegated WATT (PROPOSAL_ID: the full
    id or the short one of `params list`)."""
    from wattnet.cli.params_safe import exported, sender_for
    from wattnet.governance.client import watt
    from wattnet.governance.proposals import vote
    from wattnet.governance.records import resolve_id, short_id

    with _view(network) as view:
        pid = resolve_id(view, proposal_id)
        sender = sender_for(view, account)
        weight = vote(view, sender, pid, support, reason)
        if exported(sender, view, f"vote {support} on proposal {short_id(pid)}"):
            return
    click.echo(f"voted {support} on proposal {short_id(pid)} with {watt(weight)}")


@params.command("delegate")
@click.option("--to", "to", default=None, help="Delegate to this address [default: the sender].")
@_common
@_sender_option
def delegate_cmd(to: str | None, network: str, params_name: str | None,
                 account: str | None) -> None:
    """Delegate the sender's WATT votes (needed to propose and vote; counted from the next
    second on)."""
    from wattnet.cli.params_safe import exported, sender_for
    from wattnet.governance.client import watt
    from wattnet.governance.proposals import delegate

    with _view(network) as view:
        sender = sender_for(view, account)
        votes = delegate(view, sender, to)
        if exported(sender, view, f"delegate WATT votes to {to or sender.address}"):
            return
    click.echo(f"{to or sender.address} now has {watt(votes)} of votes")


def _step(name: str, doc: str) -> None:
    @params.command(name, help=doc + " PROPOSAL_ID: the full id or the short one of "
                    "`params list`.")
    @click.argument("proposal_id")
    @_common
    @_sender_option
    def cmd(proposal_id: str, network: str, params_name: str | None,
            account: str | None) -> None:
        from wattnet.cli.params_safe import exported, sender_for
        from wattnet.governance import proposals
        from wattnet.governance.client import when
        from wattnet.governance.records import resolve_id, short_id

        with _view(network) as view:
            pid = resolve_id(view, proposal_id)
            sender = sender_for(view, account)
            result = getattr(proposals, name)(view, sender, pid)
            if exported(sender, view, f"{name} proposal {short_id(pid)}"):
                return
            now = view.now()
        if name == "queue":
            click.echo(f"queued proposal {short_id(pid)}; executable from {when(result, now)}")
        elif name == "execute":
            click.echo(f"executed proposal {short_id(pid)}")
        else:
            click.echo(f"proposal {short_id(pid)}: {result}")


_step("queue", "Queue a succeeded proposal in the timelock.")
_step("execute", "Execute a queued proposal once the timelock delay has passed.")
_step("cancel", "Cancel: the proposer while Pending (once queued a proposal runs; the "
      "guardian has no veto).")


@params.command("status")
@click.argument("proposal_id")
@_common
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
def status_cmd(proposal_id: str, network: str, params_name: str | None, as_json: bool) -> None:
    """State, votes, quorum, deadlines, eta and the calls of a proposal (PROPOSAL_ID: the full
    id or the short one of `params list`)."""
    from wattnet.cli.params_view import status_table
    from wattnet.governance.proposals import status
    from wattnet.governance.records import resolve_id

    with _view(network) as view:
        s = status(view, resolve_id(view, proposal_id))
    if as_json:
        console.out(json.dumps(s, indent=2, default=str), highlight=False)
        return
    show(console, status_table(s))


from wattnet.cli.params_guardian import pause_cmd, unpause_cmd  # noqa: E402
from wattnet.cli.params_list import list_cmd  # noqa: E402  (commands of this group)

for _cmd in (list_cmd, pause_cmd, unpause_cmd):
    params.add_command(_cmd)
