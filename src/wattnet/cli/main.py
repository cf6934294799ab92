"""Root of the ``wattnet`` CLI.

Each command lives in its own module and is listed in ``_COMMANDS`` as (module, attribute);
modules are imported only when their command runs, so ``wattnet -h`` stays fast.
User errors (any ``WattNetError``) exit with status 2 and one line; never a traceback.
"""

from __future__ import annotations

import importlib
import sys
from typing import Any

import click
from rich.console import Console

from wattnet.errors import WattNetError

_COMMANDS: dict[str, tuple[str, str, str]] = {
    # name: (module, attribute, one-line help)
    "app": ("wattnet.cli.app", "app", "Serve the web app and its read API; prints the URL."),
    "demo": ("wattnet.cli.demo", "demo", "Run the main job: a local network end to end."),
    "gateway": (
        "wattnet.cli.gateway",
        "gateway",
        "Edge gateway: OCPP 1.6/2.0.1 central system for one site.",
    ),
    "index": ("wattnet.cli.index", "index", "Event indexer: contract logs into the store."),
    "ocpi": ("wattnet.cli.ocpi", "ocpi", "OCPI 2.2.1 CPO: run, token-a, partners."),
    "oracle": ("wattnet.cli.oracle", "oracle", "Settlement oracle: run, status, quarantine."),
    "params": (
        "wattnet.cli.params",
        "params",
        "DAO parameter changes: diff, propose, vote, queue, execute, status, cancel.",
    ),
    "station": (
        "wattnet.cli.station",
        "station",
        "Station operators: stake, register, show, set a tariff, rotate the station key.",
    ),
    "sim": (
        "wattnet.cli.sim",
        "sim",
        "Token-economy model (Monte Carlo, scenarios, sweeps) and network simulation.",
    ),
}

err_console = Console(stderr=True, soft_wrap=True)


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted(_COMMANDS)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name not in _COMMANDS:
            return None
        module, attr, _ = _COMMANDS[name]
        command: click.Command = getattr(importlib.import_module(module), attr)
        return command

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, help_) for name, (_, _, help_) in sorted(_COMMANDS.items())]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="wattnet")
def cli() -> None:
    """WattNet: decentralized EV charging (gateway, oracle, contracts, simulator)."""


def main(argv: list[str] | None = None) -> Any:
    try:
        return cli.main(args=argv, standalone_mode=False)
    except click.exceptions.Abort:
        err_console.print("aborted")
        sys.exit(130)
    except click.ClickException as exc:
        err_console.print(f"error: {exc.format_message()}", markup=False)
        sys.exit(exc.exit_code)
    except WattNetError as exc:
        err_console.print(f"error: {exc}", markup=False)
        sys.exit(2)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)


if __name__ == "__main__":
    main()
