"""`wattnet demo`: the main job, a local network end to end."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from wattnet.errors import ChainError


@click.command(name="demo")
def demo() -> None:
    """Deploy WattNet to a local anvil, run a scripted scenario, print the resulting state."""
    from wattnet.sim.demo import run_demo

    console = Console()
    with console.status("starting anvil") as status:

        def progress(text: str) -> None:
            console.log(text)
            status.update(text)

        try:
            s = run_demo(progress=progress)
        except (OSError, RuntimeError) as exc:
            raise ChainError(
                f"the local chain failed: {exc}; is anvil installed (run `make setup`)?"
            ) from exc

    t = Table(title=f"WattNet on local anvil (chain id {s.chain_id})")
    t.add_column("contract")
    t.add_column("address")
    for name, addr in s.contracts.items():
        t.add_row(name, addr)
    console.print(t)

    st = s.settlement
    console.print(
        f"[bold]Settlement[/bold]: {st['settled']} of {st['receipts']} receipts paid in one batch "
        f"({st['energy_kwh']:.1f} kWh, {st['cost_usdc']:.2f} USDC, "
        f"{st['gas_per_session']:,} gas/receipt); "
        f"rejected: {', '.join(st['rejected']) or 'none'}"
    )
    sl = s.slash
    console.print(
        f"[bold]Equivocation[/bold]: {sl['station']} signed two receipts for one session; operator "
        f"slashed {sl['slashed_watt']:,.0f} WATT, reporter bounty {sl['bounty_watt']:,.0f} WATT, "
        f"operator suspended: {sl['suspended']}"
    )
    t = Table(title="stations (epoch 0)")
    for col in ("station", "operator", "reward weight", "in good standing"):
        t.add_column(col)
    for row in s.stations:
        t.add_row(row["station"], row["operator"], f"{row['weight']:,}", str(row["active"]))
    console.print(t)
    t = Table(title="drivers")
    for col in ("driver", "credits (USDC)", "wallet USDC"):
        t.add_column(col)
    for row in s.drivers:
        t.add_row(row["driver"], f"{row['credits_usdc']:.2f}", f"{row['usdc']:.2f}")
    console.print(t)
    console.print(
        f"[bold]Rewards[/bold]: epoch 0 emission "
        f"{s.rewards['epoch_emission_watt']:,.0f} WATT; claimed "
        + ", ".join(f"{a[:10]}… {v:,.2f}" for a, v in s.rewards["claimed_watt"].items())
    )
    e = s.escrow
    ok = e["usdc_held"] == e["credits_outstanding"] + e["pending_redemptions"] + e["owed_payouts"]
    console.print(
        f"[bold]Escrow[/bold]: {e['usdc_held']:,} held = {e['credits_outstanding']:,} credits + "
        f"{e['pending_redemptions']:,} redeeming + {e['owed_payouts']:,} owed: "
        + ("[green]balanced[/green]" if ok else "[red]MISMATCH[/red]")
    )
    if not ok:
        raise ChainError("escrow does not balance; this is a bug, please report it")
