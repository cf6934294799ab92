"""``wattnet params pause`` (the guardian) and ``wattnet params unpause`` (a Governor proposal:
only the timelock unpauses early); docs/runbooks/pause.md. Both take ``--safe``."""

from __future__ import annotations

import click

from wattnet.cli.params import _common, _sender_option, _view


@click.command("pause")
@_common
@_sender_option
def pause_cmd(network: str, params_name: str | None, account: str | None) -> None:
    """Guardian: pause EnergyCredits (buying credits, settlement, completing redemptions; owed
    payouts stay withdrawable). The pause ends by itself after 14 days; `params unpause`
    proposes an earlier end."""
    from wattnet.cli.params_safe import exported, sender_for
    from wattnet.governance.client import when
    from wattnet.governance.guardian import pause

    with _view(network) as view:
        sender = sender_for(view, account)
        ends = pause(view, sender)
        if exported(sender, view, "pause EnergyCredits"):
            return
        click.echo(f"EnergyCredits paused by {sender.address}; the pause ends by itself "
                   f"{when(ends, view.now())}")


@click.command("unpause")
@click.option("--reason", required=True, help="Why (the proposal's description).")
@_common
@_sender_option
def unpause_cmd(reason: str, network: str, params_name: str | None,
                account: str | None) -> None:
    """Propose to unpause EnergyCredits now (a Governor proposal: vote, queue, execute it with
    the other `params` commands)."""
    from wattnet.cli.params_safe import exported, sender_for
    from wattnet.governance.guardian import propose_unpause
    from wattnet.governance.records import short_id

    with _view(network) as view:
        sender = sender_for(view, account)
        pid = propose_unpause(view, sender, reason)
        if exported(sender, view, "propose to unpause EnergyCredits"):
            click.echo(f"proposal id once executed: {pid} (short id {short_id(pid)})", err=True)
            return
    click.echo(f"proposal id: {pid} (short id {short_id(pid)})")
