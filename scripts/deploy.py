"""``ape run deploy --network <ecosystem>:<network>[:<provider>]``: deploy the governed protocol,
hand every admin role to the timelock, check everything, and write
``deployments/<ecosystem>/<network>.json`` step by step (a re-run resumes).

Networks: ``ethereum:local`` (default; an anvil started by ape-foundry), ``ethereum:sepolia``,
``arbitrum:sepolia``, ``arbitrum:mainnet``, and each as ``<network>-fork`` (ape-foundry fork of
that network's node). Configuration comes from the environment or ``.env``: see
docs/runbooks/deploy.md and :mod:`wattnet.chain.deploy_target`. Exit status: 0 when every
post-deploy check passed, 1 when a check failed, 2 on a user error (one line, no traceback).
"""

from __future__ import annotations

import os
import re
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from wattnet.chain.localnode import ensure_foundry_host

ANSI = re.compile(r"\x1b\[[0-9;?]*[ -/]*[@-~]")


@click.command(short_help="Deploy WattNet with governance, then check it")
@click.option("--network", "network_choice", default="ethereum:local:foundry", show_default=True,
              help="ecosystem:network[:provider]")
@click.option("--params", "params_path", default=None,
              help="params file or network name (default: the network's params/<name>.yaml)")
@click.option("--record", "record_path", type=click.Path(path_type=Path), default=None,
              help="deployment record (default: deployments/<ecosystem>/<network>.json)")
@click.option("--yes", is_flag=True, help="skip the confirmation prompt (or WATTNET_DEPLOY_YES=1)")
@click.option("--no-verify", is_flag=True, help="skip explorer verification")
def cli(network_choice: str, params_path: str | None, record_path: Path | None, yes: bool,
        no_verify: bool) -> None:
    from ape.exceptions import ApeException

    from wattnet.chain.deploy_run import run_deploy
    from wattnet.errors import WattNetError

    # errors stay on one line whatever the terminal width; the table gets room when piped
    console = Console() if sys.stdout.isatty() else Console(width=160)
    errors = Console(stderr=True, soft_wrap=True)
    ensure_foundry_host()
    try:
        outcome = run_deploy(console, network_choice, params_path=params_path,
                             record_path=record_path, yes=yes, verify=not no_verify)
    except (WattNetError, ApeException) as exc:
        _fail(errors, str(exc).splitlines()[0])
    except (KeyboardInterrupt, click.Abort):
        _fail(errors, "interrupted; re-run the same command to resume")
    except Exception as exc:  # never a traceback for the user; the record allows resuming
        if os.environ.get("WATTNET_DEBUG"):
            raise
        first = (str(exc).splitlines() or [""])[0]
        _fail(errors, f"{type(exc).__name__}: {first} (re-run the same command to resume)")
    if not outcome.ok:
        failed = sum(not c.ok for c in outcome.checks)
        _fail(errors, f"{failed} post-deploy check(s) failed (table above)", status=1)
    console.print(f"[green]deployed and checked[/]; record: {outcome.record_path}")


def _fail(errors: Console, message: str, status: int = 2) -> None:
    """One line on stderr (no markup, no emoji codes, no terminal escapes from Ape's own
    messages, no wrapping), then exit."""
    errors.print(Text.assemble(("error: ", "red"), ANSI.sub("", message)))
    sys.exit(status)
