"""``python -m wattnet.oracle run ...``: the ``wattnet oracle`` group without the root CLI
(the kill -9 tests start the oracle this way). User errors exit 2 with one line."""

from __future__ import annotations

import sys

import click
from rich.console import Console

from wattnet.cli.oracle import oracle
from wattnet.errors import WattNetError


def main() -> None:
    try:
        oracle.main(args=sys.argv[1:], prog_name="python -m wattnet.oracle", standalone_mode=False)
    except click.ClickException as exc:
        Console(stderr=True).print(f"error: {exc.format_message()}", markup=False)
        sys.exit(exc.exit_code)
    except WattNetError as exc:
        Console(stderr=True).print(f"error: {exc}", markup=False)
        sys.exit(2)


if __name__ == "__main__":
    main()
